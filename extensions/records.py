"""Records, in the user's cache folder, of work found to change nothing: an empty file
named by the digest of everything the work read. A scaffold meeting the same inputs
again (the next one in the project, a clone of it) skips that work.

Used for the precheck's parsing (precheck.py) and the wiring's pyproject.toml merge
(wiring.py): each costs tens of milliseconds (tomlkit, ruamel.yaml) on every Copier
run, and on most runs finds nothing to do.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from atomic import private_folder, user_cache_root

# Records kept per kind, the newest.
KEPT = 256


def digest(*parts: bytes | str) -> str:
    """One name for all of ``parts``, in their order (each hashed apart, so no two
    sequences of parts run together into the same bytes)."""
    total = hashlib.sha256()
    for part in parts:
        total.update(hashlib.sha256(part.encode() if isinstance(part, str) else part).digest())
    return total.hexdigest()


def file_parts(paths: list[Path]) -> list[bytes]:
    """The bytes of each of ``paths``; b"absent" for one that cannot be read."""
    found = []
    for path in paths:
        try:
            found.append(path.read_bytes())
        except OSError:
            found.append(b"absent")
    return found


class Records:
    """The records of one kind of work (a folder of the user's cache)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _folder(self) -> Path | None:
        folder = user_cache_root() / self.kind
        return folder if private_folder(folder) else None

    def has(self, stamp: str) -> bool:
        folder = self._folder()
        return folder is not None and (folder / stamp).is_file()

    def add(self, stamp: str) -> None:
        """Record ``stamp``; keep the :data:`KEPT` newest records."""
        folder = self._folder()
        if folder is None:
            return
        (folder / stamp).touch()
        records = sorted(folder.iterdir(), key=_modified, reverse=True)
        for old in records[KEPT:]:
            old.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
