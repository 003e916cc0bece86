"""The modules hexforge writes once and then leaves to the user: a component's
domain/invariants.py, one module per use case in domain/use_cases/, and
tests/factories.py (how the tests build valid entities).

They cannot be template files: Copier renders one file per template file, not
one per use case, and an update would merge the template's later changes into
code that is the user's alone. So after every render (in the real project only,
never in Copier's temporary copies) each one that is missing is written, and an
existing one is never touched: adding a use case by update adds its module, and
the rules already written stay as they are.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from naming import component_names
from usecases import parse_use_cases

if TYPE_CHECKING:
    import jinja2

STARTERS = Path(__file__).resolve().parent / "starters"


@functools.cache
def _jinja() -> jinja2.Environment:
    """Jinja, imported only when a starter is missing: after an update's render every
    one usually exists, and the import was about 16 ms of the task's start."""
    import jinja2

    import jinja_cache

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(STARTERS),
        autoescape=False,  # Python source, not HTML
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    # Compiled once per template version, as Copier's own templates are: compiling
    # the two starters of every new component took about 5 ms.
    jinja_cache.install(environment)
    return environment


def write_missing(project: Path, component: str, answers: dict[str, object]) -> list[Path]:
    """Write each starter module of ``component`` that does not exist; return them."""
    entity = str(answers["entity_name"])
    names = component_names(component, entity)
    domain = project / "components" / component / "domain"
    if not domain.is_dir():
        return []
    wanted: dict[Path, tuple[str, dict[str, object]]] = {
        domain / "invariants.py": ("invariants.py.jinja", {}),
        domain.parent / "tests" / "factories.py": ("factories.py.jinja", {}),
    }
    for use_case in parse_use_cases(str(answers.get("usecases") or ""), entity, component):
        module = domain / "use_cases" / f"{use_case.name}.py"
        wanted[module] = ("use_case.py.jinja", {"uc": use_case})
    written = []
    for path, (template, extra) in wanted.items():
        if path.exists():
            continue
        text = _jinja().get_template(template).render(n=names, **extra)
        path.parent.mkdir(parents=True, exist_ok=True)
        # "x": a module that appeared meanwhile (a user, a parallel run) is theirs.
        try:
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        except FileExistsError:
            continue
        written.append(path)
    return written


def orphaned(project: Path, component: str, answers: dict[str, object]) -> list[Path]:
    """The use-case modules of ``component`` whose use case the answers no longer name
    (one an update took out of ``usecases``): each defines the function it is named
    after, as the starter did. They are the user's and stay; the caller says so."""
    folder = project / "components" / component / "domain" / "use_cases"
    if not folder.is_dir():
        return []
    entity = str(answers["entity_name"])
    use_cases = parse_use_cases(str(answers.get("usecases") or ""), entity, component)
    named = {use_case.name for use_case in use_cases}
    return [
        path
        for path in sorted(folder.glob("*.py"))
        if path.stem not in named and path.stem != "__init__" and _defines_own_name(path)
    ]


def _defines_own_name(module: Path) -> bool:
    text = module.read_text(encoding="utf-8", errors="replace")
    return re.search(rf"^(async )?def {re.escape(module.stem)}\(", text, re.MULTILINE) is not None


def main(project: Path, component: str) -> list[Path]:
    """After a render: the starter modules written this time, for the layout step."""
    from ruamel.yaml import YAML  # needed next to Copier (copier_hooks.py checks)

    answers_path = project / "components" / component / ".copier-answers.yml"
    answers = YAML(typ="safe", pure=True).load(answers_path.read_text(encoding="utf-8")) or {}
    written = write_missing(project, component, answers)
    for path in written:
        print(f"hexforge: wrote {path.relative_to(project).as_posix()} (yours from now on)")
    for path in orphaned(project, component, answers):
        print(
            f"hexforge: warning: {path.relative_to(project).as_posix()} defines "
            f"{path.stem}(), a use case the usecases answer no longer names; it is yours "
            "and was kept: move what it holds elsewhere, then delete it",
            file=sys.stderr,
        )
    return written
