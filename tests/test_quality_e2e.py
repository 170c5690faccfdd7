"""What readers read, end to end through the command line, with Debian's Apertium.

The bundled sample goes through ``syndicate once`` into Spanish, Catalan, Galician and
Esperanto; the pages are then read as a reader would: headlines in sentence case and
not glued, names kept, numbers in the language's notation, no engine mark or bracket
debris anywhere. ``syndicate stats`` shows the quality signal; ``syndicate retranslate``
redoes what it is asked to and rewrites nothing that did not change.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from tests.conftest import write_config

pytestmark = pytest.mark.apertium

LANGUAGES = ("es", "ca", "gl", "eo")


def syndicate(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", *argv], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("quality")
    write_config(root, languages=LANGUAGES)
    done = syndicate("once", cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def page_text(root: Path, language: str, slug: str) -> tuple[str, str]:
    doc = lxml.html.fromstring((root / "translations" / language / f"{slug}.html").read_bytes())
    return doc.findtext(".//h1") or "", doc.find(".//article").text_content()


def test_the_sample_headlines_read_as_the_language_writes_them(site: Path) -> None:
    title, _ = page_text(site, "es", "city-library-reopens-after-two-year-renovation")
    # Not "Renovacióndedos años" (glued) nor "Biblioteca De Ciudad Reabre..." (Title Case).
    assert "renovación de dos años" in title and title[0].isupper() and "Reabre" not in title, title
    title, _ = page_text(site, "es", "volga-farmers-expect-strong-wheat-harvest-after-mild-spring")
    assert "Volga" in title and "Los labradores" not in title and not re.search(r" [A-Z]\w+ [A-Z]", title), title
    # A place the engine has a word for is translated ("Arctic": "Ártico"), not kept in English.
    title, _ = page_text(site, "es", "moscow-hosts-international-conference-on-arctic-shipping-routes")
    assert "Ártico" in title and "Moscú" in title and "Arctic" not in title, title
    # Esperanto's generator wrote a protected name twice ("Diegon/Japanujo").
    title, _ = page_text(site, "eo", "russia-sees-us-backed-japan-militarization-as-global-risk")
    assert "/" not in title and title.count("Japan") == 1, title
    for language in LANGUAGES:
        for page in (site / "translations" / language).glob("*.html"):
            if page.name == "index.html":
                continue
            headline = lxml.html.fromstring(page.read_bytes()).findtext(".//h1") or ""
            capitals = [w for w in headline.split()[1:] if len(w) > 3 and w[0].isupper()]
            assert len(capitals) <= 3, (language, headline)  # names only, never every word


def test_names_and_numbers_survive(site: Path) -> None:
    _, text = page_text(site, "es", "volga-farmers-expect-strong-wheat-harvest-after-mild-spring")
    assert "Olga Belova" in text and "Irina Sokolova" in " ".join(
        lxml.html.fromstring(
            (
                site / "translations" / "es" / "volga-farmers-expect-strong-wheat-harvest-after-mild-spring.html"
            ).read_bytes()
        ).itertext()
    )
    _, text = page_text(site, "es", "city-library-reopens-after-two-year-renovation")
    assert "14,5 millones de dólares" in text  # "$14.5 million", in Spanish notation, value kept
    assert "35 %" in text.replace("\u00a0", " ")  # "35%" as CLDR writes it in Spanish
    _, text = page_text(site, "eo", "city-library-reopens-after-two-year-renovation")
    assert "14,5 milionoj da dolaroj" in text


def test_no_engine_mark_or_debris_reaches_any_page(site: Path) -> None:
    for language in LANGUAGES:
        for page in (site / "translations" / language).glob("*.html"):
            doc = lxml.html.fromstring(page.read_bytes())
            article = doc.find(".//article")
            if article is None:
                continue
            text = article.text_content()
            assert not re.search(r"(?<![\w@#])[*#@](?=\w)", text), (language, page.name, text[:300])
            assert "[']" not in text and "[]" not in text
            assert not re.search(r"\w\[|\]\w", text.replace("[Fuente", "").replace("[Font", "")), page.name
            # Words of several glued together where the source had a compound.
            assert "queromper" not in text and "renovacióndedos" not in text


def test_stats_show_the_quality_signal(site: Path) -> None:
    done = syndicate("stats", cwd=site)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = lines[0].split("  ")
    assert "unknown words" in lines[0] and "numbers differing" in lines[0] and "glued repaired" in lines[0], header
    quality = [line for line in lines if line.startswith(("es ", "ca ", "gl ", "eo ")) and "%" in line]
    assert len(quality) == 4, done.stdout
    for line in quality:
        mean = float(re.search(r"(\d+\.\d)%", line).group(1))  # type: ignore[union-attr]
        assert 50 < mean <= 100, line


def test_retranslate_redoes_what_it_is_asked_and_rewrites_nothing_unchanged(site: Path) -> None:
    feeds = {p: p.read_bytes() for p in (site / "feeds").rglob("*.xml")}
    done = syndicate("retranslate", "--language", "es", "--source", "sample", cwd=site)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("7 article(s) chosen;") and "0 translation(s) changed" in summary, summary
    translated = int(re.search(r"(\d+) segment\(s\) translated", summary).group(1))  # type: ignore[union-attr]
    assert translated > 100  # the engine saw every segment again (the memory was not asked)
    assert "0 file(s) written" in summary  # same engine, same rules: same text, no file rewritten
    assert {p: p.read_bytes() for p in (site / "feeds").rglob("*.xml")} == feeds
    later = syndicate("retranslate", "--since", "2999-01-01", cwd=site)
    assert later.returncode == 0 and later.stdout.startswith("0 article(s) chosen"), later.stdout
    wrong = syndicate("retranslate", "--language", "xx", "--since", "yesterday", cwd=site)
    assert wrong.returncode == 2 and "--language xx" in wrong.stderr and "--since" in wrong.stderr
