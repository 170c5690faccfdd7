"""A language that first exists after other languages' archive pages froze (added to
the config, or a cluster language whose work was given up and done late) ends with the
same archives as if it had been there from the start (issue 24, part 3): each full page
links it once, then never changes again."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_config
from tests.fakes import once_with


def project(directory: Path, languages: tuple[str, ...]) -> Path:
    (directory / "wire").mkdir(parents=True, exist_ok=True)
    for n in range(9):
        (directory / "wire" / f"s{n}.txt").write_text(
            f"Harbour report number {n}\n\nThe harbour master logged ship number {n} on Monday.\n", encoding="utf-8"
        )
    config = write_config(
        directory, languages=languages, extra='\n[[sources]]\nname = "wire"\ntype = "folder"\npath = "wire"\n'
    )
    text = config.read_text(encoding="utf-8").replace('state_dir = "state"', 'state_dir = "state"\nfeed_size = 3')
    config.write_text(text, encoding="utf-8")
    return config


def archives(directory: Path, language: str) -> dict[str, bytes]:
    """The language's archive pages: its feeds' and its page index's."""
    folders = (directory / "feeds" / language / "archive", directory / "translations" / language / "archive")
    return {str(p.relative_to(directory)): p.read_bytes() for folder in folders for p in sorted(folder.iterdir())}


def test_a_language_added_later_is_linked_from_frozen_pages_once_as_from_the_start(tmp_path: Path) -> None:
    clean = project(tmp_path / "clean", ("es", "ca"))
    once_with(clean)
    late = project(tmp_path / "late", ("es",))
    once_with(late)
    frozen_before = archives(tmp_path / "late", "es")
    assert len(frozen_before) >= 8  # 16 entries in pages of 3: several full pages, three formats and a page index each
    assert not any(b'hreflang="ca"' in data for data in frozen_before.values())

    late.write_text(
        late.read_text(encoding="utf-8").replace('languages = ["es"]', 'languages = ["es", "ca"]'), encoding="utf-8"
    )
    once_with(late)
    healed = archives(tmp_path / "late", "es")
    assert healed == archives(tmp_path / "clean", "es")  # byte for byte, as if Catalan had always been there
    assert any(b'hreflang="ca"' in data for data in healed.values())

    # Once: another run, or an edit of an archived article, leaves the frozen pages as they are.
    story = tmp_path / "late" / "wire" / "s0.txt"
    story.write_text(story.read_text(encoding="utf-8").replace("Monday", "Tuesday"), encoding="utf-8")
    once_with(late)
    assert archives(tmp_path / "late", "es") == healed
