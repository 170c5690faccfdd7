"""The store's schema: every table, in one place (the repositories and the migrations use it).

Tables by role:

- content: ``articles`` (one per source + key), ``translations`` (one per article +
  language, with its review state), ``translate_state`` (per language, the settings its translations' source
  languages follow, and the articles still to redo since they changed), ``memory`` (the
  segment translation memory), ``stats`` (running counters);
- review: ``corrections`` (editors' translations of segments), ``review_log`` (every
  editor's change), ``translation_segments`` (each translation's segments, in reading
  order), ``segment_use`` (which articles hold a segment);
- sources: ``source_state`` (validators, resume point, how it was read, last poll),
  ``reported_problem`` (problems already logged, so a recurring one is logged once per
  change);
- feed history (RFC 5005): ``feed_state``, ``feed_log``, ``archive_pages``,
  ``archive_documents``;
- publication: ``changes`` (the store's change counter), ``publish_state`` and
  ``published_file`` (what the last publish of a language was made from, so the next
  one renders only what changed), ``publish_outcome`` (whether it succeeded),
  ``retired_language`` (languages whose outputs were removed), ``article_filter`` (which
  articles a source's keyword filters publish);
- WebSub: ``websub_subscription``, ``websub_hub``;
- the cluster: ``cluster_tasks`` (deliveries per task, the tasks given up).

Change tracking: every write that changes an article or a translation stamps the row's
``seq`` with a fresh number from :func:`next_change` (taken in the same transaction), so
"what changed since publish N" is one indexed query, on SQLite and PostgreSQL alike.

Versioned migrations live in ``syndicate/store/migrations`` (Alembic); a change here
needs a new revision there.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    or_,
    update,
)
from sqlalchemy.engine import Connection

#: Constraint names fixed by convention, so migrations can name what they alter.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("key", String(1000), nullable=False),
    Column("slug", String(120), nullable=False, unique=True),
    Column("url", Text),
    Column("title", Text, nullable=False),
    # JSON: {"blocks": [...], "attributions": [...], "meta": {...}}; rows written before typed
    # blocks hold {"paragraphs": [...]} instead and are read as paragraph blocks.
    Column("body", Text, nullable=False),
    Column("prev_url", Text),
    Column("prev_title", Text),
    Column("next_url", Text),
    Column("next_title", Text),
    Column("language", String(35)),
    Column("published", DateTime(timezone=True)),
    Column("content_hash", String(64), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    # The store's change number of the last write that changed this row (see `changes`).
    Column("seq", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("source", "key", name="uq_article_source_key"),
)


translations = Table(
    "translations",
    metadata,
    Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("language", String(35), primary_key=True),
    Column("engine", String(40), nullable=False),
    Column("model", Text, nullable=False, default=""),
    Column("title", Text, nullable=False),
    # JSON: {"blocks"|"paragraphs": [...], "attributions": [...], "notes": [...], "tags": [...], ...}
    Column("body", Text, nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("seq", Integer, nullable=False, default=0, server_default="0"),
    # Segments left in the source language (Translation.untranslated, also kept in the
    # body): a translation with any is retried, so this is what `pending_translation` reads.
    Column("untranslated", Integer, nullable=False, default=0, server_default="0"),
    # Translation.confidence (0-1, NULL: no engine said): publishing holds back or marks
    # entries under the language's threshold, and the status page sums it, from this column.
    Column("confidence", Float, nullable=True),
    # Translation.rules: a digest of the protected terms, code revisions and models it was
    # made under; a translation whose digest differs from today's is redone.
    Column("rules", String(64), nullable=False, default="", server_default=""),
    # Review (syndicate/review): who approved it last, when, and for which version of the
    # source (its source_hash then): approval holds while the source text stays the same.
    Column("reviewed_by", String(200), nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Column("reviewed_hash", String(64), nullable=True),
    # Segments an editor's correction made, and segments whose correction no longer fits
    # the changed source (machine translated again, "needs review").
    Column("corrected", Integer, nullable=False, default=0, server_default="0"),
    Column("needs_review", Integer, nullable=False, default=0, server_default="0"),
)


#: Per language, the settings that decide which language its articles are translated
#: from (a digest of work._translate_fingerprint), and the articles whose translation
#: came from another one when those settings last changed, still to be redone. A change
#: is found once (from light columns); its articles stay listed until their translation
#: is current, whatever stops, kills or fails the passes in between.
translate_state = Table(
    "translate_state",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("recheck", Text, nullable=False, default="[]", server_default="[]"),  # JSON: article ids
)


memory = Table(
    "memory",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256 of engine|model|src|tgt|segment[|rules]
    Column("engine", String(40), nullable=False),
    Column("model", Text, nullable=False),
    Column("source_language", String(35), nullable=False),
    Column("target_language", String(35), nullable=False),
    Column("source_text", Text, nullable=False),
    Column("target_text", Text, nullable=False),
    # A rejected row records that this engine's output failed a quality guard, so the
    # segment goes straight to the next engine instead of being re-translated each run.
    Column("rejected", String(200), nullable=False, default=""),
    Column("created", DateTime(timezone=True), nullable=False),
    # What the segment's translation depended on besides its text (its protected terms;
    # service.rules_digest), part of the key: "" for rows made before it counted.
    Column("rules", String(64), nullable=False, default="", server_default=""),
    # The engine's own confidence in it (0-1; NULL: none given) and the words it did not know.
    Column("confidence", Float, nullable=True),
    Column("unknown", Text, nullable=False, default="", server_default=""),
)


#: Editors' corrections: a human translation of one source segment into one language,
#: which wins over every engine and the memory wherever the same segment occurs.
corrections = Table(
    "corrections",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256 of source language|target|segment
    Column("source_language", String(35), nullable=False),
    Column("target_language", String(35), nullable=False),
    Column("source_text", Text, nullable=False),
    Column("target_text", Text, nullable=False),
    Column("editor", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("article_id", Integer, nullable=True),  # the entry it was made on (context only)
)

#: Every change an editor made (corrections, approvals, imports), never rewritten.
review_log = Table(
    "review_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("editor", String(200), nullable=False),
    Column("action", String(20), nullable=False),  # correct, approve, reopen, withdraw
    Column("language", String(35), nullable=False),
    Column("article_id", Integer, nullable=True),
    Column("source_text", Text, nullable=True),
    Column("old_text", Text, nullable=True),
    Column("new_text", Text, nullable=True),
    Column("via", String(20), nullable=False, default="", server_default=""),  # page, api, cli, xliff
)

#: Each translation's segments in reading order (JSON list, see rows.segment_json): what
#: an editor reviews. Kept apart from ``translations`` so the light columns publishing
#: scans over every row do not walk twice the body's pages.
translation_segments = Table(
    "translation_segments",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("segments", Text, nullable=False),
)

#: Which translated articles hold which source segment: what a correction reaches.
segment_use = Table(
    "segment_use",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("digest", String(32), primary_key=True),  # segment_digest(source text)
    Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


#: Per article of a source with keyword filters ([[sources]] include / exclude): whether
#: it is published, decided under which filters (their digest) from which content (its
#: hash), and why not. A missing row, or one decided under other filters or content, is
#: decided again; a row whose decision changed stamps its article's ``seq``, so
#: publishing adds or removes the entry. Articles of sources without filters have none.
article_filter = Table(
    "article_filter",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("rules", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("kept", Boolean, nullable=False),
    Column("reason", Text, nullable=False, default="", server_default=""),
)


#: Counts kept as the work happens (see :mod:`syndicate.store.counts`), each moved in the
#: transaction of the write it counts: what the status page shows without a scan.
#: Stored translations per language, engine and model.
translation_counts = Table(
    "translation_counts",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("engine", String(40), primary_key=True),
    Column("model", Text, primary_key=True),
    Column("translations", Integer, nullable=False, default=0),
)

#: Articles per source.
article_counts = Table(
    "article_counts",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("articles", Integer, nullable=False, default=0),
)

#: Per language and source, the translations that are current (nothing left untranslated,
#: made from the article's content): the rest of the source's articles wait for a pass.
current_counts = Table(
    "current_counts",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("source", String(200), primary_key=True),
    Column("translations", Integer, nullable=False, default=0),
)


stats = Table(
    "stats",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("engine", String(40), primary_key=True),
    Column("name", String(40), primary_key=True),  # translated, memory_hits, guard_failures, ...
    Column("value", Integer, nullable=False, default=0),
)


#: Publishes that failed, per language: how many in a row (0 once one succeeds again), in
#: all, when and why the last failed, when publishing recovered; so a failed publish shows on
#: /status, in ``status`` and in the metrics, not only in the log of the process that met
#: it. Written only when a publish fails or first succeeds again: never on the hot path.
publish_outcome = Table(
    "publish_outcome",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("failures_in_row", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("recovered", DateTime(timezone=True)),
)


#: Languages no longer configured whose outputs a publish removed: when, and how many
#: files. Their translations, memory and feed history stay: configured again, a language
#: is published again from them (and its row here goes).
retired_language = Table(
    "retired_language",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("retired", DateTime(timezone=True), nullable=False),
    Column("files_removed", Integer, nullable=False, default=0),
)


websub_subscription = Table(
    "websub_subscription",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("hub", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("pending", String(20)),  # the hub.mode we asked for and have not seen verified
    Column("requested", DateTime(timezone=True)),
    Column("lease_seconds", Integer),
    Column("expires", DateTime(timezone=True)),
    Column("last_delivery", DateTime(timezone=True)),
    Column("deliveries", Integer, nullable=False, default=0),
    Column("last_error", Text),
)


websub_hub = Table(
    "websub_hub",
    metadata,
    Column("hub", String(1000), primary_key=True),
    Column("last_ping", DateTime(timezone=True)),
    Column("last_success", DateTime(timezone=True)),
    Column("outcome", String(20)),  # "ok" or "failed"
    Column("last_error", Text),
    Column("pings_ok", Integer, nullable=False, default=0),
    Column("pings_failed", Integer, nullable=False, default=0),
)


source_state = Table(
    "source_state",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("cursor", Text, nullable=False, default="{}"),  # JSON: the source's resume point, as the source wrote it
    # How the state above was read (work._reader_fingerprint): a poll under another
    # fingerprint ignores it and reads the source in full. NULL: never polled.
    Column("reader", String(64)),
    Column("last_poll", DateTime(timezone=True)),
    Column("last_success", DateTime(timezone=True)),
    Column("duration", Float),  # seconds the last poll took
    Column("outcome", String(20)),
    Column("items_new", Integer, nullable=False, default=0),
    Column("items_updated", Integer, nullable=False, default=0),
    Column("items_failed", Integer, nullable=False, default=0),
    Column("next_poll", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("failures_in_row", Integer, nullable=False, default=0),
    Column("polls", Integer, nullable=False, default=0),
)


#: A problem already reported: what it was about and a fingerprint of its inputs.
reported_problem = Table(
    "reported_problem",
    metadata,
    Column("scope", String(200), primary_key=True),  # a source's name, or "translate"
    Column("subject", String(500), primary_key=True),  # the item's key, or a language pair
    Column("fingerprint", String(64), nullable=False),
)


feed_state = Table(
    "feed_state",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("next_seq", Integer, nullable=False),
)


feed_log = Table(
    "feed_log",
    metadata,
    Column("language", String(35), primary_key=True),
    Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, nullable=False),  # order of first publication in this language
    Column("page", Integer),  # archive page; NULL while in the subscription feed
    UniqueConstraint("language", "seq", name="uq_feed_log_language_seq"),
)


archive_pages = Table(
    "archive_pages",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("page", Integer, primary_key=True),  # 1 = oldest
    Column("capacity", Integer, nullable=False),
)


archive_documents = Table(
    "archive_documents",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("page", Integer, primary_key=True),
    Column("format", String(16), primary_key=True),  # "atom", "rss", "json"
    Column("body", LargeBinary, nullable=False),
    # The document's size when ``body`` holds it zlib-compressed (revision 0016: frozen
    # pages were most of a long history's store); NULL: ``body`` is the document itself.
    Column("size", Integer),
)


# -- change tracking and publication --------------------------------------------------

changes = Table(
    "changes",
    metadata,
    Column("name", String(40), primary_key=True),  # "store": the one counter
    Column("value", Integer, nullable=False),
)

#: What the last publish of a language was made from.
publish_state = Table(
    "publish_state",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("seq", Integer, nullable=False),  # the store's change number it saw
    Column("fingerprint", String(64), nullable=False),  # settings and languages it used
    # JSON {folder: mtime_ns} of the output folders it wrote, right after: unchanged
    # folders mean no file in them was added, removed or replaced since.
    Column("folders", Text, nullable=False, default="{}", server_default="{}"),
    # JSON: what the next publish must find unchanged to publish only what changed
    # (syndicate.publish.delta): the languages published together, chain links or not.
    Column("plan", Text),
)

#: One row per output file a publish wrote: the digest of the inputs it was rendered from.
published_file = Table(
    "published_file",
    metadata,
    Column("language", String(35), primary_key=True),  # "" for the site-wide index and OPML
    Column("path", String(1000), primary_key=True),  # relative to the output root
    Column("article_id", Integer),  # the entry a page shows; NULL for feeds and indexes
    Column("digest", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("lastmod", String(40)),  # a sitemap file's newest entry (W3C datetime)
)

# -- the cluster's task bookkeeping (syndicate/cluster/ledger.py) ----------------------

cluster_tasks = Table(
    "cluster_tasks",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("task", String(64), nullable=False),
    Column("args", Text, nullable=False),
    Column("deliveries", Integer, nullable=False),
    #: running (started, not finished), retrying (failed, will run again), failed (given up)
    Column("state", String(16), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("first_started", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

Index("ix_articles_seq", articles.c.seq)
# The order of the news (publish/ordering.rank for articles no chain relates), read a
# chunk at a time newest first by each publish's news window: without it the database
# sorted every article for each chunk (0.1 s at 100,000; revision 0014).
Index(
    "ix_articles_rank",
    func.coalesce(articles.c.published, articles.c.first_seen).desc(),
    articles.c.first_seen.desc(),
    articles.c.id.desc(),
)
Index("ix_translations_seq", translations.c.seq)
Index("ix_review_log_language", review_log.c.language, review_log.c.article_id)
# Storing a translation replaces its article's rows in one language: with article_id
# alone, SQLite read every row of the language through the primary key (revision 0013).
Index("ix_segment_use_article_language", segment_use.c.article_id, segment_use.c.language)
# A publish reads a language's open page (page IS NULL) and the archive pages it touches
# (page IN ...): by (language) alone that read every entry of the language (revision 0015).
Index("ix_feed_log_page", feed_log.c.language, feed_log.c.page)
# Whether any article names a neighbour (a publish asks, to know whether a change can be
# published alone): without it, when none does, the answer read every article (30 ms at
# 100,000). Only the articles that name one are in it (revision 0017).
LINKED = or_(
    articles.c.prev_url.is_not(None),
    articles.c.prev_title.is_not(None),
    articles.c.next_url.is_not(None),
    articles.c.next_title.is_not(None),
)
Index("ix_articles_linked", articles.c.id, sqlite_where=LINKED, postgresql_where=LINKED)


def next_change(conn: Connection) -> int:
    """A new change number, unique and increasing, taken inside the caller's transaction.

    The UPDATE takes SQLite's write lock, or the counter row's lock on PostgreSQL, so two
    writers never get the same number and a rolled-back write gives its number back.
    """
    value = conn.execute(
        update(changes).where(changes.c.name == "store").values(value=changes.c.value + 1).returning(changes.c.value)
    ).scalar_one_or_none()
    if value is None:  # a store older than change tracking: the counter starts here
        conn.execute(changes.insert().values(name="store", value=1))
        return 1
    return int(value)
