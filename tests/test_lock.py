"""The state-directory lock names the command that holds it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicate.store.lock import StateLock, StateLockedError, lock_holder


@pytest.mark.parametrize("holder", ["once", "run"])
def test_the_refusal_names_the_command_that_holds_the_lock(tmp_path: Path, holder: str) -> None:
    with StateLock(tmp_path, command=holder):
        with pytest.raises(StateLockedError) as info:
            StateLock(tmp_path, command="run").acquire()
        assert lock_holder(tmp_path) == os.getpid()
    message = str(info.value)
    assert f"a running `syndicate {holder}`" in message
    assert info.value.command == holder and info.value.pid == os.getpid()
    other = "run" if holder == "once" else "once"
    assert f"`syndicate {other}`" not in message


def test_a_lock_file_without_a_command_still_names_the_process(tmp_path: Path) -> None:
    import fcntl

    # The format older versions wrote: the PID alone.
    fd = os.open(tmp_path / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"4242\n")
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(StateLockedError) as info:
            StateLock(tmp_path, command="once").acquire()
    finally:
        os.close(fd)
    assert info.value.pid == 4242 and info.value.command is None
    assert "process 4242" in str(info.value) and "kill 4242" in str(info.value)


@pytest.mark.parametrize(
    ("holder", "shown"), [("once", "daemon: not running (a `syndicate once`"), ("run", "daemon: running (PID")]
)
def test_status_says_whether_a_daemon_or_a_once_holds_the_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], holder: str, shown: str
) -> None:
    from syndicate.cli import main
    from syndicate.config import load_settings
    from tests.conftest import write_config

    config = write_config(tmp_path)
    state = load_settings(config).state_dir
    with StateLock(state, command=holder):
        main(["--config", str(config), "status"])
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(shown), first
