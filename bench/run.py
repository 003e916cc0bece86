"""Benchmarks: what hexforge costs, against baselines measured in the same run.

    .venv/bin/python bench/run.py [--quick] [--runs N] [--only SECTION ...]

Everything is built in a temporary folder: a git snapshot of the template (tags v1
and v2, v2 adding one line to the component's README), projects scaffolded from it,
and baseline Copier templates whose files are hexforge's rendered output, verbatim and
static, under a copier.yml with no extensions, no question logic and no tasks.

- scaffold  `copier copy` of a component (the CLI, whole process) into a wired project,
            and into an empty git repository (which wires it first), vs the baseline;
- update    `copier update` of a component v1 -> v2, vs the same update of the baseline;
            the update and the copy into a wired project also time the baseline
            from a repository as large as hexforge's (the rest of the snapshot inert
            in it): the ratio split into the repository's size and hexforge's own
            code (rows with no target);
- audit     tools/hex_audit.py vs lint-imports on 50/200/500 synthetic components
            (bench/audit_bench.py's projects);
- sync      tools/sync.py v1 -> v2 on projects of 1, 5 and 20 components;
- tests     `pytest -m unit` and `pytest -m integration` of one generated component;
- gates     tools/quality_gates.py, in full and with --changed after a one-component
            edit, vs the seven tools by hand, on projects of 1, 10 and 20 components
            (bench/gates_bench.py);
- lists     list pages (first and deep, default order and an indexed sort) vs get by
            id, through a generated component's app on PostgreSQL with 10^4, 10^5 and
            10^6 rows, beside the offset list of the template before it
            (bench/lists_bench.py).

Figures are medians of --runs runs (5; --quick: 3, smaller sizes, fewer extras) with
min-max. The cases of one measurement take turns, so load from other work on a shared
machine falls on all of them; the CPU ratio (user + system seconds of the processes)
moves even less with that load than the wall-clock ratio.

After the timed runs, one traced run of each Copier command shows where its time goes:
a sitecustomize on PYTHONPATH times every subprocess of every Python process in the
tree (git, the tasks, the nested copy) and, inside each Copier process, its phases
(imports, questions, `_answers_file`, file rendering...), each less its subprocesses.

--variant NAME=DIR times another version of the template (a fix to try) in the same
rounds as hexforge and the baseline. --template-ref REF measures a commit of this
repository instead of its working tree. The markdown goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import os
import platform
import pstats
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for _path in (str(REPO), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import audit_bench  # noqa: E402
import gates_bench  # noqa: E402
import lists_bench  # noqa: E402

from tests.helpers import (  # noqa: E402
    BIN,
    GIT_ENV,
    TEMPLATE_PARTS,
    commit_all,
    copier_copy,
    git,
    init_repo,
    run,
    tag_template,
    template_parts_at,
)

SECTIONS = ("scaffold", "update", "audit", "sync", "tests", "gates", "lists")
COMPONENT = "orders"
FIELDS = "customer:str, total:decimal, placed_on:date, paid:bool, note:str?"
COMPONENT_DATA = {"kind": "component", "component_name": COMPONENT, "fields": FIELDS}
COMPONENT_ANSWERS = f"components/{COMPONENT}/.copier-answers.yml"
V2_MARKER = "Benchmark change: this line arrived with template v2."
RATIO_TARGET = 1.25
AUDIT_TARGET_S = 1.0
AUDIT_TARGET_SIZE = 500
# Component names for the sync projects (each gets its own entity name by default).
SYNC_NAMES = [f"{word}_book" for word in "abcdefghijklmnopqrstuvwxyz"]

# A Python process tree is timed by this sitecustomize (put on PYTHONPATH): every
# subprocess a Python process starts is logged with its command line, its parent and
# the time from spawn to reaping. Non-Python children (git, ruff) are leaves.
TRACER = """\
import atexit, functools, importlib.abc, importlib.machinery, json, os, subprocess, sys, time

_LOG = os.environ.get("HEXFORGE_BENCH_TRACE")
_handle = getattr(subprocess.Popen, "_handle_exitstatus", None)
_T0 = time.monotonic()
_state = {"children": 0.0, "imported": None}
_phases = {}
_active = {}


def _write(record):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\\n")


def _timed(name, func):
    # Seconds spent in func (outermost calls only), less the time its subprocesses
    # took: those are timed on their own.
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _active.get(name):
            return func(*args, **kwargs)
        _active[name] = True
        start, children = time.monotonic(), _state["children"]
        try:
            return func(*args, **kwargs)
        finally:
            _active[name] = False
            spent = time.monotonic() - start - (_state["children"] - children)
            total = _phases.setdefault(name, [0.0, 0])
            total[0] += spent
            total[1] += 1

    return wrapper


def _patch_copier(module):
    _state["imported"] = time.monotonic()
    worker = module.Worker
    for name in ("_ask", "_render_template", "_render_file", "_execute_tasks", "_cleanup"):
        setattr(worker, name, _timed(name, getattr(worker, name)))
    worker.answers_relpath = property(_timed("answers_relpath", worker.answers_relpath.fget))
    for owner, name in ((worker, "jinja_env"), (module.Template, "_raw_config")):
        patched = functools.cached_property(_timed(name, getattr(owner, name).func))
        patched.__set_name__(owner, name)
        setattr(owner, name, patched)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "copier._main":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                _patch_copier(module)

            spec.loader.exec_module = exec_module
        return spec


if _LOG and _handle is not None:
    _init = subprocess.Popen.__init__

    def _traced_init(self, args, *rest, **kwargs):
        self._hxb_start = time.monotonic()
        self._hxb_args = args
        _init(self, args, *rest, **kwargs)

    def _traced_handle(self, *rest, **kwargs):
        _handle(self, *rest, **kwargs)
        start = getattr(self, "_hxb_start", None)
        if start is None:
            return
        self._hxb_start = None
        end = time.monotonic()
        _state["children"] += end - start
        args = self._hxb_args
        argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
        argv = [a if isinstance(a, str) else os.fsdecode(a) for a in argv]
        _write({"parent": os.getpid(), "pid": self.pid, "argv": argv, "start": start, "end": end})

    def _at_exit():
        if _state["imported"] is not None:
            imports = _state["imported"] - _T0
            _write({"process": os.getpid(), "imports": imports, "phases": _phases})

    subprocess.Popen.__init__ = _traced_init
    subprocess.Popen._handle_exitstatus = _traced_handle
    sys.meta_path.insert(0, _Finder())
    atexit.register(_at_exit)
"""

BASELINE_COPIER_YML = """\
# Baseline for bench/run.py: hexforge's rendered files, verbatim and static.
# No extensions, no questions, no tasks; only the answers file is templated.
_subdirectory: template
_answers_file: {answers}
"""


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Wall seconds of each run, and the CPU seconds (user + system) its processes used:
    the CPU figure hardly moves when other work shares the machine."""

    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    def scaled(self, factor: float) -> Timing:
        return Timing([s * factor for s in self.samples], [c * factor for c in self.cpu])

    def cell(self) -> str:
        if not self.samples:
            return "—"
        if len(self.samples) == 1:
            return f"{self.median:.2f} (1 run)"
        low, high = min(self.samples), max(self.samples)
        return f"{self.median:.2f} ({low:.2f}-{high:.2f})"


@dataclass
class Row:
    benchmark: str
    value: Timing | None
    baseline_label: str = "—"
    baseline: Timing | None = None
    ratio: float | None = None
    target: str = "—"
    met: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        met = "—" if self.met is None else ("yes" if self.met else "**no**")
        cpu = "—"
        if self.value and self.baseline and self.value.cpu and self.baseline.cpu:
            cpu = f"{self.value.cpu_median / self.baseline.cpu_median:.2f}x"
        return [
            self.benchmark,
            self.value.cell() if self.value else "—",
            self.baseline_label,
            self.baseline.cell() if self.baseline else "—",
            f"{self.ratio:.2f}x" if self.ratio is not None else "—",
            cpu,
            self.target,
            met,
            self.note,
        ]


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # markdown blocks after the table
    notes: list[str] = field(default_factory=list)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def alternate(
    runs: int,
    cases: Sequence[tuple[Callable[[], object], Callable[[], object]]],
    warmup: bool = True,
) -> list[Timing]:
    """Time each case's action `runs` times (after one untimed warm-up), the cases taking
    turns and each round starting with the next case; `prepare` is not timed."""
    timings = [Timing() for _ in cases]
    order = list(range(len(cases)))
    for index in range(runs + (1 if warmup else 0)):
        shift = index % len(cases)
        for case in order[shift:] + order[:shift]:
            prepare, action = cases[case]
            prepare()
            cpu = children_cpu()
            seconds = timed(action)
            if index or not warmup:
                timings[case].samples.append(seconds)
                timings[case].cpu.append(children_cpu() - cpu)
    return timings


# ------------------------------------------------------------------ process tracing


@dataclass
class Trace:
    total: float
    records: list[dict[str, Any]]

    def children(self, parent: object) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("parent") == parent]

    def phases(self, pid: object) -> dict[str, Any] | None:
        return next((r for r in self.records if r.get("process") == pid), None)

    def root(self) -> object:
        pids = {r["pid"] for r in self.records if "pid" in r}
        parents = [r["parent"] for r in self.records if "pid" in r and r["parent"] not in pids]
        return parents[0] if parents else None


def traced_run(workspace: Path, action: Callable[[dict[str, str]], object]) -> Trace:
    """Run action(env) with every Python process of its tree logging its subprocesses."""
    folder = workspace / "tracer"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(TRACER, encoding="utf-8")
    log = folder / "trace.jsonl"
    log.unlink(missing_ok=True)
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])),
        "HEXFORGE_BENCH_TRACE": str(log),
    }
    total = timed(lambda: action(env))
    records = []
    if log.exists():
        records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return Trace(total, records)


def git_subcommand(argv: Sequence[str]) -> str:
    words = iter(argv[1:])
    for word in words:
        if word in ("-C", "-c"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return "?"


def describe(argv: Sequence[str]) -> str:
    """A short, stable name for a command line: git, ruff, copier, or the script run."""
    exe, args = os.path.basename(argv[0]) if argv else "?", list(argv[1:])
    if exe == "git":
        return "git"
    if exe.startswith("python"):
        if args[:1] == ["-m"] and len(args) > 1:
            exe, args = args[1], args[2:]
        elif args and args[0].endswith(".py"):
            options = [a for a in args[1:] if a.startswith(("--kind=", "--stage="))]
            return " ".join(
                ["task:" if "extensions" in args[0] else "", *[os.path.basename(args[0]), *options]]
            ).strip()
    words = [a for a in args if not a.startswith("-")]
    verb = words[0] if words else ""
    if exe == "ruff":
        return f"ruff {verb}" + (" --select=I --fix" if "--select=I" in args else "")
    if exe == "copier":
        kind = next((a for a in args if a.startswith("kind=")), "")
        if "-a" in args[:-1]:
            answers = args[args.index("-a") + 1]
            kind = "project wiring" if answers == ".copier-answers.yml" else "component"
        return f"copier {verb}" + (f" ({kind})" if kind else "")
    return exe


def _seconds(record: dict[str, Any]) -> float:
    return float(record["end"]) - float(record["start"])


# In-process phases the tracer times inside a Copier process (less their subprocesses).
PHASES = (
    ("_ask", "questions: defaults and validators"),
    ("_raw_config", "template: read copier.yml (its git clone is timed apart)"),
    ("jinja_env", "Jinja environment, extensions loaded"),
    ("answers_relpath", "`_answers_file` rendered (once per path part and more)"),
    ("_render_file", "file contents rendered"),
    ("_cleanup", "temporary template clone removed"),
    ("_execute_tasks", "tasks: hexforge's after-render step (wiring, layout), in-process"),
)


def breakdown(trace: Trace, title: str, max_depth: int = 4) -> str:
    """A markdown table of the process tree, children grouped by command, inclusive times.

    Processes of one group (say, the `copier update` of each component of a sync) are
    merged, so their own children are summed across the group too.
    """
    lines = [
        f"**{title}**: one traced run, {trace.total:.2f} s wall",
        "",
        "| process, or where its own time went (same commands merged) | calls | s | share |",
        "|---|---:|---:|---:|",
    ]

    def add(depth: int, label: str, calls: object, seconds: float) -> None:
        pad = "&emsp;" * depth + ("↳ " if depth else "")
        share = f"{seconds / trace.total:.0%}" if trace.total else "-"
        lines.append(f"| {pad}{label} | {calls} | {seconds:.2f} | {share} |")

    def in_process(pids: list[object], seconds: float, depth: int) -> None:
        add(depth, "*in-process: interpreter, imports, own work*", "", seconds)
        records = [r for r in map(trace.phases, pids) if r is not None]
        if not records:
            return

        def phase(key: str) -> float:
            return sum(float(r["phases"].get(key, [0.0])[0]) for r in records)

        parts = [("Python start, Copier imported", sum(float(r["imports"]) for r in records))]
        parts += [(label, phase(key)) for key, label in PHASES]
        rest_of_render = (
            phase("_render_template") - phase("answers_relpath") - phase("_render_file")
        )
        parts.append(("rest of the render: path names, walk, writes", max(rest_of_render, 0.0)))
        parts.append(("rest: CLI, git bookkeeping, exit", seconds - sum(s for _, s in parts)))
        for label, part in parts:
            add(depth + 1, label, "", part)

    def walk(pids: list[object], label: str, seconds: float, depth: int) -> None:
        add(depth, label, len(pids), seconds)
        kids = [kid for pid in pids for kid in trace.children(pid)]
        if depth >= max_depth or not (kids or any(map(trace.phases, pids))):
            return
        in_process(pids, seconds - sum(map(_seconds, kids)), depth + 1)
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for kid in kids:
            groups[describe(kid["argv"])].append(kid)
        for name, group in sorted(groups.items(), key=lambda g: -sum(map(_seconds, g[1]))):
            group_seconds = sum(map(_seconds, group))
            if name == "git":
                by_sub: dict[str, list[float]] = defaultdict(list)
                for kid in group:
                    by_sub[git_subcommand(kid["argv"])].append(_seconds(kid))
                top = sorted(by_sub.items(), key=lambda item: -sum(item[1]))
                name = (
                    "git: "
                    + ", ".join(
                        f"{sub}{f' x{len(times)}' if len(times) > 1 else ''} {sum(times):.2f}"
                        for sub, times in top[:4]
                    )
                    + (", ..." if len(top) > 4 else "")
                )
            walk([kid["pid"] for kid in group], name, group_seconds, depth + 1)

    root = trace.root()
    if root is None:
        add(0, "whole command (no subprocess recorded)", 1, trace.total)
    else:
        walk([root], "whole command", trace.total, 0)
    return "\n".join(lines)


# ---------------------------------------------------------------- inputs to measure


@dataclass
class Config:
    runs: int
    quick: bool
    workspace: Path
    template_dir: Path
    template_ref: str | None
    generated_venv: Path | None
    profile: bool
    audit_sizes: tuple[int, ...]
    sync_sizes: tuple[int, ...]
    gates_sizes: tuple[int, ...]
    variants: list[tuple[str, Path]]
    lists_sizes: tuple[int, ...] = lists_bench.SIZES
    lists_rounds: int = lists_bench.ROUNDS


def versions(*distributions: str) -> str:
    found = []
    for name in distributions:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def machine_line() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    tools = versions("copier", "copier-template-extensions", "jinja2", "ruff", "import-linter")
    return (
        f"{platform.system()} {platform.release()}, nproc {os.cpu_count()}, {model}; "
        f"Python {platform.python_version()}; {tools}; load average at start {load}"
    )


def snapshot(source: Path, ref: str | None, dest: Path) -> Path:
    """A template's files as their own git repository, tagged v1 (like tests/helpers)."""
    dest.mkdir(parents=True)
    if ref:
        archive = subprocess.run(
            [
                "git",
                "-C",
                str(source),
                "archive",
                "--format=tar",
                ref,
                *template_parts_at(source, ref),
            ],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    else:
        for part in TEMPLATE_PARTS:
            if (source / part).is_dir():
                # Symbolic links kept as links, as git keeps them: followed, the
                # template's component_with_project/ alone was 56 files more to check
                # out on every clone, which no user's clone of the template has.
                shutil.copytree(
                    source / part,
                    dest / part,
                    symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
                )
            elif (source / part).exists():
                shutil.copy2(source / part, dest / part)
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, "template v1")
    git(dest, "tag", "v1")
    return dest


def add_v2(template: Path, readme: Path) -> None:
    """The small template change of every update benchmark: one line more in a README."""
    text = readme.read_text(encoding="utf-8")
    readme.write_text(f"{text.rstrip()}\n\n{V2_MARKER}\n", encoding="utf-8")
    tag_template(template, "v2", "template v2")


def add_hexforge_v2(template: Path) -> None:
    readmes = list((template / "template" / "component").glob("components/*/README.md.jinja"))
    if len(readmes) != 1:
        raise SystemExit(f"expected one component README template, found {readmes}")
    add_v2(template, readmes[0])


def rendered_files(project: Path) -> dict[str, bytes]:
    """What a copy wrote into the project, minus git's and the tools' runtime state."""
    skip_dirs = {".git", ".ruff_cache", "__pycache__", ".mypy_cache", ".pytest_cache"}
    files = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if path.is_dir() or skip_dirs & set(relative.parts):
            continue
        if relative.name == ".hexforge.lock" or relative.as_posix() == COMPONENT_ANSWERS:
            continue
        files[relative.as_posix()] = path.read_bytes()
    return files


def baseline_template(
    dest: Path, files: dict[str, bytes], answers_template: str, padding: Path | None = None
) -> Path:
    """A Copier template that writes `files` verbatim: the cost of Copier alone.

    With `padding` (a hexforge snapshot), the template's repository also holds every
    file of it but the component's templates, inert under repository/ (Copier renders
    template/ only): as many files and folders to clone and check out as hexforge's,
    and nothing else of hexforge's.
    """
    (dest / "template").mkdir(parents=True)
    if padding is not None:
        shutil.copytree(
            padding,
            dest / "repository",
            symlinks=True,
            ignore=lambda folder, names: [
                name
                for name in names
                if name == ".git" or (Path(folder) == padding / "template" and name == "component")
            ],
        )
    (dest / "copier.yml").write_text(
        BASELINE_COPIER_YML.format(answers=COMPONENT_ANSWERS), encoding="utf-8"
    )
    (dest / "template" / "{{ _copier_conf.answers_file }}.jinja").write_text(
        answers_template, encoding="utf-8"
    )
    for relative, data in files.items():
        target = dest / "template" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, "baseline v1")
    git(dest, "tag", "v1")
    return dest


@dataclass
class Inputs:
    hexforge: Path  # template repo, tags v1 and v2
    wired: Path  # a project after `kind=project`, committed
    first: Path  # empty repo + one component (the reference render), committed
    baseline_component: Path  # tags v1, v2
    baseline_project: Path  # tag v1
    baseline_sized: Path  # baseline_component in a repository of hexforge's size; v1, v2
    variants: list[tuple[str, Path]]  # other versions of hexforge, tags v1 and v2


def build_inputs(config: Config) -> Inputs:
    root = config.workspace
    progress("snapshotting the template and rendering the reference projects")
    hexforge = snapshot(config.template_dir, config.template_ref, root / "hexforge")
    wired = init_repo(root / "wired")
    copier_copy(hexforge, wired, {"kind": "project"}, vcs_ref="v1")
    commit_all(wired, "wired")
    first = init_repo(root / "first")
    copier_copy(hexforge, first, COMPONENT_DATA, vcs_ref="v1")
    commit_all(first, "first component")

    answers_template = next(
        (hexforge / "template" / "component").glob("*answers_file*.jinja")
    ).read_text(encoding="utf-8")
    everything = rendered_files(first)
    prefix = f"components/{COMPONENT}/"
    only_component = {k: v for k, v in everything.items() if k.startswith(prefix)}
    baseline_component = baseline_template(
        root / "baseline-component", only_component, answers_template
    )
    baseline_project = baseline_template(root / "baseline-project", everything, answers_template)
    baseline_sized = baseline_template(
        root / "baseline-sized", only_component, answers_template, padding=hexforge
    )

    add_hexforge_v2(hexforge)
    for baseline in (baseline_component, baseline_sized):
        add_v2(baseline, baseline / "template" / prefix / "README.md")
    variants = []
    for name, folder in config.variants:
        variant = snapshot(folder, None, root / f"variant-{name}")
        add_hexforge_v2(variant)
        variants.append((name, variant))
    templates = [hexforge, baseline_component, baseline_project, baseline_sized]
    for template in [*templates, *(v for _, v in variants)]:
        # As a template reaches its users, fetched: packed. A snapshot just committed
        # holds one loose object per file, which Copier's clone of a local path links
        # one by one and removes again: about 0.05 s more for hexforge's ~150 files
        # than for the baseline's ~40, a cost no fetched template has.
        git(template, "repack", "-a", "-d", "-q")
    return Inputs(
        hexforge, wired, first, baseline_component, baseline_project, baseline_sized, variants
    )


class Scratch:
    """Fresh run folders under the workspace, each removed before the next one."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.count = 0
        self.current: Path | None = None

    def fresh(self, source: Path | None = None) -> Path:
        self.done()
        self.count += 1
        self.current = self.root / f"{self.name}-{self.count}"
        if source is None:
            init_repo(self.current)
        else:
            shutil.copytree(source, self.current, symlinks=True)
        return self.current

    def done(self) -> None:
        if self.current is not None:
            shutil.rmtree(self.current, ignore_errors=True)
            self.current = None


def ratio_row(
    benchmark: str, value: Timing, baseline_label: str, baseline: Timing, note: str = ""
) -> Row:
    ratio = value.median / baseline.median
    return Row(
        benchmark,
        value,
        baseline_label,
        baseline,
        ratio,
        f"≤ {RATIO_TARGET:.2f}x",
        ratio <= RATIO_TARGET,
        note,
    )


def size_rows(
    section: str, command: str, hexforge: Timing, sized: Timing, base: Timing
) -> list[Row]:
    """The ratio to plain Copier split in two (no targets): what the template repository's
    size costs alone (the static copy, from a repository holding as many files and folders
    as hexforge's), and what hexforge's own code costs on top of it."""
    return [
        Row(
            f"{section}: the static {command}, from a repository of hexforge's size",
            sized,
            f"the static {command}",
            base,
            sized.median / base.median,
            note="Copier's clones of a larger template repository, alone",
        ),
        Row(
            f"{section}: hexforge's {command}, against the previous row",
            hexforge,
            f"the static {command}, from a repository of hexforge's size",
            sized,
            hexforge.median / sized.median,
            note="hexforge's own code: questions, extensions, rendering, after-render, ruff",
        ),
    ]


def check_component(project: Path, v2: bool = False) -> None:
    readme = project / "components" / COMPONENT / "README.md"
    if not readme.is_file():
        raise SystemExit(f"the benchmark's copy did not write {readme}")
    if v2 and V2_MARKER not in readme.read_text(encoding="utf-8"):
        raise SystemExit(f"the benchmark's update did not bring v2 into {readme}")


def data_args(data: dict[str, str]) -> list[str]:
    return [arg for key, value in data.items() for arg in ("-d", f"{key}={value}")]


def copy_command(template: Path, project: Path) -> list[str]:
    return [
        str(BIN / "copier"),
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        "v1",
        *data_args(COMPONENT_DATA),
        str(template),
        str(project),
    ]


def update_command(project: Path) -> list[str]:
    copier = str(BIN / "copier")
    return [
        copier,
        "update",
        "--trust",
        "--defaults",
        "--quiet",
        "-a",
        COMPONENT_ANSWERS,
        str(project),
    ]


def variant_label(name: str) -> str:
    return f" — variant `{name}`" if name != "hexforge" else ""


# ----------------------------------------------------------------------- sections


def bench_scaffold(config: Config, inputs: Inputs, report: Report) -> None:
    scratch = Scratch(config.workspace, "scaffold-run")
    state: dict[str, Path] = {}
    hexforges = [("hexforge", inputs.hexforge), *inputs.variants]

    def case(source: Path | None, template: Path) -> tuple[Callable[[], None], Callable[[], None]]:
        def prepare() -> None:
            state["project"] = scratch.fresh(source)

        def copy() -> None:
            run(copy_command(template, state["project"]), state["project"])
            check_component(state["project"])

        return prepare, copy

    for where, source, baseline, baseline_label in (
        ("into a wired project", inputs.wired, inputs.baseline_component, "static copy"),
        (
            "into an empty repo (wires it first)",
            None,
            inputs.baseline_project,
            "static copy (component + wiring files)",
        ),
    ):
        progress(f"scaffold {where}: {len(hexforges)} + baseline, {config.runs} runs each")
        # Into a wired project, the component's static copy also runs from a repository
        # of hexforge's size: what Copier's clone of a larger repository costs alone.
        controls = [inputs.baseline_sized] if source is not None else []
        *timings, base = alternate(
            config.runs,
            warmup=not config.quick,
            cases=[
                *(case(source, template) for _, template in hexforges),
                *(case(source, template) for template in controls),
                case(source, baseline),
            ],
        )
        ours, sized = timings[: len(hexforges)], timings[len(hexforges) :]
        for (name, _), timing in zip(hexforges, ours, strict=True):
            report.rows.append(
                ratio_row(
                    f"scaffold: `copier copy` component {where}{variant_label(name)}",
                    timing,
                    baseline_label,
                    base,
                )
            )
        for control in sized:
            report.rows.extend(size_rows("scaffold", "copy", ours[0], control, base))

    progress("scaffold: one traced run of each for the breakdown")
    traced = [
        (f"{name} copy into a wired project", inputs.wired, template)
        for name, template in hexforges
    ]
    if not config.quick:
        traced.append(
            ("baseline copy into a wired project", inputs.wired, inputs.baseline_component)
        )
        traced += [
            (f"{name} copy into an empty repo", None, template) for name, template in hexforges
        ]
    for title, source, template in traced:
        project = scratch.fresh(source)
        trace = traced_run(
            config.workspace,
            lambda env, t=template, p=project: run(copy_command(t, p), p, env=env),
        )
        report.details.append(breakdown(trace, title))
    scratch.done()
    if config.profile:
        report.details.append(profile_copy(config, inputs))


def profile_copy(config: Config, inputs: Inputs) -> str:
    """cProfile of one hexforge copy run in-process (profiling only, not timing)."""
    import copier

    scratch = Scratch(config.workspace, "profile")
    project = scratch.fresh(inputs.wired)
    profiler = cProfile.Profile()
    saved = {key: os.environ.get(key) for key in GIT_ENV}
    os.environ.update(GIT_ENV)
    here = Path.cwd()
    os.chdir(project)
    try:
        profiler.runcall(
            copier.run_copy,
            str(inputs.hexforge),
            str(project),
            data=COMPONENT_DATA,
            vcs_ref="v1",
            defaults=True,
            unsafe=True,
            quiet=True,
        )
    finally:
        os.chdir(here)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        scratch.done()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"copier/|jinja2/environment|extensions/", 30)
    text = "\n".join(line[:160] for line in out.getvalue().strip().splitlines())
    return f"**cProfile of a hexforge copy into a wired project, in-process**\n\n```\n{text}\n```"


def bench_update(config: Config, inputs: Inputs, report: Report) -> Timing:
    progress("update: preparing the v1 projects")
    templates = [("hexforge", inputs.hexforge), *inputs.variants]
    templates.append(("sized", inputs.baseline_sized))
    templates.append(("baseline", inputs.baseline_component))
    projects = {}
    for name, template in templates:
        project = config.workspace / f"update-{name}"
        shutil.copytree(inputs.wired, project, symlinks=True)
        copier_copy(template, project, COMPONENT_DATA, vcs_ref="v1")
        commit_all(project, "component v1")
        projects[name] = project
    scratch = Scratch(config.workspace, "update-run")
    state: dict[str, Path] = {}

    def case(name: str) -> tuple[Callable[[], None], Callable[[], None]]:
        def prepare() -> None:
            state["project"] = scratch.fresh(projects[name])

        def update() -> None:
            run(update_command(state["project"]), state["project"])
            check_component(state["project"], v2=True)

        return prepare, update

    progress(f"update v1 -> v2: {len(templates) - 1} + baseline, {config.runs} runs each")
    cases = [case(name) for name, _ in templates]
    *timings, sized, base = alternate(config.runs, cases, warmup=not config.quick)
    for (name, _), timing in zip(templates, timings, strict=False):
        report.rows.append(
            ratio_row(
                f"update: `copier update` component v1 → v2{variant_label(name)}",
                timing,
                "same update of the static copy",
                base,
            )
        )
    # Copier clones and checks out the template five times per update.
    report.rows.extend(size_rows("update", "update", timings[0], sized, base))
    progress("update: one traced run of each for the breakdown")
    traced = [t for t in templates if t[0] != "sized"]
    for name, _ in traced[:-1] if config.quick else traced:
        project = scratch.fresh(projects[name])
        trace = traced_run(
            config.workspace, lambda env, p=project: run(update_command(p), p, env=env)
        )
        report.details.append(breakdown(trace, f"{name} update v1 → v2"))
    scratch.done()
    return timings[0]


def bench_audit(config: Config, report: Report) -> None:
    audit = config.workspace / "hexforge" / "template" / "project" / "tools" / "hex_audit.py"
    lint = [str(audit_bench.LINT_IMPORTS), "--no-cache", "--no-logo"]
    results: list[tuple[int, Timing, Timing]] = []
    for size in config.audit_sizes:
        progress(f"audit: {size} components, {config.runs} runs of each tool")
        root = audit_bench.build_project(config.workspace / f"audit-{size}", size)
        env = {**os.environ, "PYTHONPATH": str(root)}

        def audit_run(root: Path = root) -> None:
            audit_bench.run_checked([sys.executable, str(audit), "components/"], root)

        def lint_run(root: Path = root, env: dict[str, str] = env) -> None:
            audit_bench.run_checked(lint, root, env)

        cases = [(noop, audit_run), (noop, lint_run)]
        hex_t, lint_t = alternate(config.runs, cases, warmup=not config.quick)
        results.append((size, hex_t, lint_t))
        shutil.rmtree(root, ignore_errors=True)

    for size, hex_t, lint_t in results:
        note = (
            f"{hex_t.median / size * 1000:.2f} ms/component"
            f" (lint-imports {lint_t.median / size * 1000:.2f})"
        )
        timed_target = size >= AUDIT_TARGET_SIZE  # "under a second at 500 components"
        under = hex_t.median < AUDIT_TARGET_S
        report.rows.append(
            Row(
                f"audit: `tools/hex_audit.py` on {size} components",
                hex_t,
                "`lint-imports --no-cache`, same tree",
                lint_t,
                hex_t.median / lint_t.median,
                "≤ lint-imports" + (f", < {AUDIT_TARGET_S:.0f} s" if timed_target else ""),
                hex_t.median <= lint_t.median and (under or not timed_target),
                note,
            )
        )
    if len(results) >= 3:
        marginals = [
            (b[1].median - a[1].median) / (b[0] - a[0]) for a, b in itertools.pairwise(results)
        ]
        sizes = ", ".join(str(size) for size, _, _ in results)
        report.rows.append(
            Row(
                "audit: growth, marginal ms per added component",
                None,
                target="linear: last interval ≤ 1.5x the first",
                met=marginals[-1] <= 1.5 * marginals[0],
                note=" → ".join(f"{m * 1000:.2f}" for m in marginals) + f" (sizes {sizes})",
            )
        )


def noop() -> None:
    return None


def bench_sync(config: Config, inputs: Inputs, report: Report, single: Timing | None) -> None:
    if not (inputs.wired / "tools" / "sync.py").is_file():
        report.rows.append(
            Row(
                "sync: `tools/sync.py` v1 → v2",
                None,
                note="skipped: this template renders no tools/sync.py yet"
                " (template/project/tools/sync.py)",
            )
        )
        return
    sizes = config.sync_sizes
    progress(f"sync: building projects of {', '.join(map(str, sizes))} components")
    projects: dict[int, Path] = {}
    growing = config.workspace / "sync-growing"
    shutil.copytree(inputs.wired, growing, symlinks=True)
    made = 0
    for size in sorted(sizes):
        for name in SYNC_NAMES[made:size]:
            data = {"kind": "component", "component_name": name, "fields": FIELDS}
            copier_copy(inputs.hexforge, growing, data, vcs_ref="v1")
        made = size
        commit_all(growing, f"{size} components")
        projects[size] = config.workspace / f"sync-project-{size}"
        shutil.copytree(growing, projects[size], symlinks=True)
    shutil.rmtree(growing, ignore_errors=True)

    scratch = Scratch(config.workspace, "sync-run")
    state: dict[str, Path] = {}
    path_env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

    def sync(project: Path, env: dict[str, str] | None = None) -> None:
        result = run(
            [sys.executable, "tools/sync.py"], project, env={**path_env, **(env or {})}, check=False
        )
        if result.returncode != 0:
            raise SystemExit(f"tools/sync.py exited {result.returncode}:\n{result.stdout}")

    previous: tuple[int, float] | None = None
    for size in sorted(sizes):
        runs = 1 if config.quick or size >= 20 else min(config.runs, 3 if size == 1 else 2)
        progress(f"sync: {size} components, {runs} run(s)")

        def prepare(size: int = size) -> None:
            state["project"] = scratch.fresh(projects[size])

        timing = alternate(runs, [(prepare, lambda: sync(state["project"]))], warmup=False)[0]
        for name in SYNC_NAMES[:size]:
            readme = state["project"] / "components" / name / "README.md"
            if V2_MARKER not in readme.read_text(encoding="utf-8"):
                raise SystemExit(f"tools/sync.py did not bring v2 into {readme}")
        note = f"{timing.median / size:.2f} s/component (the wiring's update included)"
        if previous:
            before, seconds = previous
            note += f", {(timing.median - seconds) / (size - before):.2f} s per added component"
        previous = (size, timing.median)
        row = Row(
            f"sync: `tools/sync.py` v1 → v2, {size} component{'s' if size > 1 else ''}",
            timing,
            note=f"{note}; {runs} run{'s' if runs > 1 else ''}",
        )
        if single is not None:
            row.baseline_label = f"{size} x one `copier update` (above)"
            row.baseline = single.scaled(size)
            row.ratio = timing.median / row.baseline.median
        report.rows.append(row)

    if config.quick:
        report.notes.append("--quick: no traced run of tools/sync.py (run without --quick).")
    else:
        size = max([s for s in sizes if s <= 5] or [min(sizes)])
        progress(f"sync: one traced run of {size} components for the breakdown")
        project = scratch.fresh(projects[size])
        trace = traced_run(config.workspace, lambda env, p=project: sync(p, env))
        report.details.append(breakdown(trace, f"tools/sync.py, {size} components v1 → v2", 3))
    scratch.done()


def generated_venv(config: Config, report: Report) -> Path:
    from tests.conftest import GENERATED_VENV, generated_project_requirements

    if config.generated_venv is not None:
        return config.generated_venv
    if (GENERATED_VENV / "requirements.txt").exists():  # written once the tests built it
        return GENERATED_VENV
    venv = config.workspace / "generated-venv"
    progress(f"tests: building a venv with the generated project's requirements in {venv}")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *generated_project_requirements()], check=True)
    report.notes.append(
        f"The generated project's venv was built for this run in"
        f" {time.perf_counter() - start:.0f} s (not counted); pass --generated-venv or keep"
        " .cache/generated-venv to reuse one."
    )
    return venv


def bench_tests(config: Config, inputs: Inputs, report: Report) -> None:
    from tests.component.gates import gate_env

    venv = generated_venv(config, report)
    project = inputs.first
    env = gate_env(venv, project)
    env.pop("HEXFORGE_REQUIRE_POSTGRES", None)
    pytest = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    summaries: dict[str, str] = {}

    def pytest_run(*args: str) -> Callable[[], None]:
        def action() -> None:
            result = run([*pytest, *args], project, env=env, check=False)
            if result.returncode not in (0, 5):  # 5: nothing collected
                raise SystemExit(f"pytest {' '.join(args)} failed:\n{result.stdout}")
            lines = result.stdout.strip().splitlines()
            summaries[args[-1]] = lines[-1].strip("= ") if lines else ""

        return action

    runs = 1 if config.quick else config.runs
    progress(f"tests: pytest in the generated project, {runs} run(s) each")
    collect, unit, integration = alternate(
        runs,
        [
            (noop, pytest_run("--collect-only")),
            (noop, pytest_run("-m", "unit")),
            (noop, pytest_run("-m", "integration")),
        ],
        warmup=False,
    )
    for marker, timing in (("unit", unit), ("integration", integration)):
        report.rows.append(
            Row(
                f"generated tests: `pytest -m {marker}`, one component",
                timing,
                "`pytest --collect-only` (start-up, imports, collection)",
                collect,
                timing.median / collect.median,
                note=f"{summaries.get(marker, '')}; {runs} run{'s' if runs > 1 else ''}",
            )
        )
    if "skipped" in summaries.get("integration", ""):
        report.notes.append("Some integration tests were skipped: no PostgreSQL was found.")
    report.notes.append(
        "`pytest -m integration` starts and removes a throwaway PostgreSQL cluster each run"
        " (unless TEST_DATABASE_URL is set); its CPU is not in the CPU ratio (a daemon)."
    )


def bench_gates(config: Config, inputs: Inputs, report: Report) -> None:
    venv = generated_venv(config, report).resolve()  # commands run in the projects
    sizes = ", ".join(map(str, config.gates_sizes))
    progress(f"gates: building projects of {sizes} components")
    projects = gates_bench.build_projects(
        inputs.hexforge, inputs.wired, config.workspace, config.gates_sizes
    )
    runs = 1 if config.quick else min(config.runs, 3)
    rows, notes = gates_bench.bench_gates(projects, venv, runs, alternate, Row, progress)
    report.rows += rows
    report.notes += notes


def bench_lists(config: Config, report: Report) -> None:
    venv = generated_venv(config, report).resolve()
    progress(f"lists: snapshotting the template and the one before ({lists_bench.BEFORE_REF})")
    after = snapshot(config.template_dir, config.template_ref, config.workspace / "lists-after")
    before = snapshot(
        config.template_dir, lists_bench.BEFORE_REF, config.workspace / "lists-before"
    )
    rows, notes, details = lists_bench.bench_lists(
        after,
        before,
        config.workspace,
        venv,
        config.lists_sizes,
        config.lists_rounds,
        Row,
        progress,
    )
    report.rows += rows
    report.notes += notes
    report.details += details


# --------------------------------------------------------------------------- main


def render(report: Report, header: str) -> str:
    columns = [
        "benchmark",
        "hexforge: median s (min-max)",
        "baseline",
        "baseline: median s (min-max)",
        "ratio",
        "CPU ratio",
        "target",
        "met",
        "notes",
    ]
    lines = [header, "", "| " + " | ".join(columns) + " |"]
    lines.append("|---|---:|---|---:|---:|---:|---|---|---|")
    lines += ["| " + " | ".join(row.cells()) + " |" for row in report.rows]
    if report.notes:
        lines += [""] + [f"- {note}" for note in report.notes]
    for block in report.details:
        lines += ["", block]
    return "\n".join(lines)


def variant(text: str) -> tuple[str, Path]:
    name, _, folder = text.rpartition("=")
    path = Path(folder).resolve()
    if not (path / "copier.yml").is_file():
        raise argparse.ArgumentTypeError(f"{path} has no copier.yml")
    return (name or path.name), path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="3 runs, smaller sizes (about 2 minutes)")
    add("--runs", type=int, help="runs per measurement (default 5, quick 3)")
    add("--only", nargs="+", choices=SECTIONS, help="only these sections")
    add(
        "--template-dir",
        type=Path,
        default=REPO,
        help="folder with copier.yml, extensions/, template/ to measure (default: this repo)",
    )
    add("--template-ref", help="measure this git ref of --template-dir instead of its files")
    add(
        "--variant",
        type=variant,
        action="append",
        default=[],
        metavar="[NAME=]DIR",
        help="another version of the template (say, a fix to try), timed alongside"
        " in scaffold and update; repeatable",
    )
    add("--generated-venv", type=Path, help="venv with a generated project's requirements")
    add("--audit-sizes", type=int, nargs="+", help="default 50 200 500; quick 20 50 100")
    add("--sync-sizes", type=int, nargs="+", help="default 1 5 20; quick 1 2")
    add("--gates-sizes", type=int, nargs="+", help="default 1 10 20; quick 1 3")
    add("--lists-sizes", type=int, nargs="+", help="default 10000 100000 1000000; quick 1000 5000")
    add("--lists-rounds", type=int, help="rounds of the lists' requests (default 100, quick 5)")
    add("--profile", action="store_true", help="add a cProfile of an in-process copy")
    add("--keep", type=Path, help="build in this folder and keep it")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sections = set(args.only or SECTIONS)
    runs = args.runs or (3 if args.quick else 5)
    # Stopped with SIGTERM, still remove the temporary folder.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    machine = machine_line()
    with tempfile.TemporaryDirectory(prefix="hexforge-bench-") as temp:
        workspace = args.keep.resolve() if args.keep else Path(temp)
        workspace.mkdir(parents=True, exist_ok=True)
        config = Config(
            runs=runs,
            quick=args.quick,
            workspace=workspace,
            template_dir=args.template_dir.resolve(),
            template_ref=args.template_ref,
            generated_venv=args.generated_venv,
            profile=args.profile,
            audit_sizes=tuple(
                args.audit_sizes or ((20, 50, 100) if args.quick else (50, 200, 500))
            ),
            sync_sizes=tuple(args.sync_sizes or ((1, 2) if args.quick else (1, 5, 20))),
            gates_sizes=tuple(args.gates_sizes or ((1, 3) if args.quick else (1, 10, 20))),
            variants=args.variant,
            lists_sizes=tuple(
                args.lists_sizes or (lists_bench.QUICK_SIZES if args.quick else lists_bench.SIZES)
            ),
            lists_rounds=args.lists_rounds
            or (lists_bench.QUICK_ROUNDS if args.quick else lists_bench.ROUNDS),
        )
        report = Report()
        inputs = None
        if sections & {"scaffold", "update", "sync", "tests", "gates"}:
            inputs = build_inputs(config)
        single = None
        if "scaffold" in sections and inputs:
            bench_scaffold(config, inputs, report)
        if "update" in sections and inputs:
            single = bench_update(config, inputs, report)
        if "audit" in sections:
            if inputs is None:
                snapshot(config.template_dir, config.template_ref, workspace / "hexforge")
            bench_audit(config, report)
        if "sync" in sections and inputs:
            bench_sync(config, inputs, report, single)
        if "tests" in sections and inputs:
            bench_tests(config, inputs, report)
        if "gates" in sections and inputs:
            bench_gates(config, inputs, report)
        if "lists" in sections:
            bench_lists(config, report)
    header = (
        f"Machine: {machine}.  \n"
        f"Median of {runs} runs (min-max) unless said; hexforge and its baseline take turns;"
        f" ratio = hexforge median / baseline median, wall clock (CPU ratio: user + system"
        f" seconds of the processes); {'--quick, ' if args.quick else ''}whole benchmark"
        f" {time.perf_counter() - started:.0f} s."
    )
    print(render(report, header))
    return 0  # a benchmark reports: missed targets are in the table, not the exit status


if __name__ == "__main__":
    sys.exit(main())
