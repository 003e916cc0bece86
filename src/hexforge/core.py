"""What the tools hexforge renders into this project share: one place for each.

Stdlib only, so every tool runs with any Python 3.11+ and nothing installed:

- command lines: :class:`ArgumentParser` turns argparse's errors into
  :class:`UsageError`; :func:`cli` runs a tool's ``main`` so that a usage error
  is one line and exit 2 (never a traceback), a refusal one line and exit 1;
- Copier answers files: :func:`read_answers` (the top-level one-line keys);
- files: :func:`read_text` / :func:`write_text_atomic` keep a file's line
  endings, :func:`write_json_atomic` for evidence;
- git: :func:`git`, :func:`status_entries` and :func:`dirty_summary`;
- the agent's manifest: :func:`read_yaml` (the YAML it holds, without a YAML package)
  and :func:`read_manifest`.

The subcommands of ``hexforge`` (and the project's ``tools/*.py`` entry points)
import it as ``hexforge.core``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import yaml

_BaseLoader: type[Any] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader on YAML 1.2's core schema, as the wiring (ruamel) writes:
    only true/false are booleans (``no``, ``on``, ``y`` stay strings: component
    names may be spelt so), ``0o17`` is octal, ``1:20`` is a string."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}


for _tag, _pattern, _first in (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("null", r"~|null|Null|NULL|", "~nN"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        "float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+.0123456789",
    ),
):
    _SafeLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(f"^(?:{_pattern})$"), list(_first) or None
    )
_SafeLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile("^$"), [""])


def _core_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


_SafeLoader.add_constructor("tag:yaml.org,2002:int", _core_int)

# -- command lines ------------------------------------------------------------------


class UsageError(Exception):
    """The command line is wrong: one line on stderr, exit 2."""


class Refused(Exception):
    """The tool will not do what was asked, for a reason it names: exit 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line raises :class:`UsageError` (one line)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def cli(
    main: Callable[[Sequence[str] | None], int],
    argv: Sequence[str] | None = None,
    *,
    prog: str | None = None,
) -> int:
    """Run a tool's ``main``: usage errors exit 2 and refusals 1, each as one line.

    ``prog`` names the tool in those lines (default: the script's file name).
    """
    if prog is None:
        prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "tool"
    try:
        return main(argv)
    except UsageError as error:
        print(f"{prog}: error: {one_line(str(error))}", file=sys.stderr)
        return 2
    except Refused as error:
        print(f"{prog}: {one_line(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def one_line(text: str) -> str:
    """text as one printable line: a line break or control character that came with
    an argument is shown escaped (\\r, \\x1b), never acted on by the terminal."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (value > 0 and value != float("inf")):  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number of seconds above 0")
    return value


# -- the project ----------------------------------------------------------------------


# Set by a project's entry point (tools/<tool>.py, see hexforge.cli.tool): the project
# that holds it, whatever the working folder.
ENTRY_ROOT: Path | None = None


def project_root(start: Path | None = None) -> Path:
    """The project a command works on: the project whose tools/ entry point runs it,
    else the nearest folder from ``start`` (default: the current one) upwards that
    holds a ``components/`` folder or a Copier answers file; else ``start`` itself
    (a tool then says what it misses)."""
    if start is None and ENTRY_ROOT is not None:
        return ENTRY_ROOT
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "components").is_dir() or (folder / ".copier-answers.yml").is_file():
            return folder
    return here


# -- files --------------------------------------------------------------------------


def read_text(path: Path) -> tuple[str, str]:
    """A text file's content with ``\\n`` line ends, and the line end it used.

    Write it back with :func:`write_text_atomic` and that line end: a tool that
    edits a file never changes the user's line endings.
    """
    data = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in data else "\n"
    return data.replace("\r\n", "\n"), newline


def write_text_atomic(path: Path, text: str, newline: str = "\n") -> None:
    """Write beside the target, then rename over it: readers see old or new, never half."""
    data = text.replace("\r\n", "\n")
    if newline != "\n":
        data = data.replace("\n", newline)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: object) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- git ----------------------------------------------------------------------------


class GitError(Refused):
    """git is missing or a git command failed; the message says which."""


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in ``root`` without a terminal; :class:`GitError` when it fails."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    if check and result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise GitError(f"git {' '.join(args)} failed: {lines[-1] if lines else result.returncode}")
    return result


def status_entries(root: Path) -> list[tuple[str, str]]:
    """(status code, path) for every change in the work tree, untracked files included."""
    out = git(root, "status", "--porcelain", "-z", "--untracked-files=all").stdout
    parts = out.split("\0")
    entries: list[tuple[str, str]] = []
    index = 0
    while index < len(parts):
        item = parts[index]
        index += 1
        if len(item) < 4:
            continue
        code, path = item[:2], item[3:]
        if "R" in code or "C" in code:
            index += 1  # the rename's source path follows
        entries.append((code, path))
    return entries


# Written in the project before `copier update` writes anything, removed by the task
# that ends it: still there, the update was stopped half-way (killed, the terminal
# closed) and the tree holds part of it.
UPDATE_MARKER = ".hexforge-update"


def interrupted_update(root: Path) -> str | None:
    """One line saying an update was stopped half-way in ``root``; None if not."""
    if not (root / UPDATE_MARKER).exists():
        return None
    return (
        f"an update was stopped half-way ({UPDATE_MARKER} is still in {root}): the "
        "tree holds part of it; the update started from a clean tree, so "
        "`git reset --hard && git clean -fd` puts the project back, then run it again"
    )


def dirty_summary(root: Path, shown: int = 10) -> str | None:
    """What `git status` lists, as `M a.py, ?? b.py and 3 more`; None when clean."""
    entries = status_entries(root)
    if not entries:
        return None
    listed = ", ".join(f"{code.strip()} {path}" for code, path in entries[:shown])
    return listed + (f" and {len(entries) - shown} more" if len(entries) > shown else "")


# -- YAML (the agent's manifest) ----------------------------------------------------
#
# YAML is read with PyYAML (its C reader when built): any valid YAML the agent or a
# person writes is read, flow collections over several lines included. The answers
# files are read with BaseLoader, which leaves every scalar a string: a commit id such
# as 5e72125 or a version such as 1.10 is never turned into a number.


class YamlError(ValueError):
    """The text is not YAML; the message names the line."""


def _load(text: str, loader: type[Any]) -> object:
    try:
        return yaml.load(text, Loader=loader)
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        raise YamlError(f"line {line}: character {error.character!r} is not allowed") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise YamlError(f"{where}{one_line(error.problem or str(error))}") from None
    except yaml.YAMLError as error:
        raise YamlError(one_line(str(error))) from None
    except RecursionError:
        raise YamlError("nested too deeply to read") from None


def read_yaml(text: str) -> object:
    """The document in text (None when empty); :class:`YamlError` when it is not YAML."""
    return _load(text, _SafeLoader)


def read_answers(path: Path) -> dict[str, str]:
    """The top-level scalar answers of an answers file (kind, component_name, _commit...),
    every one a string as written.

    An unreadable file has no answers: the callers say what that means for them.
    """
    try:
        document = _load(path.read_text(encoding="utf-8-sig"), _BaseLoader)
    except (OSError, UnicodeDecodeError, YamlError):
        return {}
    if not isinstance(document, dict):
        return {}
    return {str(key): value for key, value in document.items() if isinstance(value, str)}


MANIFEST = Path(".claude") / "manifest.yaml"
EVIDENCE = Path(".claude") / "evidence"


def read_manifest(root: Path) -> dict[str, object] | None:
    """The manifest's top-level keys; None when the project has no manifest.

    :class:`Refused` names the line when the file cannot be read (not UTF-8, YAML
    this reader does not take, or not a mapping at the top).
    """
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        document = read_yaml(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise Refused(f"{MANIFEST} is not UTF-8 text ({error.reason})") from None
    except YamlError as error:
        raise Refused(f"cannot read {MANIFEST}: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise Refused(f"{MANIFEST} must hold a mapping of keys at the top")
    return document


# The task list the coding agent works through (outstanding.tasks in the manifest):
#   - id: T001                 required, unique
#     title: Orders can be listed by customer
#     status: pending          pending | in_progress | completed | skipped | failed | blocked
#     scope: backend           backend | fullstack | frontend (default backend)
#     notes: why it was skipped, what was fixed on the second attempt...
TASK_STATUSES = ("pending", "in_progress", "completed", "skipped", "failed", "blocked")
BACKEND_SCOPES = ("backend", "fullstack")


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    status: str
    scope: str
    notes: str


def outstanding(manifest: dict[str, object], key: str) -> object:
    """manifest["outstanding"][key], or None when either is absent."""
    section = manifest.get("outstanding")
    return section.get(key) if isinstance(section, dict) else None


def manifest_tasks(manifest: dict[str, object]) -> tuple[list[Task], list[str]]:
    """The backend and fullstack tasks of outstanding.tasks, and what is wrong with the
    list (each problem one line naming the task)."""
    raw = outstanding(manifest, "tasks")
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], ["outstanding.tasks must be a list of tasks"]
    tasks: list[Task] = []
    problems: list[str] = []
    seen: set[str] = set()
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or entry.get("id") in (None, ""):
            problems.append(f"task {position} of outstanding.tasks has no id")
            continue
        task = Task(
            id=str(entry["id"]),
            title=_text(entry.get("title")),
            status=_text(entry.get("status")) or "pending",
            scope=_text(entry.get("scope")) or "backend",
            notes=_text(entry.get("notes")),
        )
        if task.id in seen:
            problems.append(f"task {task.id} appears twice in outstanding.tasks")
        seen.add(task.id)
        if task.status not in TASK_STATUSES:
            problems.append(
                f"task {task.id} has status {task.status!r}; use one of {', '.join(TASK_STATUSES)}"
            )
        if task.scope in BACKEND_SCOPES:
            tasks.append(task)
    return tasks, problems


def _text(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())
