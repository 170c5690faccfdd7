"""The mapped language model: py3langid's answers from the standard library alone.

py3langid (numpy) stays the oracle: every case here is classified by both, and the
mapped model must give the same label, a probability within 1e-4 and the same decision
at MIN_PROBABILITY. A damaged copy is never fatal: py3langid answers and the copy is
written again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from array import array
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from syndicate.extract import language
from syndicate.extract.language import (
    MIN_PROBABILITY,
    MappedIdentifier,
    detect_language,
    write_mapped_model,
)
from syndicate.models import Article, Paragraph

ROOT = Path(__file__).resolve().parents[2]
VERSION = metadata.version("py3langid")
NAME = f"py3langid-{VERSION}.langid"
TOLERANCE = 1e-4

CORPUS = [
    (
        "en",
        "en",
        "The city council approved the new budget on Tuesday after a long debate, promising more buses on evening routes and longer opening hours for public libraries.",
    ),
    (
        "en-finance",
        "en",
        "Shares in the carmaker fell sharply in early trading after the company cut its forecast for the year, blaming weaker demand in China and the rising cost of batteries.",
    ),
    (
        "es",
        "es",
        "El ayuntamiento aprobó ayer los presupuestos del próximo año tras un largo debate en el pleno, con una partida récord para vivienda pública y transporte nocturno.",
    ),
    (
        "es-sport",
        "es",
        "El equipo local remontó en la segunda parte y se impuso por dos goles a uno, un resultado que le permite seguir soñando con el ascenso a falta de cuatro jornadas.",
    ),
    (
        "ca",
        "ca",
        "L'Ajuntament de Barcelona ha aprovat aquest dimarts el pressupost per a l'any vinent, que preveu més inversió en habitatge públic i en la millora dels autobusos de barri.",
    ),
    (
        "gl",
        "gl",
        "O concello de Vigo aprobou onte os orzamentos para o vindeiro ano, que inclúen unha partida para rehabilitar o casco vello e ampliar as liñas de autobús nocturno.",
    ),
    (
        "pt",
        "pt",
        "A câmara municipal de Lisboa aprovou nesta terça-feira o orçamento para o próximo ano, com mais investimento em habitação acessível e nos transportes públicos.",
    ),
    (
        "pt-br",
        "pt",
        "O governo federal anunciou nesta segunda-feira um novo pacote de medidas para conter a alta dos preços dos alimentos, que vem pressionando a inflação desde o início do ano.",
    ),
    (
        "fr",
        "fr",
        "Le conseil municipal a adopté mardi soir le budget de l'année prochaine, après un long débat, en promettant davantage de bus le soir et des bibliothèques ouvertes plus tard.",
    ),
    (
        "de",
        "de",
        "Der Stadtrat hat am Dienstag nach einer langen Debatte den neuen Haushalt beschlossen; im nächsten Jahr sollen mehr Busse fahren und die Bibliotheken länger geöffnet bleiben.",
    ),
    (
        "it",
        "it",
        "Il consiglio comunale ha approvato martedì il bilancio per il prossimo anno, dopo un lungo dibattito, con più autobus nelle ore serali e biblioteche aperte più a lungo.",
    ),
    (
        "nl",
        "nl",
        "De gemeenteraad heeft dinsdag na een lang debat de nieuwe begroting goedgekeurd; volgend jaar rijden er meer bussen en blijven de bibliotheken langer open.",
    ),
    (
        "ru",
        "ru",
        "Городской совет во вторник после долгих обсуждений утвердил бюджет на следующий год, пообещав больше автобусов по вечерам и продление работы библиотек.",
    ),
    (
        "uk",
        "uk",
        "Міська рада у вівторок після тривалої дискусії ухвалила бюджет на наступний рік, пообіцявши більше автобусів увечері та довший графік роботи бібліотек.",
    ),
    (
        "pl",
        "pl",
        "Rada miasta po długiej debacie przyjęła we wtorek budżet na przyszły rok, obiecując więcej autobusów wieczorem i dłuższe godziny otwarcia bibliotek.",
    ),
    (
        "tr",
        "tr",
        "Belediye meclisi salı günü uzun bir tartışmanın ardından gelecek yılın bütçesini onayladı; akşam saatlerinde daha fazla otobüs seferi ve kütüphanelerin daha uzun açık kalması planlanıyor.",
    ),
    (
        "ar",
        "ar",
        "وافق المجلس البلدي يوم الثلاثاء على ميزانية العام المقبل بعد نقاش طويل، مع وعود بزيادة عدد الحافلات في المساء وتمديد ساعات عمل المكتبات العامة.",
    ),
    ("zh", "zh", "市议会周二经过长时间辩论后通过了明年的预算，承诺增加晚间公交班次，并延长公共图书馆的开放时间。"),
    (
        "ja",
        "ja",
        "市議会は火曜日、長い議論の末に来年度の予算案を可決し、夜間のバスの増便と図書館の開館時間の延長を約束した。",
    ),
    (
        "el",
        "el",
        "Το δημοτικό συμβούλιο ενέκρινε την Τρίτη τον προϋπολογισμό του επόμενου έτους μετά από μακρά συζήτηση, υποσχόμενο περισσότερα λεωφορεία το βράδυ.",
    ),
    (
        "ko",
        "ko",
        "시의회는 화요일 긴 토론 끝에 내년도 예산안을 통과시키고 저녁 시간대 버스 증편과 도서관 운영 시간 연장을 약속했다.",
    ),
    ("he", "he", "מועצת העיר אישרה ביום שלישי את תקציב השנה הבאה לאחר דיון ארוך, והבטיחה יותר אוטובוסים בשעות הערב."),
    (
        "sv",
        "sv",
        "Kommunfullmäktige godkände på tisdagen nästa års budget efter en lång debatt och lovade fler bussar på kvällarna och längre öppettider för biblioteken.",
    ),
    (
        "cs",
        "cs",
        "Městské zastupitelstvo v úterý po dlouhé debatě schválilo rozpočet na příští rok a slíbilo více autobusů ve večerních hodinách.",
    ),
    (
        "sr-cyrl",
        "sr",
        "Градско веће је у уторак после дуге расправе усвојило буџет за наредну годину и обећало више аутобуса у вечерњим сатима.",
    ),
    (
        "sr-latn",
        None,
        "Gradsko veće je u utorak posle duge rasprave usvojilo budžet za narednu godinu i obećalo više autobusa u večernjim satima.",
    ),
    (
        "uz-latn",
        None,
        "Shahar kengashi seshanba kuni uzoq muhokamadan so'ng kelgusi yil byudjetini tasdiqladi va kechki avtobuslar sonini oshirishga va'da berdi.",
    ),
    (
        "uz-cyrl",
        None,
        "Шаҳар кенгаши сешанба куни узоқ муҳокамадан сўнг келгуси йил бюджетини тасдиқлади ва кечки автобуслар сонини оширишга ваъда берди.",
    ),
    (
        "mixed-en-es",
        None,
        "The mayor said «vamos a cumplir» and promised that the new bridge will open before the summer, aunque los vecinos dudan de que las obras terminen a tiempo.",
    ),
    (
        "mixed-de-fr",
        None,
        "Die Grenzpendler in Straßburg sagen: « nous voulons des trains plus fréquents », doch die Bahn verweist auf fehlendes Personal.",
    ),
    (
        "caps-en",
        "en",
        "BREAKING: FLOODS FORCE THOUSANDS TO LEAVE THEIR HOMES AS THE RIVER BURSTS ITS BANKS AFTER A WEEK OF HEAVY RAIN",
    ),
    ("caps-de", "de", "EILMELDUNG: BUNDESTAG BESCHLIESST NEUES GESETZ ZUR FÖRDERUNG ERNEUERBARER ENERGIEN"),
    ("short-es", None, "Sí, claro."),
    ("short-en", None, "OK"),
    ("short-x", None, "a"),
    ("empty", None, ""),
    ("digits", None, "2024-05-17 12:30 +34 600 123 456"),
    ("emoji", None, "🎉🎉🔥 ¡Gran final! 🏆⚽️ Campeones otra vez 💪😂"),
    ("emoji-only", None, "😀😃😄😁😆"),
    ("url", None, "https://example.com/news/2024/05/17/city-council-budget?utm_source=rss"),
    ("broken-utf8-tail", None, "Der Stadtrat hat am Dienstag den Haushalt beschlo\u00df".encode()[:-1]),
    (
        "broken-utf8-middle",
        None,
        "Le conseil a adopté le budget".encode()[:12] + b"\xff\xfe" + "après un long débat".encode(),
    ),
    ("latin1-bytes", None, "El ayuntamiento aprobó ayer los presupuestos del próximo año".encode("latin-1")),
    ("valid-utf8-bytes", "ru", "Городской совет утвердил бюджет на следующий год".encode()),
    (
        "decomposed-accents",
        "es",
        "El alcalde inauguro\u0301 la nueva estacio\u0301n de autobuses y prometio\u0301 ma\u0301s frecuencias.",
    ),
]

SPANISH = Article(
    source="s",
    key="k",
    title="El alcalde inaugura el nuevo puente del puerto",
    blocks=(Paragraph("Tras años de obras, el puente une por fin los dos muelles y los vecinos lo celebran."),),
)


@pytest.fixture(scope="module")
def oracle() -> Any:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.fixture(scope="module")
def mapped_path(oracle: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mapped") / NAME
    write_mapped_model(oracle, path, VERSION)
    return path


@pytest.fixture(scope="module")
def mapped(mapped_path: Path) -> MappedIdentifier:
    return MappedIdentifier(mapped_path, VERSION)


@pytest.fixture(autouse=True)
def _fresh_mapped_models() -> None:
    language._mapped_identifier.cache_clear()


def _differences(mapped: MappedIdentifier, oracle: Any, text: str | bytes) -> list[str]:
    (label, p), (want, q) = mapped.classify(text), oracle.classify(text)
    found = []
    if label != want:
        found.append(f"label {label} != {want}")
    if abs(p - q) > TOLERANCE:
        found.append(f"probability {p} != {q}")
    if (p >= MIN_PROBABILITY) != (q >= MIN_PROBABILITY):
        found.append(f"decision at {MIN_PROBABILITY}: {p} vs {q}")
    return found


@pytest.mark.parametrize(("expected", "text"), [case[1:] for case in CORPUS], ids=[case[0] for case in CORPUS])
def test_the_mapped_model_answers_as_py3langid(
    mapped: MappedIdentifier, oracle: Any, expected: str | None, text: str | bytes
) -> None:
    assert _differences(mapped, oracle, text) == []
    if expected is not None:
        assert mapped.classify(text)[0] == expected


def test_the_mapped_model_agrees_on_cut_texts_near_the_threshold(mapped: MappedIdentifier, oracle: Any) -> None:
    """Cut texts score between sure and unsure, where rounding could flip a decision."""
    texts = [text[:cut] for _, _, text in CORPUS for cut in (8, 20, 35, 50, 70, 100)]
    found = {repr(text): d for text in texts if (d := _differences(mapped, oracle, text))}
    assert found == {}
    probabilities = [oracle.classify(text)[1] for text in texts]
    assert sum(0.6 <= p < MIN_PROBABILITY for p in probabilities) >= 5  # the check above saw both sides
    assert sum(MIN_PROBABILITY <= p < 0.95 for p in probabilities) >= 5


def _random_identifier(seed: int, low: float, high: float) -> Any:
    """A small py3langid model of random numbers, with a twice-given label as in srl->sr."""
    rng = np.random.default_rng(seed)
    states, rows, features = 60, 12, 40
    classes = ["aa", "bb", "aa", "cc", "dd", "bb", "ee"]
    nextmove = array("H", rng.integers(0, states, rows * 256).tolist())
    row = array("H", rng.integers(0, rows, states).tolist())
    output = [int(f) if rng.random() < 0.7 else -1 for f in rng.integers(0, features, states)]
    ptc = rng.uniform(low, high, (features, len(classes))).astype(np.float16)
    pc = rng.uniform(-3, -1, len(classes)).astype(np.float32)
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


@pytest.mark.parametrize(
    ("seed", "low", "high"), [(1, -15.0, -2.7), (2, -20.0, -0.001), (3, -1.0, 1.0), (4, -60000.0, -1000.0)]
)
def test_random_models_answer_as_py3langid(tmp_path: Path, seed: int, low: float, high: float) -> None:
    """Other value ranges than the shipped model's: other fixed-point grids and field widths."""
    oracle = _random_identifier(seed, low, high)
    write_mapped_model(oracle, tmp_path / NAME, VERSION)
    mapped = MappedIdentifier(tmp_path / NAME, VERSION)
    rng = np.random.default_rng(seed)
    texts: list[str | bytes] = [bytes(rng.integers(0, 256, n).tolist()) for n in (0, 1, 3, 17, 200, 3000)]
    texts += ["", "ABC", "abc abc abc", "ñandú Ñandú", "日本語のテキスト"]
    assert {repr(t): d for t in texts if (d := _differences(mapped, oracle, t))} == {}


def _header(data: bytes) -> tuple[int, int, dict[str, Any]]:
    start = len(language._MAGIC) + 4
    end = start + int.from_bytes(data[start - 4 : start], "little")
    return start, end, json.loads(data[start:end])


def _with_header(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    """The same file with its header changed in place (padded with blanks, which JSON allows)."""

    def damage(data: bytes) -> bytes:
        start, end, header = _header(data)
        change(header)
        text = json.dumps(header).encode()
        assert len(text) <= end - start
        return data[:start] + text.ljust(end - start) + data[end:]

    return damage


def _zero_rows(data: bytes) -> bytes:
    """Every state's transition row out of range: readable, but no text can be walked."""
    _, _, header = _header(data)
    spec = header["arrays"]["row"]
    start, end = spec["offset"], spec["offset"] + spec["length"] * spec["itemsize"]
    return data[:start] + b"\xff" * (end - start) + data[end:]


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda data: b"",
    "truncated": lambda data: data[:-1],
    "cut in the header": lambda data: data[:40],
    "another magic": lambda data: b"X" + data[1:],
    "a garbled header": lambda data: data[:40] + b"\x00\xff" * 20 + data[80:],
    "another py3langid": _with_header(lambda h: h.update(py3langid="0.0.0")),
    "another format": _with_header(lambda h: h.update(format=2)),
    "another byte order": _with_header(lambda h: h.update(byteorder="big" if sys.byteorder == "little" else "little")),
    "a float table": _with_header(lambda h: h["arrays"]["ptc"].update(typecode="f")),
    "a class short": _with_header(lambda h: h.update(classes=h["classes"][:-1])),
    "no classes": _with_header(lambda h: h.pop("classes")),
    "no scale": _with_header(lambda h: h["table"].update(scale=0.0)),
    "a byte more": lambda data: data + b"\x00",
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_file_is_refused_when_it_is_opened(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    write_mapped_model(_random_identifier(1, -15.0, -2.7), tmp_path / NAME, VERSION)
    MappedIdentifier(tmp_path / NAME, VERSION)  # whole, it opens
    data = (tmp_path / NAME).read_bytes()
    (tmp_path / "damaged").write_bytes(damage(data))
    with pytest.raises((ValueError, OSError)):
        MappedIdentifier(tmp_path / "damaged", VERSION)


def _replace(path: Path, data: bytes) -> None:
    """Another file under the name: a process that maps the old one keeps reading it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.write_bytes(data)


@pytest.fixture(scope="module")
def detection_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state cache folder for detections in this process (py3langid's model decompressed once)."""
    return tmp_path_factory.mktemp("state") / "cache"


@pytest.mark.parametrize("damage", ["truncated", "another py3langid", "rows out of range"])
def test_a_damaged_file_falls_back_to_py3langid_and_is_written_again(
    detection_cache: Path, mapped_path: Path, mapped: MappedIdentifier, oracle: Any, damage: str
) -> None:
    path = detection_cache / NAME
    data = mapped_path.read_bytes()
    _replace(path, _zero_rows(data) if damage == "rows out of range" else DAMAGES[damage](data))
    if damage == "rows out of range":  # it opens, then fails on the first text
        with pytest.raises(IndexError):
            MappedIdentifier(path, VERSION).classify("hola")
    assert detect_language(SPANISH, cache=detection_cache) == "es"  # py3langid's answer
    assert detect_language(SPANISH, cache=detection_cache) == "es"
    assert path.read_bytes() == data  # written again from py3langid's model
    assert MappedIdentifier(path, VERSION).classify(CORPUS[0][2]) == mapped.classify(CORPUS[0][2])
    assert not list(detection_cache.glob(".langid-*"))  # no temporary file left behind


CHILD = f"""
import json, sys
from pathlib import Path
from syndicate.extract.language import detect_language
from syndicate.models import Article, Meta, Paragraph
article = {SPANISH!r}
print(json.dumps({{"language": detect_language(article, cache=Path(sys.argv[1])), "numpy": "numpy" in sys.modules}}))
"""


def _detect_in_a_fresh_process(cache: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", CHILD, str(cache)]
    done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.splitlines()[-1]))


def test_a_process_with_the_mapped_model_does_not_import_numpy(mapped_path: Path) -> None:
    assert _detect_in_a_fresh_process(mapped_path.parent) == {"language": "es", "numpy": False}
    assert sorted(p.name for p in mapped_path.parent.iterdir()) == [NAME]  # py3langid's own cache was not needed


def test_a_process_with_a_damaged_mapped_model_imports_numpy_once(tmp_path: Path, mapped_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / NAME).write_bytes(b"not a model")
    assert _detect_in_a_fresh_process(cache) == {"language": "es", "numpy": True}
    assert (cache / NAME).read_bytes() == mapped_path.read_bytes()  # written again, whole
    assert _detect_in_a_fresh_process(cache) == {"language": "es", "numpy": False}
