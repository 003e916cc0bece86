"""Keep a story's backend log (BACKEND-LOG.md) in the shape reviewers rely on.

A story folder is ``<feature_dir>/in-progress/<STORY_ID>/_implementation/``. The backend
coder works in chunks and records each one in ``BACKEND-LOG.md`` there::

    python tools/story_log.py chunk DIR [--name NAME] [FIELD VALUES] [--file PATH]...
        [--files-from-git [REF]]                         record a chunk
    python tools/story_log.py check DIR [--format json]  list every problem, with lines
    python tools/story_log.py block DIR --context TEXT --decision TEXT \\
        --option TEXT --option TEXT [--recommendation TEXT] --blocked-steps TEXT
                                                         write BLOCKERS.md, end with BLOCKED
    python tools/story_log.py tokens DIR --read FILE... --written FILE...
                                                         fill the Worker Token Summary
    python tools/story_log.py complete DIR               check, then end with BACKEND COMPLETE

``chunk`` adds the next numbered chunk, or, while the last chunk is still the empty
skeleton (a fresh log's chunk 1), fills that one. Each field's value may come from the
command line: ``--objective``, ``--summary``, ``--reused``, ``--new``, ``--why-new``,
``--core``, ``--adapters``, ``--commands``, ``--notes`` (one line each); ``--file PATH``
(repeatable; ``'PATH (deleted)'`` for a removed file) and ``--files-from-git [REF]``
(what git shows changed since REF, default HEAD, untracked files included, the story's
own folder left out) fill "Files changed". A field left out keeps its ``<hint>``; when
filling, only the lines of the fields given change.

``complete`` ends the log with ``BACKEND COMPLETE`` only when the log so ended passes
``check`` and the plan files (IMPLEMENTATION-PLAN.md, SCOPE.md) hold none of their
skeleton hints (hexforge.plans); otherwise it lists every problem and writes nothing.
``check`` of a complete story reports those hints too.

``check`` holds a log to its structure while the story is in progress (headings,
numbering, every field present, files that exist, no chunk after the summary, the
signal last) and, in every chunk but an untouched last one, to filled fields. The
token summary must be filled once the log hands the story back: when it ends with
``BACKEND COMPLETE`` (then every chunk must be filled) or ``BLOCKED: <reason>``.

Log layout: header and notes, then ``## Chunk N — short name`` sections (numbered
1, 2, 3... with no gaps), then ``## Worker Token Summary``, then optionally the
status signal alone on the last non-empty line: ``BACKEND COMPLETE`` or
``BLOCKED: <reason>``.

Each chunk holds these top-level bullets, labels as shown (case, emphasis and the
parenthesised part do not matter), each with a value on its line or in the lines
indented under it:

    - Objective (maps to story requirement/AC):
    - Files changed:          one sub-bullet per path, relative to the project root
    - Summary of changes:
    - Reuse compliance:       sub-bullets Reused: / New: / Why new was necessary:
    - Ports & adapters note:  sub-bullets What stayed in core: / What stayed in adapters:
    - Commands run (if any):  write "none" when nothing was run
    - Notes / Risks:          write "none" when there is nothing to add

A value is a *placeholder* (so the field counts as empty) when, once ``<...>`` hints,
backticks and emphasis are removed, nothing is left or only ``...``, ``…``, ``TODO``,
``TBD`` or ``-``; a Files changed entry that is just ``path`` is one too.

Files changed entries: the path is the text in the first pair of backticks, else the
first word. It must be relative, stay inside the project and exist there, unless the
entry says ``(deleted)`` or ``(removed)``. The project root is ``--root`` when given;
else the Copier destination recorded by the story's ``.copier-answers.yml`` (the
folder above ``<feature_dir>/in-progress/<story_id>/_implementation``); else the
nearest folder above DIR holding ``.git``, ``pyproject.toml`` or
``.copier-answers.yml``; else the current directory.

Signals: ``BACKEND COMPLETE`` or ``BLOCKED: <reason>`` count only as a whole line,
unindented, outside code fences, and only as the last non-empty line. A blocked log
needs ``BLOCKERS.md`` beside it (and may leave its last chunk an untouched skeleton);
a complete one must not have it. After a blocker is resolved and ``BLOCKERS.md``
removed, ``chunk`` resumes: it moves the BLOCKED reason into a ``> Resumed after a
block:`` note under the next chunk's heading. ``chunk`` refuses a completed log and an open
blocker.

Exit status: 0 done/clean, 1 problems found (check) or the story's state refuses the
command (completed log, open blocker), 2 usage error (bad arguments, missing files),
always one line on stderr. Every command keeps the log's line endings (CRLF stays CRLF).
Nothing is written when a command fails. Stdlib only; Python 3.11+.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from hexforge import plans
from hexforge.core import (
    ArgumentParser,
    Refused,
    UsageError,
    cli,
    git,
    read_answers,
    read_text,
    write_text_atomic,
)

LOG_NAME = "BACKEND-LOG.md"
BLOCKERS_NAME = "BLOCKERS.md"
ANSWERS_NAME = ".copier-answers.yml"
COMPLETE = "BACKEND COMPLETE"
BLOCKED_PREFIX = "BLOCKED:"
BLOCKED_REASON_PREFIX = "Architectural decision required - "
SUMMARY_TITLE = "Worker Token Summary"
DASH = "\u2014"  # the em dash of "## Chunk N — short name"
NAME_HINT = "<short name>"
PATH_HINT = "<path relative to the project root>"
ROOT_MARKERS = (".git", "pyproject.toml", ANSWERS_NAME)


@dataclass(frozen=True)
class FieldSpec:
    """One top-level bullet of a chunk: its label, hint and required sub-bullets."""

    label: str
    hint: str
    subfields: tuple[tuple[str, str], ...] = ()
    paths: bool = False


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "Objective (maps to story requirement/AC)",
        "<the story requirement or acceptance criterion this chunk delivers>",
    ),
    FieldSpec("Files changed", PATH_HINT, paths=True),
    FieldSpec("Summary of changes", "<what changed and why, in a sentence or two>"),
    FieldSpec(
        "Reuse compliance",
        "",
        subfields=(
            ("Reused", "<existing modules, packages or helpers this chunk builds on>"),
            ("New", "<modules, classes, tables or endpoints added>"),
            ("Why new was necessary", "<why nothing existing fitted; n/a when nothing is new>"),
        ),
    ),
    FieldSpec(
        "Ports & adapters note",
        "",
        subfields=(
            ("What stayed in core", "<logic kept in domain/ports, free of HTTP and SQL types>"),
            ("What stayed in adapters", "<HTTP, SQL and other I/O kept in adapters>"),
        ),
    ),
    FieldSpec("Commands run (if any)", "<each command and its result; none if nothing ran>"),
    FieldSpec("Notes / Risks", "<risks, follow-ups, type errors met; none if nothing>"),
)

PLACEHOLDER_WORDS = frozenset({"", "...", "\u2026", "todo", "tbd", "-", "\u2014"})
HINT_RE = re.compile(r"<[^<>]*>")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET_RE = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
CHUNK_WORD_RE = re.compile(r"^chunk\b", re.IGNORECASE)
CHUNK_HEADING_RE = re.compile(r"^Chunk\s+(\d+)\s*(?:[\u2014\u2013-]+\s*(.*))?$", re.IGNORECASE)
FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
NUMBER_RE = re.compile(r"\d")
PAREN_RE = re.compile(r"\([^)]*\)")


class RefusedError(Refused):
    """The story's state does not allow the command: exit status 1."""


@dataclass(frozen=True)
class Problem:
    line: int
    rule: str
    message: str


@dataclass
class Chunk:
    line: int  # 1-based line of the heading
    number: int | None
    name: str
    start: int  # 0-based index of the heading
    end: int  # 0-based index one past the section's last line
    untouched: bool = False
    problems: list[Problem] = field(default_factory=list)


# --------------------------------------------------------------------------- parsing


def normalize_label(label: str) -> str:
    """Compare labels loosely: no case, emphasis, parenthesised part or spaces."""
    text = PAREN_RE.sub("", label.replace("*", "").replace("_", " ").replace("`", ""))
    text = text.lower().replace(" and ", " & ")
    return "".join(text.split())


FIELD_KEYS = {normalize_label(spec.label): spec for spec in FIELDS}
SUMMARY_KEY = normalize_label(SUMMARY_TITLE)


def strip_bullet(text: str) -> str:
    match = BULLET_RE.match(text)
    return match.group(2) if match else text.strip()


def is_placeholder(text: str, *, path_entry: bool = False) -> bool:
    """True when text carries nothing but hints (see the module docstring)."""
    value = strip_bullet(text).strip()
    if FENCE_RE.match(value):
        return True
    value = HINT_RE.sub("", value).replace("`", "").replace("*", "").strip()
    if path_entry and value.lower() == "path":
        return True
    return value.lower() in PLACEHOLDER_WORDS


def structural_lines(lines: Sequence[str]) -> list[bool]:
    """Mark lines that are Markdown structure: outside fenced code, not a fence."""
    marks: list[bool] = []
    fence: str | None = None
    for line in lines:
        match = FENCE_RE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * 3
            marks.append(False)
        elif fence is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
            marks.append(False)
        else:
            marks.append(True)
    return marks


def heading(line: str) -> tuple[int, str] | None:
    match = HEADING_RE.match(line)
    if not match:
        return None
    return len(match.group(1)), match.group(2)


def signal_kind(line: str) -> str | None:
    """'complete' or 'blocked' when the line is a status signal written as required."""
    if line != line.lstrip():
        return None
    text = line.strip()
    if text == COMPLETE:
        return "complete"
    if text.startswith(BLOCKED_PREFIX):
        return "blocked"
    return None


def near_signal(line: str) -> bool:
    """A status signal written with decoration, wrong case or indentation."""
    text = re.sub(r"[*_`\"'>]", "", line).strip().rstrip(".").strip().lower()
    return text == COMPLETE.lower() or text.startswith(BLOCKED_PREFIX.lower())


def split_lines(text: str) -> list[str]:
    """The lines of a text with \\n line ends; unlike str.splitlines, a form feed or a
    Unicode line separator inside a line does not split it (rewriting must keep it)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def last_nonempty(lines: Sequence[str]) -> int | None:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip():
            return index
    return None


@dataclass
class Log:
    """A parsed BACKEND-LOG.md: lines, structure marks, chunks, summary, signal."""

    lines: list[str]
    marks: list[bool]
    chunks: list[Chunk]
    summaries: list[int]  # 0-based indexes of summary headings
    signal: str | None  # kind of the last non-empty line, if a signal
    last: int | None  # 0-based index of the last non-empty line

    @classmethod
    def parse(cls, text: str) -> Log:
        lines = split_lines(text)
        marks = structural_lines(lines)
        boundaries: list[int] = []
        summaries: list[int] = []
        chunk_starts: list[tuple[int, int | None, str]] = []
        for index, line in enumerate(lines):
            if not marks[index]:
                continue
            found = heading(line)
            if found is not None and found[0] <= 2:
                boundaries.append(index)
                level, title = found
                if normalize_label(title) == SUMMARY_KEY:
                    summaries.append(index)
                elif level == 2 and CHUNK_WORD_RE.match(title):
                    match = CHUNK_HEADING_RE.match(title)
                    if match:
                        chunk_starts.append((index, int(match.group(1)), match.group(2) or ""))
                    else:
                        chunk_starts.append((index, None, title))
            elif signal_kind(line) is not None:
                boundaries.append(index)
        chunks: list[Chunk] = []
        for start, number, name in chunk_starts:
            end = next((b for b in boundaries if b > start), len(lines))
            chunks.append(Chunk(start + 1, number, name.strip(), start, end))
        last = last_nonempty(lines)
        signal = signal_kind(lines[last]) if last is not None and marks[last] else None
        return cls(lines, marks, chunks, summaries, signal, last)

    def section_end(self, start: int) -> int:
        """One past the last line of the level-1/2 section whose heading is at start."""
        for index in range(start + 1, len(self.lines)):
            if not self.marks[index]:
                continue
            found = heading(self.lines[index])
            if (found is not None and found[0] <= 2) or signal_kind(self.lines[index]):
                return index
        return len(self.lines)


def top_bullets(log: Log, start: int, end: int) -> list[tuple[int, str, str]]:
    """Unindented bullets in [start, end): (index, label, inline value)."""
    found: list[tuple[int, str, str]] = []
    for index in range(start, end):
        line = log.lines[index]
        if not log.marks[index] or not line or line[0].isspace():
            continue
        match = BULLET_RE.match(line)
        if match:
            label, _, value = match.group(2).partition(":")
            found.append((index, label, value))
    return found


def block_end(log: Log, start: int, end: int) -> int:
    """End of a top-level bullet's block: next unindented bullet or any heading."""
    for index in range(start + 1, end):
        line = log.lines[index]
        if not log.marks[index]:
            continue
        if heading(line) is not None:
            return index
        if line and not line[0].isspace() and BULLET_RE.match(line):
            return index
    return end


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def filled(log: Log, inline: str, start: int, end: int) -> bool:
    """Does an inline value or any line in [start, end) carry real text?"""
    if not is_placeholder(inline):
        return True
    return any(not is_placeholder(log.lines[i]) for i in range(start, end))


def nested_bullets(log: Log, start: int, end: int) -> list[tuple[int, int, str]]:
    """Indented bullets in [start, end): (index, indent, text after the marker)."""
    found: list[tuple[int, int, str]] = []
    for index in range(start, end):
        line = log.lines[index]
        if not log.marks[index]:
            continue
        match = BULLET_RE.match(line)
        if match and match.group(1):
            found.append((index, indent_of(line), match.group(2)))
    return found


# --------------------------------------------------------------------------- checking

_Adder = Callable[[int, str, str], None]  # records a problem: (0-based index, rule, message)


class Checker:
    def __init__(self, log: Log, root: Path, blockers: bool) -> None:
        self.log = log
        self.root = root
        self.blockers = blockers
        self.problems: list[Problem] = []

    def add(self, index: int, rule: str, message: str) -> None:
        self.problems.append(Problem(index + 1, rule, message))

    def run(self) -> list[Problem]:
        log = self.log
        for chunk in log.chunks:
            self.check_chunk(chunk)
        # Work has not begun on the last chunk (the story goes on, or stopped at a
        # blocker before it): its skeleton may stay empty. A completed log has none.
        skip = log.signal != "complete" and bool(log.chunks) and log.chunks[-1].untouched
        for chunk in log.chunks[:-1] if skip else log.chunks:
            self.problems.extend(chunk.problems)
        if not log.chunks:
            self.add(0, "no-chunks", "the log has no '## Chunk N — short name' section")
        self.check_numbering()
        self.check_summary()
        self.check_signals()
        return sorted(self.problems, key=lambda p: (p.line, p.rule, p.message))

    # chunks ---------------------------------------------------------------

    def check_chunk(self, chunk: Chunk) -> None:
        log = self.log
        out = chunk.problems

        def add(index: int, rule: str, message: str) -> None:
            out.append(Problem(index + 1, rule, message))

        label = f"chunk {chunk.number}" if chunk.number is not None else "this chunk"
        if chunk.number is None:
            add(
                chunk.start,
                "chunk-heading",
                f"write the heading as '## Chunk N {DASH} short name' (N a number)",
            )
        name_missing = is_placeholder(chunk.name)
        if name_missing:
            add(chunk.start, "chunk-heading", f"{label} has no short name after the dash")
        seen: dict[str, int] = {}
        empties = 0
        for index, raw_label, inline in top_bullets(log, chunk.start + 1, chunk.end):
            spec = FIELD_KEYS.get(normalize_label(raw_label))
            if spec is None:
                continue
            if spec.label in seen:
                add(
                    index,
                    "field-duplicate",
                    f"'{spec.label}' appears twice in {label} (first on line {seen[spec.label]})",
                )
                continue
            seen[spec.label] = index + 1
            end = block_end(log, index, chunk.end)
            empties += self.check_field(add, label, spec, index, inline, end)
        for spec in FIELDS:
            if spec.label not in seen:
                add(chunk.start, "field-missing", f"{label} has no '- {spec.label}:' bullet")
        chunk.untouched = name_missing and len(seen) == len(FIELDS) and empties == len(FIELDS)

    def check_field(
        self,
        add: _Adder,
        label: str,
        spec: FieldSpec,
        index: int,
        inline: str,
        end: int,
    ) -> int:
        """Report one field's problems; return 1 when it is entirely empty."""
        log = self.log
        if spec.paths:
            return self.check_files(add, label, index, inline, end)
        if not spec.subfields:
            if filled(log, inline, index + 1, end):
                return 0
            add(index, "field-empty", f"'{spec.label}' in {label} is empty or only a placeholder")
            return 1
        bullets = nested_bullets(log, index + 1, end)
        found: dict[str, int] = {}
        empty = 0
        for position, (sub_index, indent, text) in enumerate(bullets):
            sub_label, _, sub_inline = text.partition(":")
            key = normalize_label(sub_label)
            sub = next((s for s, _ in spec.subfields if normalize_label(s) == key), None)
            if sub is None:
                continue
            if sub in found:
                add(
                    sub_index,
                    "field-duplicate",
                    f"'{sub}' appears twice under '{spec.label}' in {label}",
                )
                continue
            found[sub] = sub_index
            sub_end = next(
                (b[0] for b in bullets[position + 1 :] if b[1] <= indent),
                end,
            )
            if not filled(log, sub_inline, sub_index + 1, sub_end):
                empty += 1
                add(
                    sub_index,
                    "field-empty",
                    f"'{spec.label} > {sub}' in {label} is empty or only a placeholder",
                )
        for sub, _ in spec.subfields:
            if sub not in found:
                add(
                    index,
                    "field-missing",
                    f"'{spec.label}' in {label} has no '  - {sub}:' sub-bullet",
                )
        return 1 if empty == len(spec.subfields) else 0

    def check_files(self, add: _Adder, label: str, index: int, inline: str, end: int) -> int:
        log = self.log
        if not is_placeholder(inline, path_entry=True):
            add(
                index,
                "files-inline",
                f"list the files of {label} as sub-bullets ('  - path'), not on the label line",
            )
        bullets = nested_bullets(log, index + 1, end)
        if bullets:
            level = min(b[1] for b in bullets)
            bullets = [b for b in bullets if b[1] == level]
        listed = 0
        for entry_index, _, text in bullets:
            if is_placeholder(text, path_entry=True):
                continue
            listed += 1
            self.check_path(add, entry_index, text)
        if listed:
            return 0
        add(index, "field-empty", f"'Files changed' in {label} lists no file")
        return 1

    def check_path(self, add: _Adder, index: int, text: str) -> None:
        ticked = re.search(r"`([^`]+)`", text)
        raw = ticked.group(1).strip() if ticked else text.split()[0].rstrip(",;:")
        deleted = re.search(r"\((?:deleted|removed)\b", text, re.IGNORECASE) is not None
        posix = PurePosixPath(raw.replace("\\", "/"))
        if posix.is_absolute() or raw.startswith("~") or re.match(r"^[A-Za-z]:", raw):
            add(index, "file-path", f"'{raw}' is absolute: write it relative to the project root")
            return
        if ".." in posix.parts:
            add(index, "file-path", f"'{raw}' uses '..': write it relative to the project root")
            return
        if deleted:
            return
        if not (self.root / posix).exists():
            add(
                index,
                "file-missing",
                f"'{raw}' does not exist under the project root {self.root} "
                "(fix the path, or mark the entry '(deleted)')",
            )

    def check_numbering(self) -> None:
        seen: dict[int, int] = {}
        highest = 0
        for chunk in self.log.chunks:
            number = chunk.number
            if number is None:
                continue
            if number in seen:
                self.add(
                    chunk.start,
                    "chunk-number",
                    f"chunk {number} appears twice (first on line {seen[number]})",
                )
                continue
            if number > highest + 1:
                missing = (
                    str(highest + 1) if number == highest + 2 else f"{highest + 1}-{number - 1}"
                )
                self.add(
                    chunk.start,
                    "chunk-number",
                    f"chunk {number} follows chunk {highest}: chunk {missing} is missing",
                )
            elif number <= highest:
                self.add(
                    chunk.start,
                    "chunk-number",
                    f"chunk {number} comes after chunk {highest}: keep chunks in order",
                )
            seen[number] = chunk.line
            highest = max(highest, number)

    # summary and signals ----------------------------------------------------

    def check_summary(self) -> None:
        """Where the token summary is always; that it is filled once the log hands the
        story back (complete or blocked), when the worker knows what it read and wrote."""
        log = self.log
        if log.signal is None:
            first = log.summaries[0] if log.summaries else None
            for extra in log.summaries[1:]:
                self.add(extra, "summary-duplicate", f"second '## {SUMMARY_TITLE}' section")
            self.check_summary_order(first)
            return
        if not log.summaries:
            where = log.last if log.last is not None else 0
            self.add(
                where,
                "summary-missing",
                f"no '## {SUMMARY_TITLE}' section: add it after the last chunk "
                "(python tools/story_log.py tokens DIR --read ... --written ...)",
            )
            return
        first = log.summaries[0]
        for extra in log.summaries[1:]:
            self.add(extra, "summary-duplicate", f"second '## {SUMMARY_TITLE}' section")
        self.check_summary_order(first)
        end = log.section_end(first)
        wanted = {"input": "Input", "output": "Output"}
        found: dict[str, int] = {}
        for index, raw_label, value in top_bullets(log, first + 1, end):
            key = normalize_label(raw_label)
            if key not in wanted or key in found:
                continue
            found[key] = index
            if not NUMBER_RE.search(value):
                self.add(
                    index,
                    "summary-number",
                    f"'{wanted[key]}' has no token number: write '~N tokens' "
                    "(tokens ~ bytes / 4; the tokens command fills it)",
                )
        for key, title in wanted.items():
            if key not in found:
                self.add(
                    first,
                    "summary-missing",
                    f"the token summary has no '- {title}: ~N tokens' line",
                )

    def check_summary_order(self, first: int | None) -> None:
        if first is None:
            return
        for chunk in self.log.chunks:
            if chunk.start > first:
                self.add(
                    chunk.start,
                    "summary-order",
                    f"chunk after the token summary (line {first + 1}): "
                    "the summary stays after the last chunk",
                )

    def check_signals(self) -> None:
        log = self.log
        for index, line in enumerate(log.lines):
            if not log.marks[index] or index == log.last:
                continue
            kind = signal_kind(line)
            if kind == "complete":
                self.add(
                    index,
                    "signal-position",
                    f"'{COMPLETE}' must be the last non-empty line of the log",
                )
            elif kind == "blocked":
                self.add(
                    index,
                    "signal-position",
                    "a 'BLOCKED:' line must be the last non-empty line; once the blocker is "
                    "resolved remove BLOCKERS.md and run the chunk command to resume",
                )
        last = log.last
        if last is None:
            return
        if log.signal is None and log.marks[last] and near_signal(log.lines[last]):
            self.add(
                last,
                "signal-format",
                f"write the status alone and unadorned: '{COMPLETE}' or 'BLOCKED: <reason>'",
            )
        if log.signal == "complete" and self.blockers:
            self.add(
                last,
                "complete-with-blockers",
                f"the log claims '{COMPLETE}' but {BLOCKERS_NAME} exists: resolve the "
                "blocker and remove it first",
            )
        if log.signal == "blocked":
            reason = log.lines[last].strip()[len(BLOCKED_PREFIX) :]
            if is_placeholder(reason):
                self.add(last, "signal-reason", "'BLOCKED:' needs a reason after the colon")
            if not self.blockers:
                self.add(
                    last,
                    "blocked-without-blockers",
                    f"the log ends with BLOCKED but there is no {BLOCKERS_NAME} next to it "
                    "(write it with the block command)",
                )
        elif self.blockers and log.signal != "complete":
            self.add(
                last,
                "blockers-without-signal",
                f"{BLOCKERS_NAME} exists but the log does not end with 'BLOCKED: <reason>'",
            )


def check_text(text: str, root: Path, *, blockers: bool) -> tuple[Log, list[Problem]]:
    log = Log.parse(text)
    return log, Checker(log, root, blockers).run()


# --------------------------------------------------------------------------- files


def story_dir(raw: str) -> Path:
    path = Path(raw)
    if path.is_file() and path.name == LOG_NAME:
        path = path.parent
    if not path.is_dir():
        raise UsageError(f"{raw!r} is not a story folder (expected .../_implementation)")
    return path


def read_log(directory: Path) -> tuple[str, str]:
    """The log's text with \\n line ends, and the line end the file uses (kept on write)."""
    log = directory / LOG_NAME
    if not log.is_file():
        raise UsageError(
            f"no {LOG_NAME} in {directory}: scaffold the story first "
            "(copier copy --trust --defaults -d kind=story -d story_id=... TEMPLATE .)"
        )
    try:
        return read_text(log)
    except UnicodeDecodeError as error:
        raise UsageError(f"{log} is not UTF-8 text ({error.reason})") from error


def project_root(directory: Path, explicit: str | None) -> Path:
    """The folder Files changed paths are relative to (see the module docstring)."""
    if explicit is not None:
        root = Path(explicit)
        if not root.is_dir():
            raise UsageError(f"--root {explicit!r} is not a directory")
        return root.resolve()
    here = directory.resolve()
    answers = read_answers(here / ANSWERS_NAME)
    feature = answers.get("feature_dir")
    story = answers.get("story_id")
    if feature and story:
        tail = (*PurePosixPath(feature).parts, "in-progress", story, "_implementation")
        if here.parts[-len(tail) :] == tail and len(here.parts) > len(tail):
            return Path(*here.parts[: -len(tail)])
    for parent in here.parents:
        if any((parent / marker).exists() for marker in ROOT_MARKERS):
            return parent
    return Path.cwd().resolve()


def one_line(option: str, value: str) -> str:
    """A value for one line of the log: not empty, no line break or control character
    (nor a lone surrogate, which a byte that is not UTF-8 on the command line becomes)."""
    text = value.strip()
    if not text or is_placeholder(text):
        raise UsageError(f"{option} must not be empty (nor only a placeholder such as TODO)")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in text):
        raise UsageError(f"{option} must be one line of text, without control characters")
    return text


# --------------------------------------------------------------------------- commands

# The chunk command's options for each field: (option, top label, sub label or None).
FIELD_OPTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("objective", FIELDS[0].label, None),
    ("summary", FIELDS[2].label, None),
    ("reused", FIELDS[3].label, "Reused"),
    ("new", FIELDS[3].label, "New"),
    ("why_new", FIELDS[3].label, "Why new was necessary"),
    ("core", FIELDS[4].label, "What stayed in core"),
    ("adapters", FIELDS[4].label, "What stayed in adapters"),
    ("commands", FIELDS[5].label, None),
    ("notes", FIELDS[6].label, None),
)
DELETED_MARK = " (deleted)"


@dataclass
class ChunkValues:
    """What the chunk command was given for a chunk; a field left out keeps its hint."""

    name: str | None = None
    fields: dict[tuple[str, str | None], str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # entries: "path" or "path (deleted)"

    def empty(self) -> bool:
        return self.name is None and not self.fields and not self.files


def field_lines(spec: FieldSpec, values: ChunkValues) -> list[str]:
    """One field of a chunk: the given value, else its hint."""
    if spec.paths:
        entries = [
            f"  - `{entry.removesuffix(DELETED_MARK)}`"
            + (DELETED_MARK if entry.endswith(DELETED_MARK) else "")
            for entry in values.files
        ]
        return [f"- {spec.label}:", *(entries or [f"  - {spec.hint}"])]
    if spec.subfields:
        subs = [
            f"  - {sub}: {values.fields.get((spec.label, sub), hint)}"
            for sub, hint in spec.subfields
        ]
        return [f"- {spec.label}:", *subs]
    return [f"- {spec.label}: {values.fields.get((spec.label, None), spec.hint)}"]


def chunk_skeleton(number: int, name: str = NAME_HINT, values: ChunkValues | None = None) -> str:
    """The text of one chunk: every field, filled with the values given, else its hint."""
    values = values or ChunkValues()
    lines = [f"## Chunk {number} {DASH} {name}"]
    for spec in FIELDS:
        lines += field_lines(spec, values)
    return "\n".join(lines) + "\n"


def summary_lines(read_tokens: str = "X", written_tokens: str = "Y") -> list[str]:
    return [
        f"- Input: ~{read_tokens} tokens (files read)",
        f"- Output: ~{written_tokens} tokens (files written)",
    ]


def join_lines(lines: Sequence[str]) -> str:
    return "\n".join(lines).rstrip("\n") + "\n"


def file_entry(root: Path, raw: str) -> str:
    """A --file value checked like check does: relative, inside the project, existing
    (unless it ends with " (deleted)")."""
    text = one_line("--file", raw)
    deleted = text.endswith(DELETED_MARK)
    path = text.removesuffix(DELETED_MARK).strip()
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute() or path.startswith("~") or re.match(r"^[A-Za-z]:", path):
        raise UsageError(f"--file {raw!r} is absolute: give it relative to the project root")
    if ".." in posix.parts:
        raise UsageError(f"--file {raw!r} uses '..': give it relative to the project root")
    if not deleted and not (root / posix).exists():
        raise UsageError(
            f"--file {raw!r} does not exist under the project root {root} "
            f"(for a file the chunk removed, write '{path}{DELETED_MARK}')"
        )
    return f"{posix.as_posix()}{DELETED_MARK if deleted else ''}"


def files_from_git(root: Path, ref: str, story: Path) -> list[str]:
    """Files changed since ref (staged, unstaged and committed since) and untracked
    files, relative to the project root; the story's own folder is left out."""
    if ref.startswith("-"):
        raise UsageError(f"--files-from-git {ref!r} is not a git revision")
    verify = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if verify.returncode != 0:
        raise UsageError(
            f"--files-from-git {ref!r}: no such commit (or no git repository) at {root}"
        )
    changed = git(root, "diff", "--name-status", "--no-renames", "--relative", "-z", ref, "--")
    fields = changed.stdout.split("\0")
    entries: dict[str, bool] = {}
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if path:
            entries[path] = status.startswith("D")
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z")
    for path in untracked.stdout.split("\0"):
        if path:
            entries.setdefault(path, False)
    try:
        inside = story.resolve().relative_to(root).as_posix() + "/"
    except ValueError:
        inside = None
    return [
        f"{path}{DELETED_MARK if deleted else ''}"
        for path, deleted in sorted(entries.items())
        if inside is None or not path.startswith(inside)
    ]


def fill_untouched(lines: list[str], chunk: Chunk, values: ChunkValues) -> None:
    """Write the values given into a chunk that is still the empty skeleton: only the
    lines that hold those fields' hints change; every other line stays as it is."""
    log = Log.parse(join_lines(lines))
    current = next(c for c in log.chunks if c.start == chunk.start)
    # From the bottom up, so that the indexes above stay valid.
    for index, raw_label, _ in reversed(top_bullets(log, current.start + 1, current.end)):
        spec = FIELD_KEYS.get(normalize_label(raw_label))
        if spec is None:
            continue
        end = block_end(log, index, current.end)
        if spec.paths:
            if values.files:
                # The entries of an untouched chunk are all placeholders: replace them.
                for entry, _, _ in reversed(nested_bullets(log, index + 1, end)):
                    del lines[entry]
                lines[index + 1 : index + 1] = field_lines(spec, values)[1:]
        elif spec.subfields:
            for sub_index, indent, text in reversed(nested_bullets(log, index + 1, end)):
                key = normalize_label(text.partition(":")[0])
                sub = next((s for s, _ in spec.subfields if normalize_label(s) == key), None)
                if sub is not None and (spec.label, sub) in values.fields:
                    value = values.fields[(spec.label, sub)]
                    lines[sub_index] = f"{' ' * indent}- {sub}: {value}"
        elif (spec.label, None) in values.fields:
            lines[index] = f"- {spec.label}: {values.fields[(spec.label, None)]}"
    if values.name is not None:
        lines[current.start] = f"## Chunk {current.number} {DASH} {values.name}"


def cmd_chunk(directory: Path, values: ChunkValues) -> str:
    text, newline = read_log(directory)
    log = Log.parse(text)
    lines = list(log.lines)
    blockers = (directory / BLOCKERS_NAME).exists()
    note: list[str] = []
    if log.signal == "complete":
        raise RefusedError(
            f"{directory / LOG_NAME} ends with '{COMPLETE}': a completed story takes no "
            "new chunks (remove the signal first if the work really resumes)"
        )
    if log.signal == "blocked" and log.last is not None:
        if blockers:
            raise RefusedError(
                f"the story is blocked ({directory / BLOCKERS_NAME} exists): once the "
                f"decision is recorded, remove {BLOCKERS_NAME}, then add the next chunk"
            )
        reason = lines[log.last].strip()[len(BLOCKED_PREFIX) :].strip()
        del lines[log.last]
        note = [f"> Resumed after a block: {reason}"]
    Checker(log, directory, blockers).run()  # marks chunks that are untouched skeletons
    log_path = directory / LOG_NAME
    if log.chunks and log.chunks[-1].untouched:
        # Work on the last chunk has not begun (a fresh log's chunk 1, say): fill it.
        last = log.chunks[-1]
        if values.empty() and not note:
            return (
                f"chunk {last.number} (line {last.line}) of {log_path} is the empty skeleton, "
                "ready to fill in: nothing added"
            )
        fill_untouched(lines, last, values)
        if note:  # blocked before this chunk began: resume into it
            lines[last.start + 1 : last.start + 1] = note
        write_text_atomic(log_path, join_lines(lines), newline)
        if note:
            return f"resumed after the block: fill in chunk {last.number} (line {last.line})"
        return f"filled Chunk {last.number} of {log_path} at line {last.line}"
    number = max((c.number for c in log.chunks if c.number is not None), default=0) + 1
    skeleton = split_lines(chunk_skeleton(number, values.name or NAME_HINT, values))
    block = [skeleton[0], *note, *skeleton[1:]]
    if log.summaries:
        at = log.summaries[0]
        before, after = lines[:at], lines[at:]
    else:
        before, after = lines, []
    while before and not before[-1].strip():
        before.pop()
    new = [*before, "", *block, "", *after] if before else [*block, "", *after]
    write_text_atomic(log_path, join_lines(new), newline)
    heading_line = len(before) + (1 if before else 0) + 1
    return f"added Chunk {number} to {log_path} at line {heading_line}"


def cmd_check(directory: Path, root_option: str | None, as_json: bool) -> tuple[int, str]:
    text, _ = read_log(directory)
    root = project_root(directory, root_option)
    blockers = (directory / BLOCKERS_NAME).exists()
    log, problems = check_text(text, root, blockers=blockers)
    status = {"complete": "complete", "blocked": "blocked"}.get(log.signal or "", "in-progress")
    unfilled = plans.placeholders(directory) if log.signal == "complete" else []
    log_path = directory / LOG_NAME
    if as_json:
        report = {
            "log": str(log_path),
            "root": str(root),
            "status": status,
            "chunks": len(log.chunks),
            "ok": not problems and not unfilled,
            "problems": [asdict(p) for p in problems],
            "plan_placeholders": [
                {"file": str(p.path), "line": p.line, "hint": p.hint} for p in unfilled
            ],
        }
        return (1 if problems or unfilled else 0), json.dumps(report, indent=2)
    if not problems and not unfilled:
        return 0, f"{log_path}: ok ({len(log.chunks)} chunks, {status})"
    return 1, "\n".join(_problem_lines(log_path, problems, unfilled))


def _problem_lines(
    log_path: Path, problems: Sequence[Problem], unfilled: Sequence[plans.Placeholder]
) -> list[str]:
    out = [f"{log_path}:{p.line}: {p.rule}: {p.message}" for p in problems]
    out += [placeholder.message() for placeholder in unfilled]
    out.append(f"{len(problems) + len(unfilled)} problem(s) in {log_path.parent}")
    return out


def ended_with(log: Log, signal: str) -> str:
    """The log's text with ``signal`` as its last line, after one blank line."""
    lines = list(log.lines)
    while lines and not lines[-1].strip():
        lines.pop()
    return join_lines([*lines, "", signal])


def cmd_complete(directory: Path, root_option: str | None) -> tuple[int, str]:
    """End the log with BACKEND COMPLETE once the log so ended passes the check and the
    plan files are filled in; otherwise report every problem and write nothing."""
    text, newline = read_log(directory)
    log_path = directory / LOG_NAME
    log = Log.parse(text)
    if (directory / BLOCKERS_NAME).exists():
        raise RefusedError(
            f"{directory / BLOCKERS_NAME} exists: the story is blocked; resolve the blocker "
            "and delete that file first"
        )
    if log.signal == "complete":
        raise RefusedError(f"{log_path} already ends with '{COMPLETE}'")
    if log.signal == "blocked":
        raise RefusedError(f"{log_path} ends with a BLOCKED line: resume it with a chunk first")
    completed = ended_with(log, COMPLETE)
    _, problems = check_text(completed, project_root(directory, root_option), blockers=False)
    unfilled = plans.placeholders(directory)
    if problems or unfilled:
        report = _problem_lines(log_path, problems, unfilled)
        return 1, "\n".join([*report, f"not completed: {log_path} is unchanged"])
    write_text_atomic(log_path, completed, newline)
    return 0, f"{log_path} now ends with '{COMPLETE}'"


def cmd_block(
    directory: Path,
    context: str,
    decision: str,
    options: Sequence[str],
    recommendation: str | None,
    steps: str,
    reason: str | None,
) -> str:
    context = one_line("--context", context)
    decision = one_line("--decision", decision)
    steps = one_line("--blocked-steps", steps)
    choices = [one_line("--option", option) for option in options]
    if len(choices) < 2:
        raise UsageError("give at least two --option values: a decision needs alternatives")
    advice = "none" if recommendation is None else one_line("--recommendation", recommendation)
    brief = decision if reason is None else one_line("--reason", reason)
    text, newline = read_log(directory)
    log = Log.parse(text)
    blockers_path = directory / BLOCKERS_NAME
    if blockers_path.exists():
        raise RefusedError(
            f"{blockers_path} already exists: the story is already blocked "
            "(add further decisions to that file by hand)"
        )
    if log.signal == "complete":
        raise RefusedError(f"{directory / LOG_NAME} already ends with '{COMPLETE}'")
    if log.signal == "blocked":
        raise RefusedError(f"{directory / LOG_NAME} already ends with a BLOCKED line")
    story = directory.resolve().parent.name if directory.resolve().name == "_implementation" else ""
    title = f"# Blockers {DASH} {story}" if story else "# Blockers"
    blockers = [
        title,
        "",
        "## Architectural Decision Required",
        "",
        f"**Context**: {context}",
        f"**Decision Needed**: {decision}",
        "**Options Identified**:",
        *(f"{n}. {choice}" for n, choice in enumerate(choices, start=1)),
        f"**Recommendation**: {advice}",
        f"**Blocked Steps**: {steps}",
    ]
    signal = f"{BLOCKED_PREFIX} {BLOCKED_REASON_PREFIX}{brief}"
    write_text_atomic(blockers_path, join_lines(blockers), newline)
    write_text_atomic(directory / LOG_NAME, ended_with(log, signal), newline)
    return f"wrote {blockers_path}; {directory / LOG_NAME} now ends with: {signal}"


def measure(files: Sequence[str], option: str) -> tuple[int, int]:
    """(number of distinct files, total bytes) for the files given to an option."""
    seen: dict[Path, int] = {}
    for raw in files:
        path = Path(raw)
        if not path.is_file():
            raise UsageError(f"{option} {raw!r}: no such file")
        seen.setdefault(path.resolve(), path.stat().st_size)
    return len(seen), sum(seen.values())


def estimate(size: int) -> int:
    """Tokens are estimated as bytes / 4, rounded up."""
    return (size + 3) // 4


def cmd_tokens(directory: Path, read: Sequence[str], written: Sequence[str]) -> str:
    if not read and not written:
        raise UsageError("give the files read (--read FILE...) and/or written (--written FILE...)")
    read_count, read_bytes = measure(read, "--read")
    written_count, written_bytes = measure(written, "--written")
    text, newline = read_log(directory)
    log = Log.parse(text)
    lines = list(log.lines)
    fresh = summary_lines(str(estimate(read_bytes)), str(estimate(written_bytes)))
    if log.summaries:
        start = log.summaries[0]
        end = log.section_end(start)
        found: dict[str, int] = {}
        for index, raw_label, _ in top_bullets(log, start + 1, end):
            key = normalize_label(raw_label)
            if key in ("input", "output") and key not in found:
                found[key] = index
        if "input" in found:
            lines[found["input"]] = fresh[0]
        if "output" in found:
            lines[found["output"]] = fresh[1]
        elif "input" in found:
            lines.insert(found["input"] + 1, fresh[1])
        if "input" not in found:
            anchor = found.get("output", start + 1)
            lines.insert(anchor, fresh[0])
            if "output" not in found:
                lines.insert(anchor + 1, fresh[1])
    else:
        section = [f"## {SUMMARY_TITLE}", *fresh]
        if log.signal is not None and log.last is not None:
            head, tail = lines[: log.last], lines[log.last :]
        else:
            head, tail = lines, []
        while head and not head[-1].strip():
            head.pop()
        lines = [*head, "", *section, *(["", *tail] if tail else [])]
    write_text_atomic(directory / LOG_NAME, join_lines(lines), newline)
    return (
        f"{directory / LOG_NAME}: Input ~{estimate(read_bytes)} tokens "
        f"({read_count} files, {read_bytes} bytes), Output ~{estimate(written_bytes)} tokens "
        f"({written_count} files, {written_bytes} bytes)"
    )


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="story_log.py",
        description="Add chunks to, check, complete, block and size a story's BACKEND-LOG.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    chunk = commands.add_parser(
        "chunk",
        help="add the next chunk (or fill the last one while it is the empty skeleton)",
        description="Add the next numbered chunk, or fill the last one while it is still the "
        "empty skeleton; each field left out keeps its <hint>.",
    )
    chunk.add_argument("dir", help="the story's _implementation folder")
    chunk.add_argument("--name", help="the chunk's short name (default: a placeholder)")
    chunk.add_argument("--objective", help="the requirement or acceptance criterion delivered")
    chunk.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="a file changed, relative to the project root (repeat; 'PATH (deleted)' for one "
        "the chunk removed)",
    )
    chunk.add_argument(
        "--files-from-git",
        nargs="?",
        const="HEAD",
        metavar="REF",
        help="list the files git shows changed since REF (default HEAD), untracked included",
    )
    chunk.add_argument("--summary", help="what changed and why")
    chunk.add_argument("--reused", help="existing modules or helpers built on")
    chunk.add_argument("--new", help="modules, classes, tables or endpoints added")
    chunk.add_argument("--why-new", help="why nothing existing fitted (n/a when nothing is new)")
    chunk.add_argument("--core", help="what stayed in core (domain/ports)")
    chunk.add_argument("--adapters", help="what stayed in adapters")
    chunk.add_argument("--commands", help="commands run and their results (none if none)")
    chunk.add_argument("--notes", help="notes and risks (none if none)")
    chunk.add_argument("--root", help="project root for the file paths")
    check = commands.add_parser("check", help="report every problem in the log, with lines")
    check.add_argument("dir")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--root", help="project root for Files changed paths")
    block = commands.add_parser("block", help="write BLOCKERS.md and end the log with BLOCKED")
    block.add_argument("dir")
    block.add_argument("--context", required=True, help="what you were implementing")
    block.add_argument("--decision", required=True, help="what needs to be decided")
    block.add_argument(
        "--option", required=True, action="append", default=None, help="one option (repeat)"
    )
    block.add_argument("--recommendation", help="your recommendation, if any")
    block.add_argument("--blocked-steps", required=True, help="the plan steps that wait")
    block.add_argument("--reason", help="brief reason for the BLOCKED line (default: decision)")
    complete = commands.add_parser(
        "complete",
        help="end the log with BACKEND COMPLETE once it and the plan files pass the check",
    )
    complete.add_argument("dir")
    complete.add_argument("--root", help="project root for Files changed paths")
    tokens = commands.add_parser("tokens", help="fill the Worker Token Summary (bytes / 4)")
    tokens.add_argument("dir")
    tokens.add_argument("--read", nargs="+", action="extend", default=[], metavar="FILE")
    tokens.add_argument("--written", nargs="+", action="extend", default=[], metavar="FILE")
    return parser


def chunk_values(args: argparse.Namespace, directory: Path) -> ChunkValues:
    """The chunk command's values, each checked; files from --file and from git."""
    values = ChunkValues(name=None if args.name is None else one_line("--name", args.name))
    for option, label, sub in FIELD_OPTIONS:
        given = getattr(args, option)
        if given is not None:
            values.fields[(label, sub)] = one_line(f"--{option.replace('_', '-')}", given)
    if args.file or args.files_from_git is not None:
        root = project_root(directory, args.root)
        entries = [file_entry(root, raw) for raw in args.file]
        if args.files_from_git is not None:
            entries += files_from_git(root, str(args.files_from_git), directory)
        values.files = list(dict.fromkeys(entries))
    return values


def dispatch(args: argparse.Namespace) -> int:
    command = str(args.command)
    directory = story_dir(str(args.dir))
    if command == "chunk":
        print(cmd_chunk(directory, chunk_values(args, directory)))
    elif command == "check":
        status, report = cmd_check(directory, args.root, args.format == "json")
        print(report)
        return status
    elif command == "complete":
        status, report = cmd_complete(directory, args.root)
        print(report)
        return status
    elif command == "block":
        print(
            cmd_block(
                directory,
                str(args.context),
                str(args.decision),
                [str(option) for option in args.option],
                args.recommendation,
                str(args.blocked_steps),
                args.reason,
            )
        )
    else:
        print(cmd_tokens(directory, [str(f) for f in args.read], [str(f) for f in args.written]))
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as leave:  # --help
        return int(leave.code or 0)
    command = str(args.command)
    try:
        return dispatch(args)
    except UsageError as error:
        raise UsageError(f"{command}: {error}") from None
    except Refused as error:
        raise RefusedError(f"{command}: refused: {error}") from None
    except OSError as error:
        raise UsageError(f"{command}: {error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="story_log.py")
