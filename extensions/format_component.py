"""Lay out a freshly rendered component with ruff, touching only what the template rendered.

Run by after_render.py after every render: in the real project, and in the temporary
copies ``copier update`` renders (old and new version), so that an update compares
formatted code with formatted code. During an update the step runs in the real
project before Copier re-applies the user's changes: at that moment the template's
own files are fresh renders, but the folder may also hold modules the user wrote.
Those are not ours to reformat, and one the formatter cannot parse must not abort
the update half-way, so only the template's files are passed to ruff and a ruff
failure is a warning.

Ruff lays them out with the project's own configuration (project_settings.py):
its line length, quotes, isort options... are what its gates check. An update's
three renders mostly hold the same files, byte for byte: what one laid out, the
next takes from a memo instead of running ruff on it again (``_Layouts``).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tomllib
import types
from collections.abc import Sequence
from pathlib import Path

from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

import copier_internals
from project_settings import ruff_config_option

TEMPLATES = Path(__file__).resolve().parent.parent / "template"
TEMPLATE_COMPONENT = TEMPLATES / "component" / "components"
TEMPLATE_PROJECT = TEMPLATES / "project"
# After the configuration option.
RUFF_OPTIONS = ["--no-cache", "--quiet"]
REGISTRY = Path("app", "components.py")  # written by the wiring, whole
CONDITION_TAG = re.compile(r"\{%.*?%\}")


def rendered_python_files(component: str, project: Path) -> list[Path]:
    """The component's .py files that this template version renders, where they exist."""
    source = TEMPLATE_COMPONENT / "{{ component_name }}"
    return _rendered(source, project / "components" / component)


def project_python_files(project: Path) -> list[Path]:
    """The project wiring's .py files this template version renders (tools/,
    components/conftest.py) and the registry the wiring writes (app/components.py),
    where they exist: laid out like the components, with the project's own ruff
    settings, so that its `ruff format --check .` passes on them too."""
    registry = project / REGISTRY
    return [*_rendered(TEMPLATE_PROJECT, project), *([registry] if registry.is_file() else [])]


def _rendered(source: Path, target_root: Path) -> list[Path]:
    files = []
    for template_file in sorted(source.rglob("*.py*")):
        relative = template_file.relative_to(source).as_posix().removesuffix(".jinja")
        # A file rendered only when asked for is named {% if x %}name.py{% endif %}.
        relative = CONDITION_TAG.sub("", relative)
        if relative.endswith(".py"):
            target = target_root / relative
            if target.is_file():
                files.append(target)
    return files


def format_files(files: list[Path], root: Path) -> int:
    """isort then format ``files`` of the render at ``root`` (a project, or an update's
    temporary copy) with the project's ruff settings; returns ruff's worst exit status.
    Files laid out earlier in the same update are taken from its memo."""
    option = ruff_config_option(root)
    layouts = _Layouts.of_running_update(option)
    pending = []
    for path in files:
        if layouts is None or not layouts.apply(path, root):
            pending.append(path)
    if not pending:
        return 0
    raw = {path: path.read_bytes() for path in pending} if layouts is not None else {}
    paths = [str(path) for path in pending]
    options = [option, *RUFF_OPTIONS]
    # The ruff executable itself: `python -m ruff` would start an interpreter first.
    ruff = [find_ruff_bin()]
    isort = subprocess.run(
        [*ruff, "check", *options, "--select=I", "--fix", "--exit-zero", *paths], check=False
    )
    layout = subprocess.run([*ruff, "format", *options, *paths], check=False)
    status = max(isort.returncode, layout.returncode)
    if layouts is not None and status == 0:
        for path, before in raw.items():
            layouts.record(path, root, before)
    return status


class _Layouts:
    """What ruff made of each file already laid out in the running update.

    Copier renders an update three times in one process (old copy, project, new copy),
    and the new copy's files are the project's render, byte for byte, as are most of
    the old copy's. ruff's layout of a file depends on its bytes, its place in the
    project and the project's ruff settings, which make the key; and on which
    top-level packages the project holds (isort's first-party section), which an
    update does not change. So the memo lives for one update only, known by its
    temporary folders, and in ``sys.modules``: each render loads this module from a
    clone of its own, and the old copy from another template version, whose entries
    match only if it keys them alike (``FORMAT``).
    """

    STORE = "_hexforge_update_layouts"
    FORMAT = b"hexforge-layout-1"

    def __init__(self, option: str, entries: dict[bytes, bytes]) -> None:
        self.option = option
        self.settings = _ruff_settings(option)
        self.entries = entries

    @classmethod
    def of_running_update(cls, option: str) -> _Layouts | None:
        update = copier_internals.update_copies()
        if not update:
            return None  # a copy renders once: nothing to share
        store = sys.modules.get(cls.STORE)
        if store is None or getattr(store, "update", None) != update:
            store = types.ModuleType(cls.STORE, "hexforge: ruff layouts of the running update")
            store.update, store.entries = update, {}  # type: ignore[attr-defined]
            sys.modules[cls.STORE] = store
        return cls(option, store.entries)

    def _key(self, path: Path, root: Path, raw: bytes) -> bytes:
        relative = path.relative_to(root).as_posix().encode()
        parts = (self.FORMAT, self.option.encode(), self.settings, relative, raw)
        return hashlib.sha256(b"\0".join(hashlib.sha256(part).digest() for part in parts)).digest()

    def apply(self, path: Path, root: Path) -> bool:
        """Lay ``path`` out from the memo; False when it holds no layout of it."""
        raw = path.read_bytes()
        laid_out = self.entries.get(self._key(path, root, raw))
        if laid_out is None:
            return False
        if laid_out != raw:
            path.write_bytes(laid_out)
        return True

    def record(self, path: Path, root: Path, raw: bytes) -> None:
        self.entries[self._key(path, root, raw)] = path.read_bytes()


def _ruff_settings(option: str) -> bytes:
    """What ruff reads of the configuration file ``option`` names: the whole of a
    ruff.toml, but of a pyproject.toml only [tool.ruff] and the Python version it
    infers the target from, not the hexforge pin that an update moves."""
    if not option.startswith("--config="):
        return b""
    path = Path(option.removeprefix("--config="))
    try:
        data = path.read_bytes()
        if path.name != "pyproject.toml":
            return data
        document = tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return b"unreadable"  # ruff fails on it too: nothing is remembered
    read = {
        "tool.ruff": document.get("tool", {}).get("ruff"),
        "project.requires-python": document.get("project", {}).get("requires-python"),
    }
    return json.dumps(read, sort_keys=True, default=str).encode()


def lay_out(
    project: Path, component: str = "", written: Sequence[Path] = (), *, project_files: bool = True
) -> None:
    """Lay out the project's rendered files (``project_files``), ``component``'s when
    given, and the modules ``written`` this run; a ruff failure is a warning."""
    files = project_python_files(project) if project_files else []
    if component:
        files += rendered_python_files(component, project)
    files += written
    status = format_files(files, project)
    if status != 0:
        what = f"components/{component}" if component else "the project's tools"
        print(
            f"hexforge: warning: ruff could not lay out {what} (exit {status}); "
            "the files are rendered but may fail `ruff format --check`",
            file=sys.stderr,
        )


def lay_out_copy(copy: Path, kind: str, component: str) -> None:
    """Lay out an update's temporary copy as the project's render is laid out. A copy
    holds only the template's files, all of them ours: the component's folder, or the
    project wiring's tools/ and components/."""
    folders = [copy / "components" / component] if kind == "component" else []
    if kind == "project":
        folders = [copy / "tools", copy / "components"]
    files = sorted(path for folder in folders for path in folder.rglob("*.py"))
    status = format_files(files, copy)
    if status != 0:
        print(
            f"hexforge: warning: ruff could not lay out the update's copy of {kind} "
            f"{component} (exit {status}); the update may show layout changes",
            file=sys.stderr,
        )
