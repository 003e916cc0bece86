"""Atomic, idempotent file writes and the project-wide wiring lock.

Several scaffolds may wire one project at the same time (an agent creating
components in parallel), and a crash must never leave a half-written
pyproject.toml behind. So every write goes to a temporary file in the same
folder and is renamed over the target, and all wiring happens under one
exclusive lock. Stdlib only.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".claude/.hexforge.lock"

# Set (to the lock file's path) for the nested `copier copy` that wires a project
# while its parent holds the lock: the child's wiring must not wait for it.
LOCK_HELD_ENV = "HEXFORGE_WIRING_LOCKED"


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless it already holds exactly that.

    Returns whether the file changed. An unchanged file is not touched at all
    (its mtime stays), which makes a second wiring run a true no-op. An existing
    file keeps its permission bits; a symlink keeps pointing where it did and the
    file it points to is replaced.
    """
    target = path.resolve() if path.is_symlink() else path
    try:
        if target.read_bytes() == data:
            return False
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(target.parent)
    return True


def write_text_if_changed(path: Path, text: str) -> bool:
    """:func:`write_if_changed` for UTF-8 text, written with the newlines as given."""
    return write_if_changed(path, text.encode("utf-8"))


def _umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if sys.platform == "win32":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """Hold the exclusive wiring lock of the project at ``root`` (blocking).

    Re-entrant across one process tree: a child started with
    ``LOCK_HELD_ENV=<this lock's path>`` in its environment (see :func:`held_lock_env`)
    trusts its parent's lock instead of deadlocking on it.
    """
    lock_path = (root / LOCK_FILE).absolute()
    if os.environ.get(LOCK_HELD_ENV) == str(lock_path):
        yield
        return
    descriptor = hold_lock(lock_path)
    try:
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def hold_lock(lock_path: Path) -> int:
    """Take the exclusive lock on ``lock_path`` (blocking); the returned descriptor
    holds it until it is closed or the process ends."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    _lock(descriptor)
    return descriptor


_HELD_FOR_PROCESS: dict[str, int] = {}


def hold_lock_for_process(lock_path: Path) -> None:
    """Take the lock on ``lock_path`` and keep it until this process ends.

    Re-entrant within the process: a second call for the same path returns at once
    (a new descriptor on the same file would wait on our own lock for ever).
    """
    key = str(lock_path.absolute())
    if key not in _HELD_FOR_PROCESS:
        _HELD_FOR_PROCESS[key] = hold_lock(lock_path)


def private_folder(directory: Path) -> bool:
    """Create ``directory`` if needed; True when it is a folder only this user can
    write to (where the platform says who owns a file)."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: no owner uid; the user's own profile folder
        return True
    foreign_writers = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return info.st_uid == getuid() and not foreign_writers


def user_cache_root() -> Path:
    """``$XDG_CACHE_HOME/hexforge`` or ``~/.cache/hexforge``; a per-user folder in the
    temporary directory where there is no home (a container user without one)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):
            user = getattr(os, "getuid", lambda: "user")()
            return Path(tempfile.gettempdir()) / f"hexforge-{user}"
    return Path(base) / "hexforge"


def held_lock_env(root: Path) -> dict[str, str]:
    """Environment entries telling a child process that this process holds the lock."""
    return {LOCK_HELD_ENV: str((root / LOCK_FILE).absolute())}


if sys.platform == "win32":
    import msvcrt

    def _lock(descriptor: int) -> None:
        # LK_LOCK gives up after about ten seconds; keep waiting like flock does.
        while True:
            try:
                msvcrt.locking(descriptor, msvcrt.LK_LOCK, 1)
            except OSError:
                continue
            return

else:
    import fcntl

    def _lock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
