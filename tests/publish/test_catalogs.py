"""The pages' catalogues: complete, and shipped compiled as their sources say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from syndicate.publish.i18n import LOCALE_DIR, describe_model, words

LANGUAGES = sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES" / "syndicate.po").exists())
REPO = Path(__file__).resolve().parents[2]


def test_the_template_lists_every_message_the_code_uses(tmp_path: Path) -> None:
    """`make catalogs` extracts from the templates and code: the committed .pot is current."""
    out = tmp_path / "syndicate.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "--no-location",
            "--omit-header",
            "-k",
            "_",
            "-k",
            "ngettext:1,2",
            "-o",
            str(out),
            ".",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with out.open("rb") as fresh, (LOCALE_DIR / "syndicate.pot").open("rb") as committed:
        assert {m.id for m in read_po(fresh) if m.id} == {m.id for m in read_po(committed) if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalogue_translates_every_message_and_its_mo_is_compiled_from_it(language: str) -> None:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    with (LOCALE_DIR / "syndicate.pot").open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with (folder / "syndicate.po").open("rb") as handle:
        catalogue = read_po(handle)
    assert not catalogue.fuzzy
    translated = {m.id: m.string for m in catalogue if m.id}
    assert set(translated) == wanted
    for message_id, string in translated.items():
        strings = string if isinstance(string, tuple) else (string,)
        assert len(strings) == (catalogue.num_plurals if isinstance(message_id, tuple) else 1), message_id
        assert all(s.strip() for s in strings), (language, message_id)
        # Every placeholder of the message is in its translation.
        source = message_id[0] if isinstance(message_id, tuple) else message_id
        for name in ("%(language)s", "%(engine)s", "%(percent)s", "%(num)d"):
            assert (name in source) == all(name in s for s in strings), (language, message_id, name)
    with (folder / "syndicate.mo").open("rb") as handle:
        shipped = read_mo(handle)

    def norm(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    assert {norm(m.id): norm(m.string) for m in shipped if m.id} == {norm(k): norm(v) for k, v in translated.items()}, (
        "run `make catalogs`"
    )


def test_words_in_each_language_and_english_where_none() -> None:
    assert words("es").ngettext("%(num)d article", "%(num)d articles", 1) == "1 artículo"
    assert words("es").ngettext("%(num)d article", "%(num)d articles", 25) == "25 artículos"
    assert words("pt-BR").gettext("Read the original") == "Ler o original"  # the language's catalogue
    assert words("sw").gettext("Read the original") == "Read the original" and not words("sw").translated
    assert words("es").language_name("en") == "inglés" and words("ca").language_name("ru") == "rus"


def test_models_are_described_for_readers() -> None:
    assert describe_model("apertium:eng-spa@apertium-eng-spa=0.8.1-2") == "Apertium eng-spa (apertium-eng-spa 0.8.1-2)"
    assert describe_model("argos:en-es@1.9") == "Argos Translate en-es 1.9"
    assert (
        describe_model("argos:es-en@1.0 + apertium:eng-cat@unknown") == "Argos Translate es-en 1.0 + Apertium eng-cat"
    )
