"""Translated article pages, language indexes, the feed index (Jinja2, autoescaped), OPML."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from lxml import etree
from markupsafe import Markup, escape

from syndicate.config import Settings
from syndicate.errors import PublishError
from syndicate.publish.edition import Edition, FeedEntry, ListedEntry, language_name
from syndicate.publish.formats import FORMATS, OPML_FORMAT
from syndicate.publish.history import FeedPage, index_path
from syndicate.publish.i18n import catalogue, describe_model, words

logger = logging.getLogger(__name__)

#: (format, media type, label) of every feed, in the order pages list them.
PAGE_FEEDS = tuple((fmt.name, fmt.media_type, fmt.label) for fmt in FORMATS.values())


#: The territory OpenGraph readers expect for a bare language ("es" -> "es_ES").
_OG_TERRITORY = {
    "en": "US",
    "es": "ES",
    "ca": "ES",
    "gl": "ES",
    "eu": "ES",
    "fr": "FR",
    "de": "DE",
    "it": "IT",
    "pt": "PT",
    "nl": "NL",
    "ru": "RU",
    "uk": "UA",
    "pl": "PL",
    "ja": "JP",
    "zh": "CN",
    "ar": "AR",
    "eo": "EO",
    "oc": "FR",
    "el": "GR",
    "bg": "BG",
    "sr": "RS",
    "sv": "SE",
    "da": "DK",
    "fi": "FI",
    "nb": "NO",
    "cs": "CZ",
    "tr": "TR",
    "ko": "KR",
    "hi": "IN",
}


def og_locale(code: str) -> str:
    """An OpenGraph locale (``language_TERRITORY``) for a BCP 47 tag."""
    parts = code.replace("_", "-").split("-")
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    language = parts[0].lower()
    region = region or _OG_TERRITORY.get(language)
    return f"{language}_{region}" if region else language


@lru_cache(maxsize=32)
def _env(state_dir: Path | None = None, language: str = "en", templates_dir: Path | None = None) -> Environment:
    """The templates' environment for pages in ``language`` (its catalogue installed for
    ``_()``/``ngettext()``); with ``templates_dir``, the operator's templates there win
    over the bundled ones. With ``state_dir``, compiled templates are kept in its
    ``cache/templates`` (Jinja checks each against its template's source), so a process
    that renders one page does not compile every template first."""
    loader: BaseLoader = PackageLoader("syndicate.publish", "templates")
    if templates_dir is not None:
        if not templates_dir.is_dir():
            raise PublishError(
                f"the templates folder {templates_dir} does not exist",
                hint="create it, or remove [publish] templates_dir to use the bundled templates",
            )
        loader = ChoiceLoader([FileSystemLoader(str(templates_dir)), loader])
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(state_dir),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(catalogue(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["language_name"] = language_name
    env.globals["og_locale"] = og_locale
    env.globals["feed_formats"] = PAGE_FEEDS
    env.globals["words"] = words(language)
    env.globals["words_for"] = words
    env.globals["describe_model"] = describe_model
    return env


def _templates_dir(settings: Settings) -> Path | None:
    folder = settings.publish.templates_dir
    return settings.resolve(folder) if folder is not None else None


class _SpareBytecodeCache(FileSystemBytecodeCache):
    """Jinja2's compiled templates in the state folder, as a saving only: a folder that
    cannot take them (full, read-only) means templates compile each time, never a failed
    publish (Jinja2 raises the OSError from deep in get_template)."""

    def dump_bytecode(self, bucket: Any) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            logger.debug("compiled template not kept in %s: %s", self.directory, exc)


def _bytecode_cache(state_dir: Path | None) -> FileSystemBytecodeCache | None:
    if state_dir is None:
        return None
    folder = state_dir / "cache" / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only state folder: compile each time (the publish reports the folder)
        return None
    return _SpareBytecodeCache(str(folder))


def page_bytes(settings: Settings, edition: Edition, entry: FeedEntry) -> bytes:
    """One translated article page, in its language's words, saying how it was translated."""
    from syndicate.publish.feeds import translation_info

    return (
        _env(settings.state_dir, edition.language, _templates_dir(settings))
        .get_template("page.html")
        .render(
            entry=entry,
            edition=edition,
            language=edition.language,
            site_title=settings.site.title,
            rights=settings.site.rights,
            translation=translation_info(settings, entry),
        )
        .encode("utf-8")
    )


def language_index_bytes(settings: Settings, page: FeedPage) -> bytes:
    """A page of a language's index (``translations/<lang>/index.html``, the newest
    entries, or ``archive/<n>.html``, an older page's): its articles, links to the older
    and newer pages, the feeds and the other languages."""
    edition = page.edition
    template = _env(settings.state_dir, edition.language, _templates_dir(settings)).get_template("language.html")
    base = edition.page_index_url
    newer = None
    if page.number is not None:
        newer = urljoin(base, index_path(page.next_archive)) if page.next_archive is not None else base
    return template.render(
        edition=edition,
        page=page,
        listing=_listing(page.members),
        total=edition.size,
        url=urljoin(base, index_path(page.number)) if page.number is not None else base,
        older_url=urljoin(base, index_path(page.prev_archive)) if page.prev_archive is not None else None,
        newer_url=newer,
    ).encode("utf-8")


def _listing(listing: Sequence[ListedEntry]) -> Markup:
    """The index's ``<li>`` per entry, built here rather than in a template loop: a page
    of thousands of articles renders in milliseconds instead of a third of a second.
    Escaped exactly as the template's autoescape would (markupsafe), every link and title
    in one call: escaping is per character, so escaping the joined texts is joining the
    escaped ones (unless a text holds the separator, when each is escaped alone)."""
    texts = [text for e in listing for text in (e.page_url, e.title)]
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) == len(texts) - 1:
        escaped = str(escape(joined)).split(_SEPARATOR) if texts else []
    else:
        escaped = [str(escape(text)) for text in texts]
    items = []
    for i, e in enumerate(listing):
        when = e.published_iso  # digits and "-:+T." only: nothing to escape; its first 10 are the day
        items.append(
            f'\n<li><a href="{escaped[2 * i]}">{escaped[2 * i + 1]}</a> <time datetime="{when}">{when[:10]}</time></li>'
        )
    return Markup("".join(items))


#: Between the texts :func:`_listing` escapes at once: a character markupsafe leaves alone.
_SEPARATOR = "\x00"


def opml_url(settings: Settings) -> str:
    return settings.feeds_url + "opml.xml"


def index_bytes(settings: Settings, editions: Sequence[Edition]) -> bytes:
    """``feeds/index.html``: every language's feeds, as links and as ``<link>`` tags."""
    return (
        _env(settings.state_dir, settings.site.source_language, _templates_dir(settings))
        .get_template("index.html")
        .render(
            editions=editions,
            site_title=settings.site.title,
            source_language=settings.site.source_language,
            opml_url=opml_url(settings),
        )
        .encode("utf-8")
    )


def opml_bytes(settings: Settings, editions: Sequence[Edition]) -> bytes:
    """``feeds/opml.xml`` (OPML 2.0): one subscription per language, to import into a reader."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = f"{settings.site.title}: feeds"
    if settings.site.author:
        etree.SubElement(head, "ownerName").text = settings.site.author
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(opml, "body")
    for edition in editions:
        etree.SubElement(
            body,
            "outline",
            type="rss",  # OPML's word for any feed
            text=edition.title,
            title=edition.title,
            xmlUrl=edition.feed_url(OPML_FORMAT),
            htmlUrl=edition.page_index_url,
            language=edition.language,
            version="ATOM1" if OPML_FORMAT == "atom" else "RSS2",
        )
    return bytes(etree.tostring(opml, pretty_print=True, xml_declaration=True, encoding="UTF-8"))
