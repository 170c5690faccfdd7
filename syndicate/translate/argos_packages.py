"""Argos Translate language packages: find, list and install them, offline first.

This module reads packages with argostranslate's own ``Package`` class, but never imports
``argostranslate.translate``: that module pulls in torch and stanza, and so do
``argostranslate.package.install_from_path`` and ``uninstall``, which import it to clear a
cache. Installing is therefore done here: validate the archive, extract it next to its
destination, rename it into place.

Heavy or side-effecting imports stay inside the functions: importing
``argostranslate.package`` creates folders under the home directory, and ``httpx`` and
``packaging`` are only needed by some commands.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO

from syndicate.errors import ModelError

if TYPE_CHECKING:
    import httpx
    from argostranslate.package import Package

logger = logging.getLogger(__name__)

#: argospm's index; ``ARGOS_PACKAGE_INDEX`` (a base URL, as for argostranslate) overrides it.
DEFAULT_INDEX_BASE = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"

#: Upper bound on a downloaded package (real ones are 50-200 MB).
MAX_PACKAGE_BYTES = 2 * 1024**3
#: Smallest plausible package: anything shorter is an error page, not a model.
MIN_PACKAGE_BYTES = 1024

#: Prefix of the temporary entries this module creates inside a packages directory.
#: Listing skips dot entries, so a half-finished install is never seen as a package.
_TMP_PREFIX = ".syndicate-"

_TOKENIZER_FILES = ("sentencepiece.model", "bpe.model")
_MAX_REDIRECTS = 5
_CHUNK = 1024 * 1024

#: Serialises installs within a process (two renames into one directory).
_install_lock = threading.Lock()

#: ``on_progress(bytes_done, bytes_total_or_None)`` during a download.
ProgressCallback = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class PackageInfo:
    """An installed Argos translation package.

    ``from_code``/``to_code`` are the package's own (Argos) language codes, ``path`` its
    directory, ``name`` a human-readable label such as ``"English → Spanish"``.
    """

    from_code: str
    to_code: str
    package_version: str
    path: Path
    name: str


def default_packages_dir() -> Path:
    """Where argostranslate keeps packages, computed without importing it.

    ``ARGOS_PACKAGES_DIR`` if set, else ``$XDG_DATA_HOME`` (default ``~/.local/share``)
    + ``argos-translate/packages``: the rule of ``argostranslate.settings``.
    """
    explicit = os.environ.get("ARGOS_PACKAGES_DIR")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "argos-translate" / "packages"


def list_installed(packages_dir: Path) -> list[PackageInfo]:
    """The translation packages in ``packages_dir``, sorted by directory name.

    Reads each package with argostranslate's ``Package``, as ``get_installed_packages``
    does, but one at a time: a stray file is ignored and a broken package directory is
    skipped with a warning, where argostranslate would raise for the whole listing.
    """
    if not packages_dir.is_dir():
        return []
    found: list[PackageInfo] = []
    for entry in sorted(packages_dir.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        try:
            package = _load_package(entry)
        except ModelError as exc:
            logger.warning("skipping Argos package directory %s: %s", entry, exc.message)
            continue
        if package.type != "translate":
            logger.debug("ignoring %s: package type %s", entry, package.type)
            continue
        found.append(_info(package))
    return found


def install_from_file(path: Path, packages_dir: Path) -> PackageInfo:
    """Install the local ``.argosmodel`` at ``path`` into ``packages_dir``.

    The archive is checked before anything is written: a zip, exactly one top-level
    directory (argostranslate would otherwise spill files into the packages directory and
    every later listing would fail), ``metadata.json`` naming both languages, a
    CTranslate2 ``model/model.bin`` and a tokenizer, and no absolute or ``..`` member
    (zip-slip). It is extracted into a temporary directory inside ``packages_dir`` and
    renamed into place, replacing an older copy of the same directory and any other
    package for the same language pair.

    Raises :class:`ModelError` naming the file and what to do.
    """
    path = Path(path)
    top, metadata = _validate_archive(path)
    from_code, to_code = str(metadata["from_code"]), str(metadata["to_code"])
    destination = packages_dir / top
    try:
        packages_dir.mkdir(parents=True, exist_ok=True)
        with _install_lock:
            _extract_and_swap(path, top, destination, from_code, to_code)
    except OSError as exc:
        raise ModelError(
            f"{path}: cannot install into {packages_dir}: {exc}",
            engine="argos",
            source_language=from_code,
            target_language=to_code,
            hint="make the packages folder writable, or choose another one "
            "(ARGOS_PACKAGES_DIR or translate.argos_packages_dir in config.toml)",
        ) from exc
    info = _info(_load_package(destination))
    logger.info(
        "installed Argos package %s %s (%s) into %s",
        info.name,
        info.package_version,
        path.name,
        destination,
    )
    return info


def install_from_index(
    from_code: str,
    to_code: str,
    packages_dir: Path,
    *,
    index_url: str | None = None,
    timeout: float = 30.0,
    on_progress: ProgressCallback | None = None,
) -> PackageInfo:
    """Download the package for ``from_code`` -> ``to_code`` from the Argos index and install it.

    ``index_url`` is the index itself (ending in ``.json``) or a base URL to which
    ``index.json`` is appended; default: ``ARGOS_PACKAGE_INDEX`` (a base URL, as for
    argostranslate) or argospm's index. The highest ``package_version`` for the pair wins;
    each of its ``links`` is tried in turn. ``timeout`` applies to each network
    operation (connect, each read). ``on_progress`` is called as bytes arrive.

    Raises :class:`ModelError` when the index cannot be reached (with the offline
    alternative as the hint), when it has no package for the pair (listing the pairs it
    has from ``from_code``), or when no link yields a valid package.
    """
    import httpx

    url = resolve_index_url(index_url)
    offline_hint = (
        f"download the {from_code}->{to_code} .argosmodel on a machine with internet access "
        "(https://www.argosopentech.com/argospm/index/) and run "
        "`syndicate models install --file FILE.argosmodel`"
    )
    with httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=_MAX_REDIRECTS) as client:
        index = _fetch_index(client, url, from_code, to_code, offline_hint)
        candidate = _pick_package(index, url, from_code, to_code)
        links = [str(link) for link in candidate.get("links") or [] if link]
        if not links:
            raise ModelError(
                f"the Argos package index at {url} lists {from_code}->{to_code} "
                f"{candidate.get('package_version', '')} without a download link",
                engine="argos",
                source_language=from_code,
                target_language=to_code,
                hint=offline_hint,
            )
        packages_dir.mkdir(parents=True, exist_ok=True)
        failures: list[str] = []
        for link in links:
            handle, tmp_name = tempfile.mkstemp(
                prefix=_TMP_PREFIX + "download-", suffix=".argosmodel", dir=packages_dir
            )
            tmp = Path(tmp_name)
            try:
                with os.fdopen(handle, "wb") as sink:
                    _download(client, link, sink, on_progress)
                return install_from_file(tmp, packages_dir)
            except (httpx.HTTPError, OSError, ModelError) as exc:
                reason = exc.message if isinstance(exc, ModelError) else _reason(exc)
                logger.warning("download of %s failed: %s", link, reason)
                failures.append(f"{link}: {reason}")
            finally:
                tmp.unlink(missing_ok=True)
    raise ModelError(
        f"could not download the Argos package {from_code}->{to_code}: " + "; ".join(failures),
        engine="argos",
        source_language=from_code,
        target_language=to_code,
        hint=offline_hint,
    )


def resolve_index_url(index_url: str | None = None) -> str:
    """The full URL of the package index (see :func:`install_from_index`)."""
    url = index_url or os.environ.get("ARGOS_PACKAGE_INDEX") or DEFAULT_INDEX_BASE
    if url.endswith(".json"):
        return url
    return url.rstrip("/") + "/index.json"


# ---- internals -----------------------------------------------------------------------


def _load_package(directory: Path) -> Package:
    """Read a package directory with argostranslate's own code, or raise ModelError."""
    from argostranslate.package import Package

    try:
        package = Package(directory)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        # FileNotFoundError (no metadata.json), JSONDecodeError (a ValueError), a
        # metadata.json that is not an object: argostranslate lets all of them through.
        raise ModelError(f"{directory} is not a readable Argos package: {exc}", engine="argos") from exc
    problems = []
    if not package.from_code or not package.to_code:
        problems.append("metadata.json lacks from_code/to_code")
    if not (directory / "model" / "model.bin").is_file():
        problems.append("no model/model.bin")
    if not any((directory / name).is_file() for name in _TOKENIZER_FILES):
        problems.append("no sentencepiece.model or bpe.model")
    if problems:
        raise ModelError(
            f"{directory} is not a usable Argos package: " + ", ".join(problems),
            engine="argos",
        )
    return package


def _extract_and_swap(path: Path, top: str, destination: Path, from_code: str, to_code: str) -> None:
    """Extract the (validated) archive next to ``destination`` and rename it into place."""
    staging = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX + "install-", dir=destination.parent))
    try:
        try:
            with zipfile.ZipFile(path) as archive:
                archive.extractall(staging)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            # A damaged archive; OSError (disk full, permissions) goes to the caller.
            raise ModelError(
                f"{path}: cannot extract the Argos package: {exc}",
                engine="argos",
                source_language=from_code,
                target_language=to_code,
                hint="download the .argosmodel file again; it looks damaged",
            ) from exc
        try:
            _load_package(staging / top)  # argostranslate's own reader must accept it
        except ModelError as exc:
            raise ModelError(
                f"{path}: {exc.message}",
                engine="argos",
                source_language=from_code,
                target_language=to_code,
                hint="download the .argosmodel file again from the Argos package index",
            ) from exc
        _swap_into_place(staging, top, destination, from_code, to_code)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_into_place(staging: Path, top: str, destination: Path, from_code: str, to_code: str) -> None:
    """Rename ``staging/top`` to ``destination``, retiring older packages for the pair.

    Old copies are first moved aside into ``staging`` and moved back if the final rename
    fails. Every step is a rename, so a reader never sees a half-extracted package (at
    worst, for an instant, no package for the pair).
    """
    replaced = [destination] if destination.exists() else []
    replaced += [
        info.path
        for info in list_installed(destination.parent)
        if info.path != destination and (info.from_code, info.to_code) == (from_code, to_code)
    ]
    retired: list[tuple[Path, Path]] = []
    try:
        for number, old in enumerate(replaced):
            aside = staging / f".old-{number}-{old.name}"
            os.rename(old, aside)
            retired.append((old, aside))
        os.rename(staging / top, destination)
    except OSError:
        for old, aside in reversed(retired):
            os.rename(aside, old)
        raise
    for old, _ in retired:
        logger.info("replaced Argos package %s", old)


def _info(package: Package) -> PackageInfo:
    label = (
        f"{package.from_name} → {package.to_name}"
        if package.from_name and package.to_name
        else f"{package.from_code} → {package.to_code}"
    )
    return PackageInfo(
        from_code=str(package.from_code),
        to_code=str(package.to_code),
        package_version=str(package.package_version or ""),
        path=Path(package.package_path),
        name=label,
    )


def _validate_archive(path: Path) -> tuple[str, Mapping[str, Any]]:
    """Check an .argosmodel before extraction; return its top directory and metadata."""

    def bad(problem: str, hint: str) -> ModelError:
        return ModelError(f"{path}: {problem}", engine="argos", hint=hint)

    redownload = "download the .argosmodel file again from the Argos package index"
    if not path.is_file():
        raise bad("no such file", "check the path to the .argosmodel file")
    if not zipfile.is_zipfile(path):
        raise bad("not an Argos package (an .argosmodel is a zip archive)", redownload)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            unsafe = [name for name in names if _unsafe_member(name)]
            if unsafe:
                raise bad(
                    f"unsafe member {unsafe[0]!r} in the archive (absolute path or '..')",
                    "do not install this file; download the package from the Argos index",
                )
            tops = _top_level_entries(names)
            if len(tops) != 1:
                listed = ", ".join(sorted(tops)) or "nothing"
                raise bad(
                    f"an Argos package holds exactly one top-level directory, found {listed}",
                    redownload,
                )
            top = tops.pop()
            if top.startswith("."):
                raise bad(f"the package directory {top!r} is hidden", redownload)
            members = set(names)
            missing = [
                f"{top}/{name}" for name in ("metadata.json", "model/model.bin") if f"{top}/{name}" not in members
            ]
            if not any(f"{top}/{name}" in members for name in _TOKENIZER_FILES):
                missing.append(f"{top}/sentencepiece.model (or bpe.model)")
            if missing:
                raise bad("incomplete Argos package, missing " + ", ".join(missing), redownload)
            try:
                metadata = json.loads(archive.read(f"{top}/metadata.json").decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise bad(f"{top}/metadata.json is not valid JSON: {exc}", redownload) from exc
    except zipfile.BadZipFile as exc:
        raise bad(f"damaged zip archive: {exc}", redownload) from exc
    if not isinstance(metadata, dict):
        raise bad(f"{top}/metadata.json is not a JSON object", redownload)
    lacking = [key for key in ("from_code", "to_code") if not metadata.get(key)]
    if lacking:
        raise bad(f"{top}/metadata.json lacks {' and '.join(lacking)}", redownload)
    if metadata.get("type", "translate") != "translate":
        raise bad(
            f"not a translation package (type {metadata.get('type')!r})",
            "install a translate-<from>_<to> package",
        )
    return top, metadata


def _unsafe_member(name: str) -> bool:
    """True for a member that would land outside the extraction directory (zip-slip)."""
    normalised = name.replace("\\", "/")
    return (
        normalised.startswith("/")
        or (len(normalised) > 1 and normalised[1] == ":")  # C:... from Windows tools
        or ".." in PurePosixPath(normalised).parts
    )


def _top_level_entries(names: Iterable[str]) -> set[str]:
    """Top-level entries of an archive; plain files are marked, they make it invalid."""
    tops: set[str] = set()
    for name in names:
        parts = PurePosixPath(name).parts
        if not parts:
            continue
        if len(parts) == 1 and not name.endswith("/"):
            tops.add(f"{parts[0]} (a file)")
        else:
            tops.add(parts[0])
    return tops


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _fetch_index(client: httpx.Client, url: str, from_code: str, to_code: str, hint: str) -> list[Mapping[str, Any]]:
    import httpx

    try:
        response = client.get(url)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ModelError(
            f"cannot reach the Argos package index at {url}: {_reason(exc)}",
            engine="argos",
            source_language=from_code,
            target_language=to_code,
            hint=hint,
        ) from exc
    try:
        index = response.json()
    except ValueError as exc:
        raise ModelError(
            f"the Argos package index at {url} is not valid JSON: {exc}",
            engine="argos",
            source_language=from_code,
            target_language=to_code,
            hint=hint,
        ) from exc
    if not isinstance(index, list):
        raise ModelError(
            f"the Argos package index at {url} is not a list of packages",
            engine="argos",
            source_language=from_code,
            target_language=to_code,
            hint=hint,
        )
    return [entry for entry in index if isinstance(entry, dict)]


def _pick_package(index: list[Mapping[str, Any]], url: str, from_code: str, to_code: str) -> Mapping[str, Any]:
    from packaging.version import InvalidVersion, Version

    def version(entry: Mapping[str, Any]) -> Version:
        try:
            return Version(str(entry.get("package_version", "0")))
        except InvalidVersion:
            return Version("0")

    translate = [e for e in index if e.get("type", "translate") == "translate"]
    matches = [e for e in translate if (e.get("from_code"), e.get("to_code")) == (from_code, to_code)]
    if matches:
        return max(matches, key=version)
    targets = sorted({str(e.get("to_code")) for e in translate if e.get("from_code") == from_code})
    available = ", ".join(f"{from_code}->{t}" for t in targets) if targets else "none"
    raise ModelError(
        f"the Argos package index at {url} has no package for {from_code}->{to_code}; "
        f"packages from {from_code}: {available}",
        engine="argos",
        source_language=from_code,
        target_language=to_code,
        hint="pick a pair the index has, or translate through another engine",
    )


def _download(client: httpx.Client, url: str, sink: BinaryIO, on_progress: ProgressCallback | None) -> None:
    """Stream ``url`` into ``sink`` with size sanity checks (raises OSError on a bad size)."""
    with client.stream("GET", url) as response:
        response.raise_for_status()
        declared = response.headers.get("content-length", "")
        # With a content-encoding the header counts compressed bytes, not what we write.
        encoded = response.headers.get("content-encoding", "identity") not in ("identity", "")
        expected = int(declared) if declared.isdigit() and not encoded else None
        if expected is not None and expected > MAX_PACKAGE_BYTES:
            raise OSError(f"refusing a {expected}-byte download (limit {MAX_PACKAGE_BYTES})")
        done = 0
        for chunk in response.iter_bytes(_CHUNK):
            done += len(chunk)
            if done > MAX_PACKAGE_BYTES:
                raise OSError(f"download exceeds {MAX_PACKAGE_BYTES} bytes")
            sink.write(chunk)
            if on_progress is not None:
                on_progress(done, expected)
    if expected is not None and done != expected:
        raise OSError(f"truncated download: {done} of {expected} bytes")
    if done < MIN_PACKAGE_BYTES:
        raise OSError(f"download is only {done} bytes, too small for a language package")
