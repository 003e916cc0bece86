"""What the tools hexforge renders into this project share: one place for each.

Stdlib only, so every tool runs with any Python 3.11+ and nothing installed:

- command lines: :class:`ArgumentParser` turns argparse's errors into
  :class:`UsageError`; :func:`cli` runs a tool's ``main`` so that a usage error
  is one line and exit 2 (never a traceback), a refusal one line and exit 1;
- Copier answers files: :func:`read_answers` (the top-level one-line keys);
- files: :func:`read_text` / :func:`write_text_atomic` keep a file's line
  endings, :func:`write_json_atomic` for evidence;
- git: :func:`git`.

The tools import it as ``_hexforge`` (``python tools/X.py`` puts ``tools/`` first
on ``sys.path``). It is hexforge's file: ``copier update`` keeps it current.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
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
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except Refused as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


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
    answers: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return answers
    for line in text.splitlines():
        if not line or line[0] in " \t#-" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        if key.strip() == key and key.replace("_", "a").replace("-", "a").isalnum():
            answers[key] = answers_scalar(value)
    return answers


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
