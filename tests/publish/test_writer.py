from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from syndicate.errors import OutputClaimedError, PublishError
from syndicate.publish.writer import OWNER_MARKER, FileWriter
from tests.tmpfs import mounted_tmpfs, small_tmpfs  # noqa: F401 - a fixture


def test_writes_atomically_and_skips_identical(tmp_path: Path) -> None:
    writer = FileWriter()
    target = tmp_path / "feeds" / "es" / "atom.xml"
    assert writer.write(target, b"one")
    mtime = target.stat().st_mtime_ns
    assert not writer.write(target, b"one")
    assert target.stat().st_mtime_ns == mtime
    assert writer.write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["atom.xml"]  # no temp files left


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "rss.xml"
    target.write_bytes(b"old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(PublishError, match="disk full"):
        FileWriter().write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["rss.xml"]


def test_a_file_where_the_output_folder_should_be_is_a_publish_error(tmp_path: Path) -> None:
    (tmp_path / "feeds").write_bytes(b"not a folder")
    with pytest.raises(PublishError) as info:
        FileWriter().write(tmp_path / "feeds" / "es" / "atom.xml", b"<feed/>")
    assert info.value.path == tmp_path / "feeds" / "es" / "atom.xml"
    assert str(tmp_path / "feeds" / "es" / "atom.xml") in str(info.value)
    assert info.value.hint and f"{tmp_path / 'feeds'} is a file" in info.value.hint


def test_a_folder_where_an_output_file_should_be_is_a_publish_error(tmp_path: Path) -> None:
    (tmp_path / "atom.xml").mkdir()
    with pytest.raises(PublishError) as info:
        FileWriter().write(tmp_path / "atom.xml", b"<feed/>")
    assert info.value.hint and "is a folder" in info.value.hint
    assert [p.name for p in tmp_path.iterdir()] == ["atom.xml"]  # no temp file left


def _read_only(tmp_path: Path) -> Path:
    folder = tmp_path / "feeds"
    folder.mkdir()
    folder.chmod(0o555)
    probe = folder / ".probe"
    try:
        probe.write_bytes(b"")
    except PermissionError:
        return folder
    probe.unlink()
    folder.chmod(0o755)
    pytest.skip("running as root (or with CAP_DAC_OVERRIDE): a read-only folder is writable anyway")


def test_a_read_only_output_folder_is_a_publish_error(tmp_path: Path) -> None:
    folder = _read_only(tmp_path)
    try:
        with pytest.raises(PublishError) as info:
            FileWriter().write(folder / "atom.xml", b"<feed/>")
    finally:
        folder.chmod(0o755)
    assert info.value.hint and "write access" in info.value.hint


def test_a_read_only_file_system_is_a_publish_error(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path / "ro", read_only=True) as folder, pytest.raises(PublishError) as info:
        FileWriter().write(folder / "es" / "atom.xml", b"<feed/>")
    assert "Read-only file system" in str(info.value) and info.value.hint and "read-only" in info.value.hint


@pytest.mark.parametrize(
    ("errno_", "fix"),
    [(errno.ENOSPC, "full"), (errno.EROFS, "read-only"), (errno.EACCES, "write access"), (errno.EIO, "check")],
)
def test_every_os_error_becomes_a_publish_error_with_a_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errno_: int, fix: str
) -> None:
    def fail(fd: int) -> None:
        raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(PublishError) as info:
        FileWriter().write(tmp_path / "es" / "rss.xml", b"<rss/>")
    assert os.strerror(errno_) in str(info.value) and info.value.hint and fix in info.value.hint
    assert list((tmp_path / "es").iterdir()) == []


def test_a_full_disk_is_a_publish_error(small_tmpfs: Path) -> None:
    writer = FileWriter()
    with pytest.raises(PublishError) as info:
        for n in range(100):
            writer.write(small_tmpfs / "feeds" / f"{n}.xml", os.urandom(64 * 1024))
    assert "No space left" in str(info.value) and info.value.hint and "full" in info.value.hint
    assert not [p for p in (small_tmpfs / "feeds").iterdir() if p.name.endswith(".tmp")]


def test_sweep_removes_only_stale_temporary_files(tmp_path: Path) -> None:
    writer = FileWriter()
    (tmp_path / "es").mkdir()
    stale = tmp_path / "es" / ".atom.xml.abc123.tmp"
    fresh = tmp_path / "es" / ".rss.xml.def456.tmp"
    kept = tmp_path / "es" / "atom.xml"
    for path in (stale, fresh, kept):
        path.write_bytes(b"x")
    old = stale.stat().st_mtime - 7200
    os.utime(stale, (old, old))
    assert writer.sweep(tmp_path, tmp_path / "missing") == 1
    assert not stale.exists() and fresh.exists() and kept.exists()


def test_the_first_claim_marks_the_folder_and_the_owner_may_claim_again(tmp_path: Path) -> None:
    writer = FileWriter()
    feeds, state = tmp_path / "feeds", tmp_path / "state"
    writer.claim(feeds, state)
    assert (feeds / OWNER_MARKER).read_text() == f"{state.resolve()}\n"
    writer.claim(feeds, state)
    writer.claim(feeds, tmp_path / "x" / ".." / "state")  # the same folder, spelt otherwise
    assert sorted(p.name for p in feeds.iterdir()) == [OWNER_MARKER]  # no temporary file left


def test_an_existing_output_folder_without_a_marker_is_adopted(tmp_path: Path) -> None:
    (tmp_path / "feeds" / "es").mkdir(parents=True)
    (tmp_path / "feeds" / "es" / "atom.xml").write_bytes(b"<feed/>")
    FileWriter().claim(tmp_path / "feeds", tmp_path / "state")
    assert (tmp_path / "feeds" / OWNER_MARKER).exists()


def test_a_folder_claimed_by_another_state_is_refused_naming_both(tmp_path: Path) -> None:
    writer = FileWriter()
    shared = tmp_path / "shared"
    writer.claim(shared, tmp_path / "one" / "state")
    with pytest.raises(OutputClaimedError) as info:
        writer.claim(shared, tmp_path / "two" / "state")
    message = str(info.value)
    assert str(tmp_path / "one" / "state") in message and str(tmp_path / "two" / "state") in message
    assert str(shared / OWNER_MARKER) in message  # what to delete if the state really moved
    assert (shared / OWNER_MARKER).read_text().strip() == str(tmp_path / "one" / "state")


def test_a_claim_that_cannot_be_written_is_a_publish_error(tmp_path: Path) -> None:
    (tmp_path / "feeds").write_bytes(b"a file")
    with pytest.raises(PublishError, match="is a file where an output folder is expected"):
        FileWriter().claim(tmp_path / "feeds", tmp_path / "state")


def _cluster_config(directory: Path, store: str) -> Path:
    from tests.conftest import write_config

    return write_config(
        directory, extra=f'\n[cluster]\nbroker_url = "redis://127.0.0.1:6390/0"\nstore_url = "{store}"\n'
    )


def test_a_clusters_folders_belong_to_its_store_whatever_machine_or_state_claims_them(tmp_path: Path) -> None:
    """Workers, the scheduler and `once` of one cluster share its store, not a state folder:
    any of them may publish; a configuration with another store is refused; a marker an
    earlier release wrote with this configuration's state folder is taken over."""
    from syndicate.config import load_settings
    from syndicate.publish.writer import claim_outputs, output_owner

    url = "postgresql+psycopg://syndicate:s3cret@127.0.0.1:5432/news"
    one = load_settings(_cluster_config(tmp_path / "one", url))
    owner, formerly = output_owner(one)
    assert owner == "store postgresql+psycopg://syndicate:***@127.0.0.1:5432/news" and "s3cret" not in owner
    assert formerly == (str(one.state_dir.resolve()),)
    shared = tmp_path / "public"
    settings = [
        one.model_copy(
            update={
                "output": one.output.model_copy(
                    update={"feeds_dir": shared / "feeds", "translations_dir": shared / "pages"}
                )
            }
        )
    ]
    # An earlier release's marker: this configuration's state folder. Taken over.
    (shared / "feeds").mkdir(parents=True)
    (shared / "feeds" / OWNER_MARKER).write_text(f"{one.state_dir.resolve()}\n")
    claim_outputs(settings[0])
    assert (shared / "feeds" / OWNER_MARKER).read_text().strip() == owner
    # Another machine of the same cluster (its own state folder): the same owner.
    two = load_settings(_cluster_config(tmp_path / "two", url.replace("s3cret", "rotated")))
    claim_outputs(two.model_copy(update={"output": settings[0].output}))
    # Another cluster's store: refused, naming both, the marker untouched.
    other = load_settings(_cluster_config(tmp_path / "three", url.replace("/news", "/sport")))
    with pytest.raises(OutputClaimedError) as info:
        claim_outputs(other.model_copy(update={"output": settings[0].output}))
    assert "/news" in str(info.value) and "/sport" in str(info.value) and "s3cret" not in str(info.value)
    assert (shared / "feeds" / OWNER_MARKER).read_text().strip() == owner
    # And a single machine's configuration pointed at them: refused too.
    single = load_settings(_cluster_config(tmp_path / "four", url))
    single = single.model_copy(
        update={"cluster": single.cluster.model_copy(update={"store_url": None}), "output": settings[0].output}
    )
    with pytest.raises(OutputClaimedError):
        claim_outputs(single)
