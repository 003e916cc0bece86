"""Bring this project's hexforge scaffolds up to a newer template version, one at a time.

    python tools/sync.py [COMPONENT ...] [--to REF]   update, committing each one
    python tools/sync.py [COMPONENT ...] --check      report what is behind, change nothing

The project wiring (``.copier-answers.yml``) goes first, then every component
(``components/<name>/.copier-answers.yml``, in name order) or only the components
named, in the order given. Story logs are never touched: their answers files are
not looked at. Each one is brought to the newest template version (the highest
PEP 440 tag) or to ``--to REF`` with::

    copier update --trust --defaults --conflict inline -a <answers file> [--vcs-ref REF] .

run from the project root, and prints one line (``orders: v1 -> v2 updated``,
``billing: up to date (v2)``). A clean update is committed on its own
(``hexforge: update orders v1 -> v2``), together with what the wiring re-wrote
(``app/components.py``, ``.claude/manifest.yaml``, ``pyproject.toml``...).

Copier merges the new template version with your edits, so sync refuses to start
unless ``git status`` is clean. At the first update that conflicts (conflict
markers in a changed file, files left unmerged in git's index, or Copier failing)
it stops: that update stays in the working tree, uncommitted, for you to resolve,
and the later ones are not started. Resolve the markers (``<<<<<<< before
updating`` ... ``>>>>>>> after updating``), ``git add -A && git commit``, then run
sync again to continue.

``--check`` asks Copier (``copier check-update``) whether a newer template version
exists for the wiring and each component, like a linter.

Copier runs as ``python -m copier`` with this interpreter when it is installed here,
else as the ``copier`` found on PATH (pipx installs it there).

Exit status: 0 everything updated or current; 1 stopped at a conflict or a failed
update, or (with --check) something is behind; 2 usage error or nothing started
(dirty tree, not a git repository, unknown component, Copier missing).
Stdlib only; Python 3.11+.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hexforge.core import (
    ArgumentParser,
    GitError,
    cli,
    dirty_summary,
    git,
    interrupted_update,
    one_line,
    project_root,
    read_answers,
    status_entries,
)

ANSWERS_NAME = ".copier-answers.yml"
COMPONENTS_DIR = "components"
WIRING = "project wiring"  # has a space, so it never clashes with a component name
CONFLICT_START = b"<<<<<<< "
CONFLICT_END = b">>>>>>> "
SHOWN_DIRTY = 10  # dirty paths named in the refusal before "and N more"

EXIT_OK = 0
EXIT_STOPPED = 1
EXIT_USAGE = 2


class SyncError(Exception):
    """A problem told in one line: before any update it stops sync with exit 2; during
    one (git failing: hexforge.core.GitError) that update is reported as failed and sync
    stops there."""


@dataclass(frozen=True)
class Target:
    """One scaffold to update: the wiring or a component, by its answers file."""

    label: str
    answers: str  # relative to the project root, POSIX separators


@dataclass
class Summary:
    updated: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        def show(items: list[str]) -> str:
            return ", ".join(items) if items else "none"

        lines = [
            "summary:",
            f"  updated:    {show(self.updated)}",
            f"  up to date: {show(self.current)}",
            f"  conflicted: {show(self.conflicted)}",
        ]
        if self.failed:
            lines.append(f"  failed:     {show(self.failed)}")
        lines.append(f"  untouched:  {show(self.untouched)}")
        if self.conflicted:
            lines.append(
                "next: resolve the <<<<<<< before updating ... >>>>>>> after updating blocks "
                "in the files listed, `git add -A && git commit`, then run tools/sync.py "
                "again for the rest"
            )
        elif self.failed:
            lines.append(
                "next: fix the cause shown under failed (`git status` shows anything it "
                "left), then run tools/sync.py again"
            )
        return lines


# -- answers files -----------------------------------------------------------------


def find_targets(root: Path) -> tuple[Target | None, dict[str, Target]]:
    """The wiring (when the project has its answers file) and every component, by name."""
    wiring: Target | None = None
    root_answers = read_answers(root / ANSWERS_NAME)
    if (root / ANSWERS_NAME).is_file() and root_answers.get("kind", "project") == "project":
        wiring = Target(WIRING, ANSWERS_NAME)
    components: dict[str, Target] = {}
    folder = root / COMPONENTS_DIR
    if folder.is_dir():
        for answers_path in sorted(folder.glob(f"*/{ANSWERS_NAME}")):
            if read_answers(answers_path).get("kind") != "component":
                continue  # story logs and anything else: never synced
            name = answers_path.parent.name
            components[name] = Target(name, f"{COMPONENTS_DIR}/{name}/{ANSWERS_NAME}")
    return wiring, components


def version_of(root: Path, target: Target) -> str:
    return read_answers(root / target.answers).get("_commit") or "unknown"


# -- git -----------------------------------------------------------------------------


def ensure_repository(root: Path) -> None:
    probe = git(root, "rev-parse", "--is-inside-work-tree", check=False)
    if probe.returncode != 0 or probe.stdout.strip() != "true":
        raise SyncError(
            f"{root} is not in a git repository: Copier merges template updates through "
            "git; run `git init && git add -A && git commit -m 'initial'` first"
        )


def refuse_detached(root: Path) -> None:
    """Sync commits each update: on a detached HEAD those commits would belong to no
    branch, and the next checkout would leave them behind."""
    if git(root, "symbolic-ref", "-q", "HEAD", check=False).returncode == 0:
        return
    at = git(root, "rev-parse", "--short", "HEAD", check=False).stdout.strip() or "no commit"
    raise SyncError(
        f"HEAD is detached (at {at}): sync commits each update, and commits on a detached "
        "HEAD belong to no branch; `git switch BRANCH` (or `git switch -c BRANCH`) first"
    )


def refuse_dirty(root: Path) -> None:
    if (stopped := interrupted_update(root)) is not None:
        raise SyncError(stopped)
    dirty = dirty_summary(root, SHOWN_DIRTY)
    if dirty is None:
        return
    raise SyncError(
        f"the working tree is not clean ({dirty}); commit or stash these first: "
        "Copier merges each update with your work and sync commits each one on its own"
    )


def conflicted_paths(root: Path) -> list[str]:
    """Files the last update left unresolved: unmerged in the index, with markers, or .rej."""
    found: set[str] = set()
    unmerged = git(root, "diff", "--name-only", "--diff-filter=U", "-z").stdout
    found.update(path for path in unmerged.split("\0") if path)
    for code, path in status_entries(root):
        if "U" in code or code in ("AA", "DD"):
            found.add(path)
            continue
        if path.endswith(".rej"):
            found.add(path)
            continue
        file = root / path
        if file.is_file() and has_markers(file):
            found.add(path)
    return sorted(found)


def has_markers(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    starts = ends = False
    for line in data.splitlines():
        if line.startswith(CONFLICT_START):
            starts = True
        elif starts and line.startswith(CONFLICT_END):
            ends = True
            break
    return starts and ends


# -- copier --------------------------------------------------------------------------


def copier_command() -> list[str]:
    if importlib.util.find_spec("copier") is not None:
        return [sys.executable, "-m", "copier"]
    on_path = shutil.which("copier")
    if on_path:
        return [on_path]
    raise SyncError(
        f"Copier is not installed: not importable by {sys.executable} and no `copier` on "
        "PATH; install it with the template's dependencies, e.g. `pipx install copier && "
        "pipx inject copier copier-template-extensions tomlkit ruamel.yaml ruff`"
    )


def run_copier(
    copier: list[str], root: Path, args: Sequence[str], *, verbose: bool
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*copier, *args],
        cwd=root,
        capture_output=not verbose,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


# -- sync ----------------------------------------------------------------------------


def update_args(target: Target, ref: str | None) -> list[str]:
    args = ["update", "--trust", "--defaults", "--conflict", "inline", "-a", target.answers]
    if ref:
        args += ["--vcs-ref", ref]
    return [*args, "."]


@dataclass(frozen=True)
class Outcome:
    kind: str  # "updated", "current", "conflicted" or "failed"
    line: str  # the progress line
    entry: str  # how the summary lists it


def update_one(
    root: Path, target: Target, copier: list[str], ref: str | None, verbose: bool
) -> Outcome:
    """Run one update; commit it when clean, leave it in the tree when it conflicts."""
    before = version_of(root, target)
    result = run_copier(copier, root, update_args(target, ref), verbose=verbose)
    after = version_of(root, target)
    versions = f"{before} -> {after}"
    conflicts = conflicted_paths(root)
    if conflicts:
        detail = "resolve " + ", ".join(conflicts)
        if result.returncode != 0:
            detail += f" (copier exited {result.returncode}: {last_line(result.stderr)})"
        return Outcome(
            "conflicted",
            f"{target.label}: {versions} conflicted: {detail}",
            f"{target.label} ({versions}): {detail}",
        )
    if result.returncode != 0:
        detail = f"copier exited {result.returncode}: {last_line(result.stderr)}"
        left = len(status_entries(root))
        if left:
            detail += f"; {left} changed paths left uncommitted"
        return Outcome(
            "failed", f"{target.label}: failed at {before}: {detail}", f"{target.label}: {detail}"
        )
    git(root, "add", "-A", ".")
    if git(root, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return Outcome("current", f"{target.label}: up to date ({after})", target.label)
    message = (
        f"hexforge: update {target.label} {versions}"
        if before != after
        else f"hexforge: re-apply {target.label} {after}"
    )
    body = f"copier {' '.join(update_args(target, ref))} (tools/sync.py)"
    committed = git(root, "commit", "-q", "-m", message, "-m", body, check=False)
    if committed.returncode != 0:
        detail = f"updated but not committed: {last_line(committed.stderr)}"
        return Outcome(
            "failed",
            f"{target.label}: {versions} {detail}",
            f"{target.label} ({versions}): {detail}",
        )
    return Outcome("updated", f"{target.label}: {versions} updated", f"{target.label} ({versions})")


def sync(
    root: Path, targets: Sequence[Target], copier: list[str], ref: str | None, *, verbose: bool
) -> int:
    """Update the targets in order, stopping at the first that does not end committed."""
    summary = Summary()
    status = EXIT_OK
    for done, target in enumerate(targets):
        try:
            outcome = update_one(root, target, copier, ref, verbose)
        except (SyncError, GitError) as exc:  # git itself failed mid-way
            outcome = Outcome("failed", f"{target.label}: {exc}", f"{target.label}: {exc}")
        except KeyboardInterrupt:
            note = "interrupted; `git status` shows what it left"
            outcome = Outcome("failed", f"{target.label}: {note}", f"{target.label}: {note}")
            status = 130
        print(outcome.line, flush=True)
        if outcome.kind == "updated":
            summary.updated.append(outcome.entry)
            continue
        if outcome.kind == "current":
            summary.current.append(outcome.entry)
            continue
        stops = summary.conflicted if outcome.kind == "conflicted" else summary.failed
        stops.append(outcome.entry)
        summary.untouched = [later.label for later in targets[done + 1 :]]
        status = status or EXIT_STOPPED
        break
    for line in summary.lines():
        print(line)
    return status


def tag_for(source: str, version: str, cache: dict[str, list[str]]) -> str:
    """The template's tag spelled as written (v2) for Copier's normalised version (2)."""
    if source not in cache:
        listing = subprocess.run(
            ["git", "ls-remote", "--tags", "--refs", source],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        cache[source] = [
            line.rsplit("refs/tags/", 1)[-1]
            for line in listing.stdout.splitlines()
            if listing.returncode == 0 and "refs/tags/" in line
        ]
    for tag in cache[source]:
        if tag == version or tag.lower().removeprefix("v") == version.lower():
            return tag
    return version


def check(root: Path, targets: Sequence[Target], copier: list[str]) -> int:
    behind: list[str] = []
    current: list[str] = []
    failed: list[str] = []
    tags: dict[str, list[str]] = {}
    for target in targets:
        args = ["check-update", "--output-format", "json", "-a", target.answers, "."]
        result = run_copier(copier, root, args, verbose=False)
        report: object = None
        for line in reversed(result.stdout.splitlines()):
            if line.startswith("{"):
                try:
                    report = json.loads(line)
                except json.JSONDecodeError:
                    report = None
                break
        if result.returncode != 0 or not isinstance(report, dict):
            print(f"{target.label}: cannot check: {last_line(result.stderr)}", flush=True)
            failed.append(target.label)
            continue
        installed = version_of(root, target)
        if report.get("update_available"):
            source = read_answers(root / target.answers).get("_src_path", "")
            latest = tag_for(source, str(report.get("latest_version")), tags)
            print(f"{target.label}: {installed} -> {latest} available", flush=True)
            behind.append(f"{target.label} ({installed} -> {latest})")
        else:
            print(f"{target.label}: up to date ({installed})", flush=True)
            current.append(target.label)
    print("summary:")
    print(f"  behind:     {', '.join(behind) or 'none'}")
    print(f"  up to date: {', '.join(current) or 'none'}")
    if failed:
        print(f"  not checked: {', '.join(failed)}")
        return EXIT_USAGE
    if behind:
        print("next: python tools/sync.py")
        return EXIT_STOPPED
    return EXIT_OK


# -- command line --------------------------------------------------------------------


def default_root() -> Path:
    """The project sync works on: the nearest folder up from here with its answers."""
    return project_root()


def select(root: Path, names: Sequence[str]) -> list[Target]:
    wiring, components = find_targets(root)
    unknown = [name for name in names if name not in components]
    if unknown:
        known = ", ".join(components) or "none"
        raise SyncError(f"unknown component {', '.join(unknown)}; this project has: {known}")
    chosen = list(dict.fromkeys(names)) if names else list(components)
    targets = [components[name] for name in chosen]
    if wiring is None and not targets:
        raise SyncError(f"no hexforge answers files in {root} ({ANSWERS_NAME}, components/*/)")
    return ([wiring] if wiring else []) + targets


def parse_args(argv: Sequence[str] | None) -> tuple[Path | None, list[str], str | None, bool, bool]:
    parser = ArgumentParser(
        prog="tools/sync.py",
        description=(
            "Update the project wiring, then each component (or the ones named), to the "
            "newest template version or REF, committing each update on its own."
        ),
    )
    parser.add_argument("components", nargs="*", metavar="COMPONENT", help="only these")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--to", metavar="REF", help="template tag or commit (default: newest tag)")
    mode.add_argument("--check", action="store_true", help="report what is behind; change nothing")
    parser.add_argument("--root", type=Path, help="project root (default: this tool's project)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Copier's output")
    args = parser.parse_args(argv)
    return args.root, list(args.components), args.to, bool(args.check), bool(args.verbose)


def run(argv: Sequence[str] | None = None) -> int:
    given_root, names, ref, check_only, verbose = parse_args(argv)
    root = (given_root or default_root()).resolve()
    try:
        if not root.is_dir():
            raise SyncError(f"{root} is not a folder")
        ensure_repository(root)
        targets = select(root, names)
        copier = copier_command()
        if check_only:
            return check(root, targets, copier)
        refuse_detached(root)
        refuse_dirty(root)
    except (SyncError, GitError) as exc:
        print(f"sync: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    return sync(root, targets, copier, ref, verbose=verbose)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="sync")
