"""The template's Python modules, compiled once for all Copier runs.

Copier clones the template into a new temporary folder for every copy and update,
so Python's own byte-code cache, kept beside each source file and keyed by its path
and time, never serves twice: every run compiled every extension module again, in
Copier's process and in the task's (about 0.1 s of a copy). Here a module found in
one of the template's folders is loaded from a cache keyed by the SHA-256 of its
source and the interpreter's magic number, in ``$XDG_CACHE_HOME/hexforge/pyc``
(``~/.cache/hexforge/pyc``), a folder only this user can write to; when the cache
cannot be used the module is compiled as usual. ``HEXFORGE_PYC_CACHE=off`` turns it
off.
"""

from __future__ import annotations

import _imp
import hashlib
import importlib.machinery
import importlib.util
import marshal
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType

from atomic import private_folder, user_cache_root

CACHE_ENV = "HEXFORGE_PYC_CACHE"


class _CachedLoader(importlib.machinery.SourceFileLoader):
    cache: Path

    def get_code(self, fullname: str) -> CodeType:
        source = self.get_data(self.path)
        key = hashlib.sha256(importlib.util.MAGIC_NUMBER + source).hexdigest()
        cached = self.cache / f"{key}.pyc"
        try:
            code = marshal.loads(cached.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            code = None
        if isinstance(code, CodeType):
            # Compiled in another run's clone: tracebacks name this run's file.
            _imp._fix_co_filename(code, self.path)  # type: ignore[attr-defined]
            return code
        compiled = self.source_to_code(source, self.path)
        try:
            fd, name = tempfile.mkstemp(dir=self.cache, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(compiled))
            os.replace(name, cached)
        except OSError:
            pass
        return compiled


class _Finder:
    # A meta path finder by its find_spec alone: importlib.abc would import
    # importlib.resources, about 8 ms of every task's start.
    def __init__(self, folders: Sequence[Path], cache: Path) -> None:
        self.folders = [folder.resolve() for folder in folders]
        self.cache = cache

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        head, _, tail = fullname.rpartition(".")
        if head:
            places = [Path(entry) for entry in path or ()]
            places = [p for p in places if any(p.is_relative_to(f) for f in self.folders)]
        else:
            places = self.folders
        for place in places:
            for origin, package in (
                (place / tail / "__init__.py", True),
                (place / f"{tail}.py", False),
            ):
                if origin.is_file():
                    loader = _CachedLoader(fullname, str(origin))
                    loader.cache = self.cache
                    return importlib.util.spec_from_file_location(
                        fullname,
                        origin,
                        loader=loader,
                        submodule_search_locations=[str(origin.parent)] if package else None,
                    )
        return None


def install(folders: Sequence[Path]) -> None:
    """Load the modules of ``folders`` (and their packages) through the cache; their
    finder goes first, before those of folders installed earlier."""
    wanted = [folder.resolve() for folder in folders]
    if os.environ.get(CACHE_ENV) == "off":
        return
    for finder in sys.meta_path:
        if getattr(finder, "folders", None) == wanted:
            sys.meta_path.remove(finder)
            sys.meta_path.insert(0, finder)
            return
    cache = user_cache_root() / "pyc"
    if private_folder(cache):
        sys.meta_path.insert(0, _Finder(folders, cache))
