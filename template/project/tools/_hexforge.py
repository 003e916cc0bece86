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

The tools import it as ``_hexforge`` (``python tools/X.py`` puts ``tools/`` first
on ``sys.path``). It is hexforge's file: ``copier update`` keeps it current.
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
from typing import NoReturn

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


# -- Copier answers files -----------------------------------------------------------


def answers_scalar(raw: str) -> str:
    """The value of a one-line YAML scalar as Copier writes it (plain or quoted)."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return value[1:-1]
        return decoded if isinstance(decoded, str) else value[1:-1]
    if " #" in value:
        value = value.split(" #", 1)[0].rstrip()
    return value


def read_answers(path: Path) -> dict[str, str]:
    """The top-level one-line keys of an answers file (kind, component_name, _commit...).

    An unreadable file has no answers: the callers say what that means for them.
    """
    raw: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return {}
    key = None
    for line in text.splitlines():
        if key is not None and line[:1] in (" ", "\t") and line.strip()[:1] not in ("", "#"):
            # A long value goes on over indented lines (Copier's YAML folds a long
            # fields answer): YAML joins them with one space.
            raw[key] += " " + line.strip()
            continue
        key = None
        if not line or line[0] in " \t#-" or ":" not in line:
            continue
        name, _, value = line.partition(":")
        if name.strip() == name and name.replace("_", "a").replace("-", "a").isalnum():
            key = name
            raw[key] = value
    return {name: answers_scalar(value) for name, value in raw.items()}


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


def dirty_summary(root: Path, shown: int = 10) -> str | None:
    """What `git status` lists, as `M a.py, ?? b.py and 3 more`; None when clean."""
    entries = status_entries(root)
    if not entries:
        return None
    listed = ", ".join(f"{code.strip()} {path}" for code, path in entries[:shown])
    return listed + (f" and {len(entries) - shown} more" if len(entries) > shown else "")


# -- YAML (the agent's manifest) ----------------------------------------------------
#
# The tools stay stdlib-only, so they read .claude/manifest.yaml with this reader of
# the YAML people and ruamel write for it: block mappings and sequences, one-line flow
# collections ([], {a: 1}), plain and quoted scalars, | and > block scalars, comments.
# Anchors, aliases, tags and multi-line flow collections are refused with the line, so
# nothing is ever read as something it is not.


class YamlError(ValueError):
    """The text is not YAML this reader understands; the message names the line."""


_YAML_SPACE = " \t"  # YAML's whitespace: a no-break space is text
_YAML_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_YAML_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False}
_YAML_BOOL["FALSE"] = False
_YAML_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


def read_yaml(text: str) -> object:
    """The document in text (None when empty); :class:`YamlError` when unsupported."""
    raw = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    lines: list[tuple[int, str, int]] = []  # (indent, content, 1-based line)
    for number, line in enumerate(raw, start=1):
        content = _strip_comment(line).rstrip(_YAML_SPACE)
        if not content.strip(_YAML_SPACE) or content in ("---", "..."):
            continue
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise YamlError(f"line {number}: a tab in the indentation")
        stripped = content.lstrip(" ")
        lines.append((len(content) - len(stripped), stripped, number))
    if not lines:
        return None
    reader = _YamlBlocks(lines, raw)
    value = reader.node(0, lines[0][0])
    if reader.index < len(lines):
        raise YamlError(f"line {lines[reader.index][2]}: unexpected indentation")
    return value


def _strip_comment(line: str) -> str:
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1  # an escaped character, perhaps a quote
            elif char == quote and quote == "'" and line[index + 1 : index + 2] == "'":
                index += 1  # '' inside a single-quoted string
            elif char == quote:
                quote = ""
        elif char in "'\"" and (index == 0 or line[index - 1] in " \t:[{,-"):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
        index += 1
    return line


def _split_key(content: str) -> tuple[str, str] | None:
    """(key, rest) when content is a `key: value` or `key:` line, else None."""
    if content[0] in "'\"":
        end = content.find(content[0], 1)
        while end > 0 and content[0] == "'" and content[end + 1 : end + 2] == "'":
            end = content.find("'", end + 2)
        if end < 0 or not content[end + 1 :].startswith(":"):
            return None
        key = str(_yaml_scalar(content[: end + 1], 0))
        rest = content[end + 2 :]
        return (key, rest.strip(_YAML_SPACE)) if not rest or rest[0] == " " else None
    if content[0] in "[{&*!|>%@`" or (content[0] in "?-" and content[1:2] in ("", " ")):
        return None
    for index, char in enumerate(content):
        if char == ":" and (index + 1 == len(content) or content[index + 1] == " "):
            return content[:index].rstrip(_YAML_SPACE), content[index + 1 :].strip(_YAML_SPACE)
    return None


class _YamlBlocks:
    def __init__(self, lines: list[tuple[int, str, int]], raw: list[str]) -> None:
        self.lines = lines
        self.raw = raw
        self.index = 0

    def node(self, at: int, indent: int) -> object:
        self.index = at
        content = self.lines[at][1]
        if content == "-" or content.startswith("- "):
            return self.sequence(indent)
        if _split_key(content) is not None:
            return self.mapping(indent)
        self.index = at + 1
        return _yaml_inline(content, self.lines[at][2])

    def child(self, parent_indent: int, *, sequence_ok: bool) -> object:
        """The block under a `key:` or `-` with nothing after it (None when empty)."""
        if self.index >= len(self.lines):
            return None
        indent, content, _ = self.lines[self.index]
        if indent > parent_indent:
            return self.node(self.index, indent)
        if sequence_ok and indent == parent_indent and (content == "-" or content[:2] == "- "):
            return self.sequence(indent)
        return None

    def mapping(self, indent: int) -> dict[str, object]:
        result: dict[str, object] = {}
        while self.index < len(self.lines):
            line_indent, content, number = self.lines[self.index]
            if line_indent < indent:
                break
            split = _split_key(content) if line_indent == indent else None
            if split is None:
                raise YamlError(f"line {number}: expected `key: value` at this indentation")
            key, rest = split
            if key in result:
                raise YamlError(f"line {number}: the key {key!r} appears twice")
            self.index += 1
            if not rest:
                result[key] = self.child(indent, sequence_ok=True)
            elif rest[0] in "|>":
                result[key] = self.block_scalar(rest, indent, number)
            else:
                result[key] = _yaml_inline(rest, number)
        return result

    def sequence(self, indent: int) -> list[object]:
        result: list[object] = []
        while self.index < len(self.lines):
            line_indent, content, number = self.lines[self.index]
            if line_indent != indent or not (content == "-" or content.startswith("- ")):
                if line_indent > indent:
                    raise YamlError(f"line {number}: unexpected indentation")
                break
            rest = content[1:].lstrip(" ")
            if not rest:
                self.index += 1
                result.append(self.child(indent, sequence_ok=False))
                continue
            item_indent = indent + len(content) - len(rest)
            if rest[0] in "|>":
                self.index += 1
                result.append(self.block_scalar(rest, indent, number))
            elif rest == "-" or rest.startswith("- ") or _split_key(rest) is not None:
                # "- key: value" (or "- - x"): a block that starts on the dash's line.
                self.lines[self.index] = (item_indent, rest, number)
                result.append(self.node(self.index, item_indent))
            else:
                self.index += 1
                result.append(_yaml_inline(rest, number))
        return result

    def block_scalar(self, header: str, indent: int, number: int) -> str:
        style, chomp = header[0], header[1:].strip(_YAML_SPACE)
        if chomp not in ("", "-", "+"):
            raise YamlError(f"line {number}: block scalar header {header!r} is not supported")
        while self.index < len(self.lines) and self.lines[self.index][0] > indent:
            self.index += 1
        end = self.lines[self.index][2] - 1 if self.index < len(self.lines) else len(self.raw)
        body = self.raw[number:end]
        while body and not body[-1].strip(_YAML_SPACE):
            body.pop()
        widths = [len(line) - len(line.lstrip(" ")) for line in body if line.strip(_YAML_SPACE)]
        cut = min(widths, default=0)
        texts = [line[cut:] for line in body]
        if style == "|":
            value = "\n".join(texts)
        else:
            value = " ".join(text.strip(_YAML_SPACE) for text in texts if text.strip(_YAML_SPACE))
        return value if chomp == "-" else value + "\n"


def _yaml_inline(text: str, number: int) -> object:
    if text[0] in "[{":
        value, end = _yaml_flow(text, 0, number)
        if text[end:].strip(_YAML_SPACE):
            raise YamlError(f"line {number}: unexpected text after {text[:end]!r}")
        return value
    return _yaml_scalar(text, number)


def _yaml_scalar(text: str, number: int) -> object:
    text = text.strip(_YAML_SPACE)
    if text[:1] in ("&", "*", "!"):
        raise YamlError(f"line {number}: anchors, aliases and tags are not supported")
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            raise YamlError(f"line {number}: cannot read the string {text}") from None
        if isinstance(decoded, str):
            return decoded
    if text[:1] in "'\"":
        raise YamlError(f"line {number}: a quoted string does not end on its line")
    if text in _YAML_NULL:
        return None
    if text in _YAML_BOOL:
        return _YAML_BOOL[text]
    if _YAML_INT.fullmatch(text):
        return int(text)
    return text


def _yaml_flow(text: str, at: int, number: int) -> tuple[object, int]:
    """A flow collection starting at text[at]; returns it and the index after it."""
    close = "]" if text[at] == "[" else "}"
    items: list[object] = []
    mapping: dict[str, object] = {}
    index = at + 1
    while True:
        while index < len(text) and text[index] == " ":
            index += 1
        if index >= len(text):
            raise YamlError(f"line {number}: {text[at]!r} is not closed on its line")
        if text[index] == close:
            return (items if close == "]" else mapping), index + 1
        if text[index] in "[{":
            value, index = _yaml_flow(text, index, number)
            key = None
        else:
            start = index
            quote = text[index] if text[index] in "'\"" else ""
            if quote:
                index = text.find(quote, index + 1)
                while quote == "'" and index > 0 and text[index + 1 : index + 2] == "'":
                    index = text.find("'", index + 2)
                if index < 0:
                    raise YamlError(f"line {number}: a quoted string does not end")
                index += 1
            while (
                index < len(text)
                and text[index] not in ",]}"
                and not (
                    text[index] == ":" and text[index + 1 : index + 2] in (" ", ",", "]", "}", "")
                )
            ):
                index += 1
            value = (
                _yaml_scalar(text[start:index], number)
                if text[start:index].strip(_YAML_SPACE)
                else None
            )
            key = None
            if close == "}" and index < len(text) and text[index] == ":":
                key = "" if value is None else str(value)
                index += 1
                while index < len(text) and text[index] == " ":
                    index += 1
                if index < len(text) and text[index] in "[{":
                    value, index = _yaml_flow(text, index, number)
                else:
                    start = index
                    while index < len(text) and text[index] not in ",}":
                        index += 1
                    piece = text[start:index]
                    value = _yaml_scalar(piece, number) if piece.strip(_YAML_SPACE) else None
        if close == "}":
            if key is None:
                raise YamlError(f"line {number}: expected `key: value` in {{...}}")
            mapping[key] = value
        else:
            items.append(value)
        while index < len(text) and text[index] == " ":
            index += 1
        if index < len(text) and text[index] == ",":
            index += 1
        elif index < len(text) and text[index] != close:
            raise YamlError(f"line {number}: expected ',' or {close!r}")


# -- the agent's manifest -----------------------------------------------------------

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
