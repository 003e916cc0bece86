"""The wiring: run after every `copier copy` and `copier update` of hexforge.

    python extensions/wiring.py --kind=KIND [--operation=copy|update] --template=SRC
        --ref=COMMIT --project-name=NAME

runs with the project root as its working directory (after_render.py calls its
main() in Copier's process, before the layout step). It makes the project's
wiring match what is on disk: pyproject.toml has what hexforge needs and depends on
the hexforge of this template version, app/components.py and .claude/manifest.yaml
list exactly the components under components/, app/main.py exists, and the agent's
workspace folders exist. The first component copied into a repository
renders the project's files in the same Copier run (project_state.py); a story
scaffolded, or a component updated, in a project that was never wired wires it
first, with a nested `copier copy` of kind=project.

Copier runs it in the real project only (copier.yml's ``when``: never in the
throwaway copies an update renders). Every run happens under one project-wide lock and
writes only files whose bytes change, so concurrent scaffolds lose nothing and a
second run is a no-op.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import environment
import package
from fields import referenced_components
from project_state import REMOTE_PREFIXES, is_wired, unreachable_template

# The wiring shares these decisions with the project, through this template
# version's own copy of the hexforge package: the registry module and the pin.
composition = package.module("composition")
pin = package.module("pin")


def _exit_for(missing: ModuleNotFoundError) -> NoReturn:
    """Exit with the one line naming what to install, for tomlkit or ruamel.yaml."""
    top = (missing.name or "").split(".")[0]
    if top not in {"tomlkit", "ruamel"}:
        raise missing
    names = environment.missing() or [{"ruamel": "ruamel.yaml"}.get(top, top)]
    sys.exit(environment.message(names))


try:
    import app_main
    import gitignore
    import manifest
    import precheck
    import project_files
    import pyproject_merge
    import records
    import registry
    from atomic import held_lock_env, project_lock, write_if_changed
except ModuleNotFoundError as missing:
    _exit_for(missing)

KINDS = ("project", "component", "story")

MANIFEST = ".claude/manifest.yaml"
HERE = Path(__file__).resolve().parent
APP_MAIN = "app/main.py"
APP_SETTINGS = "app/settings.py"
README = "README.md"
APP_COMPONENTS = composition.COMPONENTS_MODULE.as_posix()
GITIGNORE = ".gitignore"
LOCK_GITIGNORE = ".claude/.gitignore"
LOCK_NAME = ".hexforge.lock"

SMALL_FILES = {
    "app/__init__.py": '"""The application: app.main builds it from the components."""\n',
    "components/__init__.py": '"""Hexagonal components: one package per bounded context."""\n',
    ".claude/evidence/.gitkeep": "",
}


class WiringError(RuntimeError):
    """Wiring cannot go on; the message says what to do."""


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What changed, as short lines; empty when nothing did."""
        created = [f"created {', '.join(self.created)}"] if self.created else []
        return created + self.changes


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # Imported by pyproject_merge only once a merge is due; run by hand, the wiring
        # says at once what is missing (in Copier's process, copier_hooks.py does).
        import tomlkit  # noqa: F401
    except ModuleNotFoundError as missing:
        _exit_for(missing)
    return run(
        Path.cwd(),
        kind=args.kind,
        operation=args.operation,
        template=args.template,
        ref=args.ref,
        project_name=args.project_name,
    )


def run(
    root: Path, *, kind: str, operation: str, template: str, ref: str, project_name: str
) -> int:
    """Wire the project at ``root``, saying what changed; the exit status (0: done)."""
    try:
        if kind != "project" and not is_wired(root):
            check_template(root, template)  # before the lock: fail without a trace
        with project_lock(root):
            # Checked again under the lock: a concurrent scaffold may have wired it.
            if kind != "project" and not is_wired(root):
                wire_project_first(root, template, ref, project_name)
            requirement = hexforge_pin(root, template, ref)
            report = wire(root, project_name, kind, requirement, operation)
    except WiringError as error:
        print(f"hexforge: {error}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    for warning in report.warnings:
        print(f"hexforge: warning: {warning}", file=sys.stderr)
    for problem in report.errors:
        print(f"hexforge: error: {problem}", file=sys.stderr)
    return 1 if report.errors else 0


def hexforge_pin(root: Path, template: str, ref: str) -> str:
    """The project's requirement on hexforge at the template version rendered."""
    return str(pin.requirement(template, ref, package.SOURCE.parent, root))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Wire a project, as the after-render step does.")
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--operation", choices=("copy", "update"), default="copy")
    parser.add_argument("--template", required=True, help="the template source, as given to copier")
    parser.add_argument("--ref", default="", help="the template version rendered (_commit)")
    parser.add_argument("--project-name", required=True, help="name for a new pyproject.toml")
    return parser.parse_args(argv)


def wire_project_first(root: Path, template: str, ref: str, project_name: str) -> None:
    """Render kind=project into ``root`` with a nested `copier copy` (lock held)."""
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"]
    vcs_ref = nested_ref(root, template, ref)
    if vcs_ref:
        command += ["--vcs-ref", vcs_ref]
    command += ["-d", "kind=project", "-d", f"project_name={project_name}", template, "."]
    completed = subprocess.run(
        command, cwd=root, env={**os.environ, **held_lock_env(root)}, check=False
    )
    if completed.returncode != 0:
        raise WiringError(
            f"wiring the project failed (exit {completed.returncode}); "
            f"run it alone to see why: {shlex.join(['copier', *command[3:]])}"
        )


def check_template(root: Path, template: str) -> None:
    """Fail unless the nested copy can reach ``template`` from the project root.

    Copier records a local template path as the user typed it, relative to
    wherever they ran the command, which need not be the project root.
    """
    if problem := unreachable_template(root, template):
        raise WiringError(problem)


def nested_ref(root: Path, template: str, ref: str) -> str | None:
    """The --vcs-ref for the nested copy: the version the user's scaffold used.

    A local template with uncommitted changes is rendered by Copier from a commit
    it makes in its own clone, which the template repository does not have; the
    nested copy then renders HEAD, which includes the same uncommitted changes.
    """
    if not ref:
        return None
    folder = root / template
    if folder.is_dir() and not template.startswith(REMOTE_PREFIXES):
        check = ["git", "-C", str(folder), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]
        if subprocess.run(check, capture_output=True, check=False).returncode != 0:
            return None
    return ref


def wire(
    root: Path,
    project_name: str,
    kind: str = "project",
    requirement: str | None = None,
    operation: str = "copy",
) -> Report:
    """Bring every wiring-owned file of the project at ``root`` up to date.

    Every new content is computed first; then all of it is written, or, when a file
    cannot be edited (an error in the report) or a write fails, none of it: the
    project is left as it was. A story's scaffold never re-creates an app/main.py
    the user deleted: only the project's and components' scaffolds create it.
    """
    report = Report()
    plan = Plan(root)
    plan.create_if_absent(LOCK_GITIGNORE, f"# hexforge's wiring lock\n{LOCK_NAME}\n", report)
    _plan_lock_gitignore(plan, report)
    _plan_gitignore(plan, report)
    _plan_pyproject(plan, project_name, report, requirement)
    for relative, content in SMALL_FILES.items():
        plan.create_if_absent(relative, content, report)
    found = registry.scan(root, _registered(plan))
    report.warnings.extend(found.warnings)
    title = _app_title(root, project_name)
    if kind != "story":
        # The user's once written: a story's scaffold never re-creates one they deleted.
        plan.create_if_absent(APP_SETTINGS, project_files.SETTINGS_PY, report)
        plan.create_if_absent(README, project_files.readme(title), report)
    main_moved = _plan_app_main(plan, title, kind != "story", report)
    registry_changed = plan.read(APP_MAIN) is not None and _plan_components_module(
        plan, found.components, report
    )
    registration = _plan_manifest(plan, found.components, report)
    if report.errors:
        return report  # nothing written
    plan.write()
    precheck.record_checked(root)
    # In an update, Copier's after-migration does it, once Copier is done with the index.
    if operation != "update" and (untracked := untrack(root)):
        report.changes.append(untracked)
    report.changes.extend(registration)
    if main_moved:
        report.changes.append(f"moved the component blocks of {APP_MAIN} into {APP_COMPONENTS}")
    elif registry_changed and not registration and APP_COMPONENTS not in report.created:
        report.changes.append(f"updated {APP_COMPONENTS}")
    return report


def _registered(plan: Plan) -> dict[str, Any]:
    data = plan.read(MANIFEST)
    return manifest.registered(data.decode("utf-8", "replace")) if data else {}


def untrack(root: Path) -> str:
    return gitignore.untrack_evidence(root)


class Plan:
    """The files one wiring run writes: all of them, or none."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.contents: dict[str, bytes] = {}

    def read(self, relative: str) -> bytes | None:
        """The planned bytes of ``relative``, else those on disk (None when absent)."""
        if relative in self.contents:
            return self.contents[relative]
        try:
            return (self.root / relative).read_bytes()
        except FileNotFoundError:
            return None

    def set(self, relative: str, data: bytes) -> bool:
        """Plan ``data`` for ``relative``; whether that changes the file."""
        if self.read(relative) == data:
            return False
        self.contents[relative] = data
        return True

    def create_if_absent(self, relative: str, content: str, report: Report) -> None:
        if self.read(relative) is None and self.set(relative, content.encode("utf-8")):
            report.created.append(relative)

    def write(self) -> None:
        """Write every planned file; should one write fail, put back the others."""
        previous: dict[Path, bytes | None] = {}
        try:
            for relative, data in self.contents.items():
                path = self.root / relative
                previous[path] = path.read_bytes() if path.exists() else None
                write_if_changed(path, data)
        except OSError as error:
            for path, old in previous.items():
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    write_if_changed(path, old)
            raise WiringError(
                f"writing the wiring failed ({error}); every file it had written was put back"
            ) from None


def _plan_lock_gitignore(plan: Plan, report: Report) -> None:
    # The lock file is runtime state: untracked, it would leave the repository
    # dirty, and `copier update` refuses to run in a dirty repository.
    data = plan.read(LOCK_GITIGNORE) or b""
    if LOCK_NAME.encode() in (line.strip() for line in data.splitlines()):
        return
    separator = b"" if not data or data.endswith(b"\n") else b"\n"
    if plan.set(LOCK_GITIGNORE, data + separator + LOCK_NAME.encode() + b"\n"):
        report.changes.append(f"added {LOCK_NAME} to {LOCK_GITIGNORE}")


def _plan_gitignore(plan: Plan, report: Report) -> None:
    data = plan.read(GITIGNORE)
    if data is None:
        plan.create_if_absent(GITIGNORE, gitignore.completed(b"").decode(), report)
        return
    if plan.set(GITIGNORE, gitignore.completed(data)):
        report.changes.append(f"completed {GITIGNORE}")


def _plan_pyproject(plan: Plan, project_name: str, report: Report, pin: str | None) -> None:
    if plan.read("pyproject.toml") is None:
        text = pyproject_merge.new_pyproject(project_name, pin)
        plan.create_if_absent("pyproject.toml", text, report)
        return
    pytest_files = pyproject_merge.pytest_config_files(plan.root)
    try:
        text = _read_text(plan.root / "pyproject.toml")
    except pyproject_merge.PyprojectError as error:
        report.errors.append(str(error))
        return
    # The merge parses both files with tomlkit, tens of milliseconds on every scaffold,
    # and after the first one in a project it finds nothing to add.
    stamp = records.digest(
        *records.file_parts([HERE / name for name in MERGE_RULES]),
        text,
        project_name,
        pin or "",
        *pytest_files,
    )
    if _MERGED.has(stamp):
        return
    try:
        result = pyproject_merge.merge_pyproject(text, project_name, pytest_files, pin)
    except pyproject_merge.PyprojectError as error:
        report.errors.append(str(error))
        return
    report.warnings.extend(result.warnings)
    if plan.set("pyproject.toml", result.text.encode("utf-8")) and result.changes:
        report.changes.append(f"wired pyproject.toml: added {', '.join(result.changes)}")
    elif result.text == text and not result.warnings:
        _MERGED.add(stamp)


# What decides the merge of pyproject.toml; a merge that left it as it was is
# recorded against these files, the project's bytes and the merge's other inputs.
MERGE_RULES = ("pyproject_merge.py", "project_pyproject.toml")
_MERGED = records.Records("merged")


def _read_text(path: Path) -> str:
    # Bytes decoded by hand: read_text() would turn CRLF into LF and, written
    # back, silently change every line of a Windows-edited file. A byte order mark
    # is refused: TOML readers (pip, pytest, mypy) refuse it too.
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        raise pyproject_merge.PyprojectError(
            f"{path.name} starts with a UTF-8 byte order mark, which TOML readers refuse: "
            "save it as UTF-8 without BOM"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise pyproject_merge.PyprojectError(
            f"{path.name} is not UTF-8 text; hexforge cannot edit it"
        ) from None


def _app_title(root: Path, project_name: str) -> str:
    """The distribution name in pyproject.toml, which may predate hexforge."""
    try:
        data: dict[str, Any] = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return project_name
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) and name else project_name


def _plan_app_main(plan: Plan, title: str, create: bool, report: Report) -> bool:
    """Create app/main.py (when ``create``), or move an older one hexforge wrote onto
    app/components.py (once); whether it changed. Otherwise the file is the user's."""
    data = plan.read(APP_MAIN)
    if data is None:
        if create:
            plan.create_if_absent(APP_MAIN, app_main.new_app_main(title), report)
        return False
    try:
        updated = app_main.update_app_main(_decoded(data, APP_MAIN))
    except WiringError as error:
        report.warnings.append(str(error))
        return False
    if "create_service" not in updated:
        report.warnings.append(
            f"{APP_MAIN} is yours and not as hexforge wrote it, so it does not build the app "
            "with hexforge.service (settings, /healthz, /readyz, problem details, request "
            f"ids, logs): see {app_main.SERVICE_DOC} to call create_service from it"
        )
    if app_main.has_markers(updated):
        report.warnings.append(
            f"{APP_MAIN} still holds hexforge's old component blocks, not as hexforge wrote "
            f"them, so they were left alone; the components are in {APP_COMPONENTS}: replace "
            f"the blocks by `{app_main.ROUTERS_IMPORT}`"
        )
    return plan.set(APP_MAIN, updated.encode("utf-8"))


def _plan_components_module(
    plan: Plan, components: list[registry.Component], report: Report
) -> bool:
    """Write app/components.py whole for ``components``; whether it changed."""
    names = [component.name for component in components]
    refs = {component.name: referenced_components(component.fields) for component in components}
    folder = plan.root / "components"
    legacy = {name for name in names if composition.builds_its_own_router(folder / name)}
    try:
        text = composition.render(names, refs, legacy)
    except composition.ReferenceCycle as error:
        report.errors.append(f"{error}: {APP_COMPONENTS} cannot build them; remove a ref field")
        return False
    if plan.read(APP_COMPONENTS) is None:
        report.created.append(APP_COMPONENTS)
    return plan.set(APP_COMPONENTS, text.encode("utf-8"))


def _decoded(data: bytes, relative: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise WiringError(f"{relative} is not UTF-8 text; hexforge cannot edit it") from None


def _plan_manifest(plan: Plan, components: list[registry.Component], report: Report) -> list[str]:
    """Create the manifest or refresh its `components:` and the agent's keys; the
    registrations that changed."""
    data = plan.read(MANIFEST)
    if data is None:
        plan.create_if_absent(MANIFEST, manifest.new_manifest(components), report)
        return _registration_changes({}, components)
    try:
        text = _decoded(data, MANIFEST)
        updated = manifest.with_agent_keys(manifest.update_manifest(text, components))
    except (manifest.ManifestError, WiringError) as error:
        report.errors.append(
            f"{MANIFEST} was left alone because {error}; fix it so that `components:` is a "
            "top-level key written as a block, then re-run the scaffold"
        )
        return []
    if not plan.set(MANIFEST, updated.encode("utf-8")):
        return []
    return _registration_changes(manifest.registered(text), components)


def _registration_changes(
    before: dict[str, Any], components: Iterable[registry.Component]
) -> list[str]:
    after = {component.name: component for component in components}
    lines = [f"registered component {name}" for name in after if name not in before]
    lines += [
        f"unregistered component {name} (its folder is gone)"
        for name in before
        if name not in after
    ]
    lines += [
        f"updated the registry entry of component {name}"
        for name, component in after.items()
        if name in before and before[name] != manifest.entry(component)
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
