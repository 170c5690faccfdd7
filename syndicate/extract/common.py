"""Pieces shared by the text and HTML readers: attribution lines, chrome, whitespace."""

from __future__ import annotations

import html
import re
from functools import lru_cache

import regex

from syndicate.errors import PatternTimeout
from syndicate.models import Attribution

PREVIOUS_LABELS = frozenset(
    {"previous article", "previous", "prev article", "« previous article", "← previous article"}
)
NEXT_LABELS = frozenset({"next article", "next", "next article »", "next article →"})


_SPACES = re.compile(r"\s+")


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space and strip."""
    return _SPACES.sub(" ", text).strip()


_NOT_WORDS = re.compile(r"\W+")


def compact(text: str) -> str:
    """Text without case, spaces, punctuation or soft hyphens: how two renderings of one
    text on a page are compared (sites change quotes, dashes and spacing between them)."""
    return _NOT_WORDS.sub("", text.casefold())


#: Characters a kicker fused to the headline has at most ("Umbau des Weissen Hauses").
KICKER = 40


def is_headline(text: str, title: str) -> bool:
    """Whether ``text`` is the article's headline: the title itself, or with the section
    kicker the page sets before it in the same element ("Chile:Ex-Präsident stirbt ...").
    A heading that goes on after the title ("...: what we know") is the story's."""
    if not title:
        return False
    have, want = compact(text), compact(title)
    if not want or len(have) > len(want) + KICKER:
        return False
    return have == want or (len(want) >= 20 and have.endswith(want))


def label_key(text: str) -> str:
    return squash(text).casefold().strip(" :»«←→")


_PREVIOUS_KEYS = frozenset(label_key(x) for x in PREVIOUS_LABELS)
_NEXT_KEYS = frozenset(label_key(x) for x in NEXT_LABELS)
#: Longer text (once stripped) is never a label, and is not worth normalising: extraction
#: asks about every element of a page.
_LONGEST_LABEL = 200


def is_previous_label(text: str) -> bool:
    text = text.strip()
    return len(text) <= _LONGEST_LABEL and label_key(text) in _PREVIOUS_KEYS


def is_next_label(text: str) -> bool:
    text = text.strip()
    return len(text) <= _LONGEST_LABEL and label_key(text) in _NEXT_KEYS


@lru_cache(maxsize=32)
def _chrome_keys(chrome_lines: tuple[str, ...]) -> tuple[frozenset[str], int]:
    """The normalised chrome lines, and a length past which no text can be one of them."""
    longest = max((len(line) for line in chrome_lines), default=0)
    return frozenset(label_key(line) for line in chrome_lines), max(_LONGEST_LABEL, 2 * longest)


#: Lines a page prints around its story that are never the story, in the languages our
#: sources publish in: ad and sponsor labels, share and gift prompts, "updated 14 hours ago"
#: stamps and lines that are only a date and time, reading times, bylines ("By Jane
#: Smith and Ali Khan, Reuters": names only, each capitalised; the authors are the page's
#: metadata), comment counts ("12 comments", "1个回答"), a date with a poster's line
#: after it ("2023-06-14 · 分享身边故事"); a forum's or Q&A site's buttons ("关注", "展开全部",
#: "只看该作者", a Japanese news site's "ブックマーク", "印刷", "すべて見る"), a teaser's
#: relative stamp ("1時間前", "3小时前", "2 hours ago", "vor 5 Minuten") and posters'
#: counters ("回答量：4932", "查看: 3481|回复: 3", CJK labels only: "Servings: 4" is a
#: recipe's); a gallery's counter ("1/12", "1 - 15 / 7"),
#: a lone separator ("|") and a line of tags ("Themen: Weihnachten, Pullover"); the
#: heading of related reading ("Lese-Empfehlung", "Related stories") and a teaser line
#: ("Lesen Sie hier: <another story's headline>", "Read more: ..."; its label alone too);
#: "Copy link", "Show comments", "Jump to navigation", "Von:" with no name after it, a
#: "Close" button, a Unix time ("1692003712"), a video's "02:57 Min.. Verfügbar bis ...";
#: empty or dated date labels ("公開日： 更新日："), a page turner ("次ページ→ ..."), a
#: follower count ("16.7万");
#: a site's copyright line ("Copyright @ 2026 Media Group. All Rights Reserved", "<Copyright
#: ⓒ 한국일보. All rights reserved. 무단 전재 및 재배포 금지>"), a Korean byline ("박준석 기자 외
#: 1명", "순천, 광양 구현모 기자 ninek@hankookilbo.com"); a
#: prompt to report an error ("Fehler gefunden? Jetzt melden."); "Stand: 15.04.2024" and
#: a date run into its reading time ("15.04.2026 - 15:48 UhrLesedauer: 2 Min.").
#: Matched on a whole short paragraph only (never inside text). Photo credits are not
#: among them: a republished picture keeps its credit.
_LABEL_LINES = regex.compile(
    r"""^[•·|■◆●▶]?\s*(?:
        (?:advertisement|advertising|ad|ads|anuncio|sponsored|sponsored\ content|paid\ content|anzeige|werbung|
           publicidad|publicité|pubblicità|publicidade|reklama|reklam|реклама|реклама\ на\ сайте|annons|annonse|
           annonce|mainos|hirdetés|advertentie|publicitate|διαφήμιση|
           广告|広告|광고|إعلان|פרסומת)
          (?:\s*[-–—:|·]\s*(?:continue\ reading\ below|story\ continues\ below|scroll\ to\ continue(?:\ with\ content)?|
             weiterlesen\ nach\ der\ anzeige|lesen\ sie\ weiter))?
      | fehler\ gefunden\?(?:\s*jetzt\ melden)?|spotted\ an?\ (?:error|mistake)\?(?:\s*(?:let\ us\ know|report\ it))?
      | (?:share|share\ this|share\ this\ article|share\ this\ story|share\ on\ \w+|tweet|teilen|artikel\ teilen|
           partager|compartir|condividi|compartilhar|udostępnij|поделиться|分享|シェア|공유|
           gift\ this\ article|artikel\ verschenken|regala\ esta\ noticia|offrir\ cet\ article|regala\ l'articolo|
           copy\ link|link\ kopieren|copier\ le\ lien|copiar\ enlace|copia\ link|कॉपी\ लिंक|リンクをコピー)
      | (?:show|view)\ (?:all\ )?comments|kommentare\ anzeigen|afficher\ les\ commentaires|mostrar\ comentarios|
        ver\ comentarios|mostra\ commenti|jump\ to\ (?:search|navigation|content)|skip\ to\ (?:main\ )?content|
        zum\ inhalt\ springen|weitere\ videos|more\ videos|von:|by:|
        mit\ meiner\ anmeldung\ zum\ newsletter\ [^\n]{1,80}
      | (?:©\s*copyright|copyright\s*©)\ (?![^\n]*(?:licen[cs]|lizenz|creative\ commons|cc\ by))[^\n]{1,80}
      | [^\n]{0,40}rechte\ am\ artikel\ können\ sie\ hier\ erwerben
      | \d{10}(?:\d{3})?|\d{1,2}:\d{2}(?::\d{2})?
      | close|schließen|schliessen|fermer|cerrar|chiudi|fechar|закрыть|关闭|閉じる|닫기
      | \d{1,2}:\d{2}\s*min\.*\s*(?:verfügbar\ bis|available\ until|disponible\ jusqu'au)\ [^\n]{1,30}
      | (?:updated|last\ updated|published|posted|aktualisiert|zuletzt\ aktualisiert|veröffentlicht|
           mis\ à\ jour|publié|actualizado|publicado|aggiornato|pubblicato|atualizado|zaktualizowano|
           обновлено|опубликовано)
          (?:\ (?:on|am|le|el|il|em|at))?:?\ (?=[^\n]{0,60}$)
          (?=[^\n]*(?:\d|\bago\b|\bvor\b|\bhace\b|\bil\ y\ a\b|\bfa\b|\bhá\b))
          (?=\d|heute|gestern|today|yesterday|vor\b|hace\b|il\ y\ a\b|fa\b|há\b|
             (?:\p{L}{3,10}\.?,?\ )?\p{L}{3,10}\.?\ \d)[^\n]*
      | stand\s*:\s*\d{1,2}\.\s?(?:\d{1,2}\.|\p{L}+)\s?(?:\d{2,4})?[^\n]{0,30}
      | (?:publiziert|erschienen)\ (?:am|um|heute|gestern)\ (?=[^\n]{0,50}$)(?=[^\n]*\d)[^\n]*
      | (?:lesezeit|lesedauer|reading\ time|read\ time|temps\ de\ lecture|tiempo\ de\ lectura|tempo\ di\ lettura|
           tempo\ de\ leitura|czas\ czytania|время\ чтения)\s*:?\s*(?:ca\.\s*)?\d{1,3}\s*
          (?:min\.?|minuten?|minutes?|minutos?|minuti|minut|мин\.?|минут[аы]?)
      | \d{1,3}\s*(?:min\.?|minutes?|minuten?)\ (?:read|lesezeit|lecture|de\ lectura|di\ lettura)
      | (?=[^\n]*\d{1,4}[./-]\d{1,2}[./-]\d{1,4})[\d\s./:|,–-]{6,40}
          (?:\s*(?:uhr|h|am|pm|et|cet|cest|mez|mesz|utc|gmt|min\.?))?
          (?:\s*(?:lesedauer|lesezeit|reading\ time)\s*:?\s*\d{1,3}\s*(?:min\.?|minuten?|minutes?))?
      | (?:von|by|par|por|di|av|af|door|od|от)\ (?-i:\p{Lu}[\p{L}.'’-]*(?:\ \p{Lu}[\p{L}.'’-]*){0,3}
          (?:\s*(?:,|und|and|et|y|e|&|og|och|en|i|и)\s*\p{Lu}[\p{L}.'’-]*(?:\ \p{Lu}[\p{L}.'’-]*){0,3}){0,5})
          (?:\s*[,|/·•–-]\s*[\p{L}\d .:|/-]{1,40})?
      | \d{1,3}\s*(?:[-–]\s*\d{1,3}\s*)?/\s*\d{1,3}
      | [|•·—–]{1,3}
      | (?:themen|schlagwörter|schlagworte|stichwörter|tags|topics|mots-clés|etiquetas|argomenti|etiketler|tagi|
           štítky|теги|emneord|标签|タグ|태그)
          (?:\s*[:：]\s*[^\n]{0,80})?
      | thema
      | [<\[(]?\s*(?:copyright|©|ⓒ|\(c\))[^\n]{0,80}?(?:all\ rights\ reserved|alle\ rechte\ vorbehalten|
           tous\ droits\ réservés|todos\ los\ derechos\ reservados|tutti\ i\ diritti\ riservati|
           todos\ os\ direitos\ reservados|wszelkie\ prawa\ zastrzeżone|все\ права\ защищены|
           hak\ cipta\ dilindungi(?:\ undang-undang)?|무단\ ?전재\ 및\ 재배포\ 금지|無断転載を禁じます|版权所有)
          (?:[.\s]{0,3}(?:무단\ ?전재\ 및\ 재배포\ 금지|禁止转载|無断転載を禁じます))?[.\s]*[>\])]?
      | (?:[\p{Hangul}, ]{2,20}\ )?\p{Hangul}{2,4}\ ?기자(?:\ 외\ \d{1,2}명|\ [\w.+-]+@[\w.-]+)
      | (?:lese-?empfehlung(?:en)?|mehr\ lesen(?:\ über)?|weitere\ artikel|
           das\ könnte\ sie\ auch\ interessieren|ähnliche\ artikel|related|
           related\ (?:articles?|stories|content|coverage)|
           more\ on\ this\ (?:story|topic)|you\ may\ also\ like|recommended(?:\ for\ you)?|
           sur\ le\ même\ sujet|noticias\ relacionadas|articoli\ correlati|notícias\ relacionadas|
           相关阅读|相关文章|関連記事|関連キーワード|관련\ 기사|
           our\ standards:\ the\ thomson\ reuters\ trust\ principles)
      | (?:(?:公開日|更新日|配信日|掲載日|投稿日|发布时间|发布日期|更新时间|입력|수정|업데이트)\s*[:：]?\s*
          [\d/.:年月日\s-]*){1,3}
      | (?:次|前)の?ページ(?:\s*[→>＞][^\n]{0,40})?|\d[\d.,]*\s*[万千億亿만]
      | (?:lesen\ sie\ (?:auch|hier|mehr|dazu)|mehr\ zum\ thema|auch\ interessant|siehe\ auch|read\ more|read\ also|
           see\ also|also\ read|lire\ aussi|à\ lire\ aussi|voir\ aussi|leer\ más|lee\ también|lea\ también|
           leggi\ anche|leia\ também|leia\ mais|czytaj\ (?:też|także|więcej)|читайте\ также)
          (?:\s*[:：]\s*[^\n]{1,120})?
      | click\ here\ to\ (?:get|download|subscribe|sign\ up)[^\n]{0,60}
      | (?:leave\ a\ (?:comment|reply)|write\ a\ comment|kommentar\ (?:abgeben|schreiben)|schreibe\ einen\ kommentar|
           laisser\ un\ commentaire|deja\ un\ comentario|lascia\ un\ commento)
      | (?:please\ (?:log\ ?in|sign\ in)\ or\ register|you\ must\ be\ logged\ in\ to|
           du\ musst\ dich\ einloggen,?\ um|sie\ müssen\ (?:sich\ )?(?:angemeldet|eingeloggt)\ sein,?\ um)
          [^\n]{0,80}
      | subscribe|subscribe\ now|abonnieren|jetzt\ abonnieren|s'abonner|suscríbete|iscriviti|abone\ ol|подписаться
      | \d{1,6}\ (?:comments?|kommentare?|commentaires?|comentarios?|commenti|comentários|komentarzy|комментари[йяев]*)
      | (?:comments?|kommentare|commentaires|comentarios|commenti)\ \(\d{1,6}\)
      | \d{1,6}\s*(?:个回答|条评论|条回复|个评论|則回答|件のコメント|개의\ 댓글)
      | \d{4}-\d{1,2}-\d{1,2}(?:\ \d{1,2}:\d{2}(?::\d{2})?)?\ [·•|]\ [^\n]{1,40}
      | (?:关注|展开全部|展开|收起|举报|举报收起|回复|点赞|抢首赞|已赞过|已踩过<?|私信TA|向TA提问|只看该作者|复制链接|
           \[复制链接\]|阅读模式|倒序浏览|打印|上一主题|下一主题|你对这个回答的评价是？|もっと見る|フォロー|返信|通報|
           팔로우|더보기|답글|신고|ブックマーク|保存|印刷|メール|リンク|ポスト|すべて見る|みんなのポストを見る|
           あわせて読みたい|特集一覧|この記事の筆者)
      | \d{1,3}\s*(?:分|時間|日|週間|か月|カ月|ヶ月|分钟|小时|天|周|个月)前|\d{1,3}\s*(?:분|시간|일|주|개월)\s*전
      | \d{1,3}\ (?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\ ago
      | vor\ \d{1,3}\ (?:minuten|stunden|tagen|wochen|monaten)
      | (?:[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]{1,6}\s*[:：]\s*\d[\d.,]*\s*[%万千萬]?\s*[|·/]?\s*){1,4}
    )$""",
    regex.IGNORECASE | regex.VERBOSE | regex.V0,
)


#: Characters a label line has at most (a teaser line "READ MORE: <another headline>" is
#: as long as a headline).
LABEL_LINE = 130


def is_label_line(text: str) -> bool:
    """A whole paragraph that is an ad or share label, an update stamp or a comment count
    (see :data:`_LABEL_LINES`): page furniture, whatever element the page put it in."""
    text = squash(text)
    return 0 < len(text) <= LABEL_LINE and _LABEL_LINES.match(text.strip(" .…")) is not None


def is_chrome(text: str, chrome_lines: tuple[str, ...]) -> bool:
    keys, limit = _chrome_keys(chrome_lines)
    text = text.strip()
    return len(text) <= limit and label_key(text) in keys


#: Seconds one configured pattern may run on one paragraph (a news paragraph takes
#: microseconds): past it the item is stopped and named (see :class:`PatternTimeout`).
PATTERN_SECONDS = 0.25
#: Patterns that ran past the bound in this process: later items fail at once instead of
#: each spending the bound again (the config must change, which needs a restart anyway).
_RUNAWAY: set[str] = set()


@lru_cache(maxsize=32)
def _compiled(patterns: tuple[str, ...]) -> tuple[regex.Pattern[str], ...]:
    # The `regex` engine: `re` syntax (V0), and a timeout, which `re` does not have.
    return tuple(regex.compile(p, regex.V0) for p in patterns)


def take_attributions(
    fragment: str, paragraph: int, patterns: tuple[str, ...], *, is_html: bool
) -> tuple[str, list[Attribution]]:
    """Remove attribution lines from a paragraph; return the rest and the lines found.

    ``fragment`` is plain text, or an HTML fragment when ``is_html`` (then the source
    name is unescaped for the structured record).
    """
    found: list[Attribution] = []

    def grab(match: regex.Match[str]) -> str:
        label, source = match.group("label"), match.group("source")
        if is_html:
            label, source = html.unescape(label), html.unescape(source)
        found.append(Attribution(label=squash(label), source=squash(source), paragraph=paragraph))
        return ""

    for pattern in _compiled(patterns):
        if pattern.pattern in _RUNAWAY:
            raise PatternTimeout(pattern.pattern, "attribution_patterns", PATTERN_SECONDS)
        try:
            fragment = pattern.sub(grab, fragment, timeout=PATTERN_SECONDS)
        except TimeoutError:
            _RUNAWAY.add(pattern.pattern)
            raise PatternTimeout(pattern.pattern, "attribution_patterns", PATTERN_SECONDS) from None
    return fragment.strip(), found
