"""Compile each template once, not once per Copier run and per render.

Copier builds a fresh Jinja environment for every run, in a fresh clone of the
template, and compiles every file, path name and templated setting again; an
update does that three times over. Compiling, not rendering, was the larger part
of hexforge's render time, so the environment gets two caches:

- a bytecode cache for the files, on disk, so that the next run of the same
  template version reuses them. Jinja keys a file by its path, which is a new
  temporary clone every run; here the key is the template name (its path inside
  the template) plus the environment's syntax settings, and Jinja itself checks
  the source's checksum before using an entry, so an edited file is compiled anew.
  An entry is read from the disk once per process, for all its environments;
- a memo for ``from_string``, which Copier calls for every path part, question
  setting and task argument, mostly with the same few strings.

The cache folder is ``$HEXFORGE_JINJA_CACHE``, else ``$XDG_CACHE_HOME/hexforge/jinja``
(``~/.cache/hexforge/jinja``). ``HEXFORGE_JINJA_CACHE=off`` turns the disk cache off;
a folder that cannot be created, or that another user could write to, is not used.
Entries are written atomically by Jinja, so concurrent runs share the folder safely.
"""

from __future__ import annotations

import functools
import hashlib
import os
from importlib import metadata
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2 import Environment, FileSystemBytecodeCache, Template
from jinja2.bccache import Bucket

from atomic import private_folder, user_cache_root

CACHE_ENV = "HEXFORGE_JINJA_CACHE"
MEMO_SIZE = 4096

# Settings that change what a template compiles to.
_SYNTAX = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "autoescape",
    "is_async",
)


class TemplateNameBytecodeCache(FileSystemBytecodeCache):
    """Jinja's file cache, keyed by template name and environment settings, not path."""

    def __init__(self, directory: Path, environment: Environment) -> None:
        super().__init__(str(directory), "%s.jinja-cache")
        self.environment = environment

    @functools.cached_property
    def fingerprint(self) -> str:
        # Computed at the first template, once the environment's extensions are loaded.
        return fingerprint(self.environment)

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return hashlib.sha256(f"{self.fingerprint}|{name}".encode()).hexdigest()

    # An update builds three environments in one process, each loading the same
    # entries: the code read once is kept for the others (a code object is immutable).
    def load_bytecode(self, bucket: Bucket) -> None:
        code = _LOADED.get((bucket.key, bucket.checksum))
        if code is None:
            super().load_bytecode(bucket)
            code = bucket.code
        else:
            bucket.code = code
        _keep(bucket.key, bucket.checksum, code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        super().dump_bytecode(bucket)
        _keep(bucket.key, bucket.checksum, bucket.code)


# The entries this process has read or written: (key, source checksum) -> code.
_LOADED: dict[tuple[str, str], CodeType] = {}


def _keep(key: str, checksum: str, code: CodeType | None) -> None:
    if code is not None:
        if len(_LOADED) >= MEMO_SIZE:
            _LOADED.clear()
        _LOADED[key, checksum] = code


def cache_directory() -> Path | None:
    """Where compiled templates go, or None when the disk cache is off."""
    configured = os.environ.get(CACHE_ENV, "")
    if configured.lower() in {"off", "0", "no", "false"}:
        return None
    return Path(configured) if configured else user_cache_root() / "jinja"


def fingerprint(environment: Environment) -> str:
    """What, besides the source, decides the compiled code of a template: Jinja
    checks only its bytecode format and Python's version in an entry, not its own."""
    settings = [f"{name}={getattr(environment, name, None)!r}" for name in _SYNTAX]
    extensions = ",".join(sorted(getattr(environment, "extensions", {})))
    return "|".join(
        [
            type(environment).__qualname__,
            f"jinja2={jinja2.__version__}",
            f"copier={_copier_version()}",  # its Jinja extensions add syntax
            f"extensions={extensions}",
            *settings,
        ]
    )


@functools.cache
def _copier_version() -> str:
    # Looked up once per process: about 1 ms, and an update builds eight environments.
    try:
        return metadata.version("copier")
    except metadata.PackageNotFoundError:
        return "none"


def install(environment: Environment) -> None:
    """Give ``environment`` the disk bytecode cache and the ``from_string`` memo."""
    directory = cache_directory()
    if directory is not None and private_folder(directory):
        environment.bytecode_cache = TemplateNameBytecodeCache(directory, environment)
    _memoize_from_string(environment)


def _memoize_from_string(environment: Environment) -> None:
    # A compiled Template is immutable and renders with whatever context it is
    # given, so one object can serve every call with the same source. Only the
    # plain form is memoized: Copier never passes globals or a template class.
    compile_string = environment.from_string
    memo: dict[str, Template] = {}

    def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return compile_string(source, globals, template_class)
        template = memo.get(source)
        if template is None:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            template = memo[source] = _compiled_string(environment, source)
        return template

    environment.from_string = from_string  # type: ignore[method-assign]


def _compiled_string(environment: Environment, source: str) -> Template:
    """What ``Environment.from_string(source)`` makes, its code read from the disk
    cache when an earlier run compiled the same source: Copier's path names, question
    settings and task conditions are some 90 strings a copy, about 30 ms to compile."""
    cache = environment.bytecode_cache
    bucket = None
    if cache is not None:
        name = "string:" + hashlib.sha256(source.encode()).hexdigest()
        bucket = cache.get_bucket(environment, name, None, source)
    code = bucket.code if bucket is not None else None
    if code is None:
        code = environment.compile(source)
        if cache is not None and bucket is not None:
            bucket.code = code
            cache.set_bucket(bucket)
    return environment.template_class.from_code(
        environment, code, environment.make_globals(None), None
    )
