"""`syndicate review` as an editor at a terminal uses it: list, show, correct, approve,
history, token; and what a mistake at the command line gets (a message, exit 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syndicate.cli import EXIT_CONFIG, EXIT_OK, main
from syndicate.config import load_settings
from syndicate.serve.review import token_digest
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    settings = load_settings(path)
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    with Store.open(settings.state_dir) as store:
        assert once(
            settings, store, engines=Engines(settings, factories={"apertium": lambda s: engine}), clock=Clock()
        ).ok
    return path


def cli(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--config", str(config)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_show_correct_approve_history(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(config, capsys, "review", "list", "es")
    assert code == EXIT_OK and out.count("not reviewed") == 7
    article = int(out.splitlines()[1].split()[0])
    code, out, _ = cli(config, capsys, "review", "show", "es", str(article))
    assert code == EXIT_OK and "[0] (title; machine)" in out and "[1] (text; machine)" in out
    code, out, _ = cli(
        config, capsys, "review", "correct", "es", str(article), "1", "Texto corregido.", "--editor", "ana"
    )
    assert code == EXIT_OK and out.startswith("saved; used in 1 entry")
    code, out, _ = cli(config, capsys, "review", "show", "es", str(article))
    assert "es: Texto corregido." in out and "[1] (text; human)" in out
    code, out, _ = cli(config, capsys, "review", "approve", "es", str(article), "--editor", "ana")
    assert code == EXIT_OK and out.strip() == "approved"
    code, out, _ = cli(config, capsys, "review", "list", "es")
    assert str(article) not in [line.split()[0] for line in out.splitlines()[1:]]
    code, out, _ = cli(config, capsys, "review", "history", "es")
    assert code == EXIT_OK and "ana (cli)" in out and "approve (cli)" in out and "correct (cli)" in out


@pytest.mark.parametrize(
    "args, words",
    [
        (("review", "list", "xx"), "'xx' is not a target language here"),
        (("review", "show", "es", "999"), "article 999 has no translation into es"),
        (("review", "correct", "es", "1", "99", "x"), "has segments 0 to"),
        (("review", "correct", "es", "1", "1", "   "), "cannot be empty"),
        (("review", "import", "/nonexistent/file.xlf"), "cannot read /nonexistent/file.xlf"),
        (("review", "export", "es", "-o", "/tmp/x.xlf", "--since", "last week"), "is not a date"),
    ],
)
def test_mistakes_get_a_message_and_exit_2(
    config: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], words: str
) -> None:
    code, out, err = cli(config, capsys, *args)
    assert code == EXIT_CONFIG and words in err and "Traceback" not in err + out


def test_token_prints_a_config_line_that_the_config_accepts(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(config, capsys, "review", "token", "marta")
    assert code == EXIT_OK
    token = out.splitlines()[1].strip()
    line = re.search(r'marta = "(sha256:[0-9a-f]{64})"', out)
    assert line and line.group(1) == token_digest(token) and len(token) >= 24
    text = config.read_text(encoding="utf-8").replace(
        "[[sources]]", f'[review.editors]\nmarta = "{line.group(1)}"\n\n[[sources]]'
    )
    config.write_text(text, encoding="utf-8")
    assert load_settings(config).review.editors == {"marta": line.group(1)}
    # A token pasted in place of its digest is refused, and not repeated in the message.
    config.write_text(text.replace(line.group(1), token), encoding="utf-8")
    code, out, err = cli(config, capsys, "review", "list", "es")
    assert code == EXIT_CONFIG and "review.editors" in err and token not in err
