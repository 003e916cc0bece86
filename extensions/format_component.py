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
    raw = {path: path.read_bytes() for path in files} if layouts is not None else {}
    keys = {path: layouts.key(path, root, raw[path]) for path in raw} if layouts is not None else {}
    pending = [
        path for path in files if layouts is None or not layouts.apply(path, keys[path], raw[path])
    ]
    if not pending:
        return 0
    paths = [str(path) for path in pending]
    options = [option, *RUFF_OPTIONS]
    # The ruff executable itself: `python -m ruff` would start an interpreter first.
    ruff = [find_ruff_bin()]
    # In the render's folder: with --config, ruff resolves the settings' relative paths
    # (src, which decides isort's first-party section; per-file-ignores) from there.
    isort = subprocess.run(
        [*ruff, "check", *options, "--select=I", "--fix", "--exit-zero", *paths],
        cwd=root,
        check=False,
    )
    layout = subprocess.run([*ruff, "format", *options, *paths], cwd=root, check=False)
    status = max(isort.returncode, layout.returncode)
    if layouts is not None and status == 0:
        for path in pending:
            layouts.entries[keys[path]] = path.read_bytes()
    return status


class _Layouts:
    """What ruff made of each file already laid out in the running update.

    Copier renders an update three times in one process (old copy, project, new copy),
    and the new copy's files are the project's render, byte for byte, as are most of
    the old copy's. ruff's layout of a file depends on its bytes, its path in the
    render's folder (per-file settings), the project's ruff settings, and which of the
    top-level modules it imports that folder holds (isort puts those in the
    first-party section): together, the key. The memo lives for one update only, known
    by its temporary folders, and in ``sys.modules``: each render loads this module
    from a clone of its own, and the old copy from another template version, whose
    entries match only if it keys them alike (``FORMAT``).
    """

    STORE = "_hexforge_update_layouts"
    FORMAT = b"hexforge-layout-2"

    def __init__(self, option: str, entries: dict[bytes, bytes]) -> None:
        self.option = option
        self.settings, self.source_folders = _ruff_settings(option)
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

    def key(self, path: Path, root: Path, raw: bytes) -> bytes:
        """The key of ``path`` in the render at ``root``, holding ``raw``."""
        relative = path.relative_to(root).as_posix().encode()
        local = _local_modules(raw, [root / folder for folder in self.source_folders])
        parts = (self.FORMAT, self.option.encode(), self.settings, relative, local, raw)
        return hashlib.sha256(b"\0".join(hashlib.sha256(part).digest() for part in parts)).digest()

    def apply(self, path: Path, key: bytes, raw: bytes) -> bool:
        """Lay ``path`` (holding ``raw``) out from the memo; False when it holds no
        layout of it."""
        laid_out = self.entries.get(key)
        if laid_out is None:
            return False
        if laid_out != raw:
            path.write_bytes(laid_out)
        return True


def _ruff_settings(option: str) -> tuple[bytes, tuple[str, ...]]:
    """What ruff reads of the configuration file ``option`` names (the whole of a
    ruff.toml; of a pyproject.toml only [tool.ruff] and the Python version it infers
    the target from, not the hexforge pin that an update moves), and its ``src``
    folders, where isort looks for the first-party modules."""
    default_src = (".", "src")
    if not option.startswith("--config="):
        return b"", default_src
    path = Path(option.removeprefix("--config="))
    try:
        data = path.read_bytes()
        document = tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return b"unreadable", default_src  # ruff fails on it too: nothing is remembered
    ruff = document if path.name != "pyproject.toml" else document.get("tool", {}).get("ruff")
    src = ruff.get("src") if isinstance(ruff, dict) else None
    folders = tuple(map(str, src)) if isinstance(src, list) else default_src
    if path.name != "pyproject.toml":
        return data, folders
    python = document.get("project", {}).get("requires-python")
    read = {"tool.ruff": ruff, "project.requires-python": python}
    return json.dumps(read, sort_keys=True, default=str).encode(), folders


_FROM = re.compile(rb"^[ \t]*from[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_IMPORT = re.compile(rb"^[ \t]*import[ \t]+([^#;\n]+)", re.MULTILINE)


def _local_modules(raw: bytes, folders: Sequence[Path]) -> bytes:
    """The top-level modules ``raw`` imports that ``folders`` hold (ruff's first-party
    test), as a sorted, comma-separated list. A line in a string that reads like an
    import only adds a name to the key."""
    names = set(_FROM.findall(raw))
    for group in _IMPORT.findall(raw):
        names.update(part.split()[0].split(b".")[0] for part in group.split(b",") if part.split())
    found = [
        name
        for name in sorted(names)
        if any(_holds(folder, name.decode("utf-8", "replace")) for folder in folders)
    ]
    return b",".join(found)


def _holds(folder: Path, module: str) -> bool:
    return (folder / module).is_dir() or (folder / f"{module}.py").is_file()


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
    folders = {
        "component": [copy / "components" / component],
        "project": [copy / "tools", copy / "components"],
    }.get(kind, [])
    files = sorted(path for folder in folders for path in folder.rglob("*.py"))
    status = format_files(files, copy)
    if status != 0:
        print(
            f"hexforge: warning: ruff could not lay out the update's copy of {kind} "
            f"{component} (exit {status}); the update may show layout changes",
            file=sys.stderr,
        )
