"""Folders this tool writes: claimed exclusively, replaced only when it wrote them.

A run builds its folder under a hidden staging name beside the target and publishes it
with one rename, so nothing that looks like a result is ever half written. The rename
never replaces a folder by accident: two runs aimed at one folder cannot both win (the
loser is told the folder exists), and ``--force`` replaces only a folder that holds this
tool's ``run.json`` and nothing this tool did not write (each folder keeps the hidden list
of the files written into it, ``MANIFEST``: a spreadsheet an analyst saved beside the
results stops the replacement), by an atomic exchange once the new folder is complete. A staging
folder carries the id of the process that made it, so the left-overs of a run that was
killed are recognised and removed by the next one; nothing else is ever deleted.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path

#: the file that marks a folder as written by this tool (see results/README.md)
OWNER_FILE = "run.json"
#: keys every run.json has: a folder whose run.json lacks them was not written here
OWNER_KEYS = ("package_version", "config_sha256")
#: the hidden list of every file this tool wrote into a folder (what --force may replace)
MANIFEST = ".outreach-sim-files.json"
#: a staging folder older than this is a left-over even if its process id is in use again
STALE_AFTER_SECONDS = 24 * 3600

_STAGING = re.compile(r"^\.(?P<name>.+)\.(?:partial|old)-(?P<pid>\d+)-[0-9a-f]{8}$")
#: names of staging folders made by earlier versions (no process id): removed by age only
_LEGACY = re.compile(r"^\.(?:.+\.partial|report-partial|charts-old)-[a-z0-9_]{8}$")


class FolderError(Exception):
    """A folder that this run may not write or replace; the message says why."""


class ResultsExistError(FolderError):
    """The target exists and --force was not given (or another run got there first)."""


#: bytes of a name made into a folder name (file systems allow 255)
MOST_COMPONENT_BYTES = 120
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_component(name: str, fallback: str = "campaign") -> str:
    """`name` as one safe folder name: no separators, control or reserved characters, no
    leading dot (`..`, a hidden folder), at most MOST_COMPONENT_BYTES bytes of UTF-8."""
    text = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    encoded = text.encode("utf-8")[:MOST_COMPONENT_BYTES]
    text = encoded.decode("utf-8", errors="ignore").strip()
    return text or fallback


def absolute(folder: Path) -> Path:
    """The folder as an absolute path without `.` or `..` (`--out .` has a name)."""
    return Path(os.path.abspath(folder))


def written_here(folder: Path) -> bool:
    """Whether `folder` is a real folder (not a link) holding this tool's run.json."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        with open(folder / OWNER_FILE, "rb") as file:
            meta = json.loads(file.read(1 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and all(key in meta for key in OWNER_KEYS)


def _files_under(folder: Path) -> list[str]:
    """Every entry under `folder` that is not a folder (files, links), as relative paths,
    and every empty folder; links are not followed."""
    found = []
    for root, dirs, files in os.walk(folder):
        here = Path(root).relative_to(folder)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            found.append((here / name).as_posix())
        if not dirs and not files and here != Path("."):
            found.append(here.as_posix() + "/")
    return found


def _digest(path: Path) -> str | None:
    """A file's SHA-256; None for a link or anything but a file."""
    if path.is_symlink() or not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(folder: Path) -> dict[str, str | None]:
    """The folder's list of files this tool wrote, each with its SHA-256 as written (None
    for an empty folder, or in a list kept before the digests were)."""
    try:
        with open(folder / MANIFEST, "rb") as file:
            data = json.loads(file.read(1 << 24))
    except (OSError, ValueError):
        return {}
    if isinstance(data, list):  # names only, as earlier versions kept them
        return {name: None for name in data if isinstance(name, str)}
    if isinstance(data, dict):
        return {n: d if isinstance(d, str) else None for n, d in data.items() if isinstance(n, str)}
    return {}


def record_files(folder: Path, names: list[str] | None = None) -> None:
    """Add `names` (default: every file now under `folder`, a folder just staged) to the
    folder's list of files this tool wrote, with their SHA-256 as written now; the list
    is replaced whole."""
    recorded = _manifest(folder)
    for name in _files_under(folder) if names is None else names:
        if name != MANIFEST:
            recorded[name] = _digest(folder / name)
    fresh = folder / f"{MANIFEST}.{os.getpid()}-{secrets.token_hex(4)}"
    fresh.write_text(json.dumps(dict(sorted(recorded.items())), indent=0) + "\n", encoding="utf-8")
    os.replace(fresh, folder / MANIFEST)


def recorded_files(folder: Path) -> list[str]:
    """The files this tool recorded writing into `folder` (none for a folder written
    before the list was kept)."""
    return list(_manifest(folder))


def foreign_files(folder: Path) -> list[str]:
    """What `folder` holds that this tool did not write (an analyst's notes, a
    spreadsheet), as relative paths: what --force must never delete."""
    recorded = set(recorded_files(folder))
    return [name for name in _files_under(folder) if name not in recorded and name != MANIFEST]


def edited_files(folder: Path) -> list[str]:
    """Files this tool wrote that were changed since (a chart annotated and saved under
    its name, notes typed into report.md), as relative paths: what --force and a new
    report must not replace either. A list kept without digests tells none."""
    return [
        name
        for name, digest in _manifest(folder).items()
        if digest is not None
        and os.path.lexists(folder / name)
        and _digest(folder / name) != digest
    ]


def _refuse_foreign(folder: Path, what: str) -> None:
    if not (folder / MANIFEST).is_file():
        raise FolderError(
            f"{shown_path(folder)}: has no list of the files outreach-sim wrote into it (an "
            f"earlier outreach-sim kept none; a copy may have left the hidden "
            f"{MANIFEST} behind), so --force cannot tell them from yours: remove it "
            f"yourself, or give another --out. The {what} was left untouched"
        )
    foreign = foreign_files(folder)
    if foreign:
        raise FolderError(
            f"{shown_path(folder)}: holds files outreach-sim did not write "
            f"({_first_few(foreign)}); --force replaces only what it wrote: move "
            f"them, or give another --out. The {what} was left untouched"
        )
    edited = edited_files(folder)
    if edited:
        raise FolderError(
            f"{shown_path(folder)}: holds files changed since outreach-sim wrote them "
            f"({_first_few(edited)}); --force replaces only what it wrote as it wrote "
            f"it: move them, or give another --out. The {what} was left untouched"
        )


def _first_few(names: list[str]) -> str:
    """Up to three names, and how many more: a line stays readable for a full folder."""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def check_target(folder: Path, force: bool, what: str = "results folder") -> None:
    """Refuse, before any work, a target this run may not write: one that exists (without
    --force), one that --force may not replace, the current folder, one inside a results
    folder, or an unwritable one."""
    folder = absolute(folder)
    for part in folder.parts:
        if len(os.fsencode(part)) > 255:
            raise FolderError(f"{shown_path(folder)}: a folder name longer than 255 bytes")
    here = Path.cwd().resolve()
    if here == folder.resolve() or folder.resolve() in here.parents:
        raise FolderError(f"{folder}: is the current folder or holds it; give a {what} of its own")
    for outer in folder.resolve().parents:  # a result is not written into another one
        if written_here(outer):
            raise FolderError(
                f"{shown_path(folder)}: inside {shown_path(outer)}, a results folder of "
                f"outreach-sim; give a {what} outside it (the two runs' files would mix)"
            )
    if os.path.islink(folder):  # "not a results folder" would be wrong for a link to one
        raise FolderError(
            f"{folder}: a link (to {os.readlink(folder)}); a run never writes through a link "
            f"(--force would replace what it points to): give the {what} itself or another --out"
        )
    if os.path.lexists(folder):
        if not force and not written_here(folder):
            raise ResultsExistError(
                f"{folder} already exists and is not a {what} of outreach-sim; give another "
                f"--out (--force replaces only a {what} it wrote)"
            )
        if not force:
            raise ResultsExistError(f"{folder} already exists (use --force to replace it)")
        if not written_here(folder):
            raise FolderError(
                f"{folder}: --force replaces only a {what} written by outreach-sim (a folder "
                f"with its {OWNER_FILE}); this is not one, and it was left untouched"
            )
        _refuse_foreign(folder, what)
    check_writable(folder)


def check_writable(path: Path) -> None:
    """Refuse a path whose nearest existing parent is not a folder this process may write
    in (a file given as a folder, a read-only place), before any work."""
    parent = Path(os.path.abspath(path)).parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise FolderError(f"{path}: cannot write there ({parent} is not a writable folder)")


def free_name(folder: Path) -> Path:
    """`folder`, or the first of `folder-2`, `folder-3`, ... that does not exist: for a
    name the tool chose itself (results/<config>-<time>), never one the user gave."""
    base, number = folder, 1
    while os.path.lexists(folder):
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    return folder


def shown_path(path: Path, most: int = 120) -> str:
    """A path as a one-line message shows it (a very long one cut in the middle)."""
    text = str(path)
    return text if len(text) <= most else f"{text[: most // 2]}...{text[-most // 2 :]}"


def make_staging(parent: Path, name: str, kind: str = "partial") -> Path:
    """A new hidden folder `.<name>.<kind>-<pid>-<random>` in `parent`, made with the
    user's umask (a result is shared like any other file)."""
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        path = parent / f".{name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return path


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(parent: Path, now: float | None = None) -> list[Path]:
    """Remove the staging folders in `parent` left by runs that died: those whose process
    is gone, or older than a day. Only names this tool makes are considered."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        staging = _STAGING.match(entry.name)
        if not staging and not _LEGACY.match(entry.name):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid = int(staging["pid"]) if staging else None
        if pid == os.getpid():
            continue
        dead = pid is not None and not _process_alive(pid)
        if dead or age > STALE_AFTER_SECONDS:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


# --- renames that never replace by accident (Linux renameat2, else a portable way) ---

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}


def _renameat2(source: Path, target: Path, flag: int) -> bool:
    """Linux renameat2 with `flag`; False where the system or file system lacks it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    done = call(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flag)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(target))


def rename_exclusive(source: Path, target: Path) -> None:
    """Rename `source` to `target`, raising FileExistsError if `target` exists (whatever
    another process does meanwhile)."""
    if _renameat2(source, target, _RENAME_NOREPLACE):
        return
    os.mkdir(target)  # the claim: only one process can make it
    try:
        os.replace(source, target)  # a folder may replace the empty folder just made
    except BaseException:
        with contextlib.suppress(OSError):
            os.rmdir(target)
        raise


def exchange(source: Path, target: Path) -> None:
    """Swap two folders atomically where the system can (else by two renames): after
    it, `target` holds what `source` held and `source` the former `target`."""
    if _renameat2(source, target, _RENAME_EXCHANGE):
        return
    aside = make_staging(target.parent, target.name, "old")
    os.rmdir(aside)
    os.rename(target, aside)
    try:
        rename_exclusive(source, target)
    except BaseException:
        os.rename(aside, target)
        raise
    os.rename(aside, source)


def publish(staging: Path, folder: Path, force: bool, what: str = "results folder") -> None:
    """Move the complete `staging` folder to `folder`: claimed exclusively, or with
    `force` in exchange for an existing folder this tool wrote (then removed). The
    staging folder's files are recorded as this tool's first."""
    record_files(staging)
    try:
        rename_exclusive(staging, folder)
        return
    except FileExistsError:
        if not force:
            raise ResultsExistError(
                f"{folder} already exists (another run wrote it while this one ran; "
                f"use --force to replace it)"
            ) from None
    if not written_here(folder):
        raise FolderError(
            f"{folder}: --force replaces only a {what} written by outreach-sim (a folder "
            f"with its {OWNER_FILE}); this is not one, and it was left untouched"
        )
    _refuse_foreign(folder, what)  # checked again: a file may have arrived during the run
    exchange(staging, folder)
    shutil.rmtree(staging, ignore_errors=True)  # the former folder, now aside
