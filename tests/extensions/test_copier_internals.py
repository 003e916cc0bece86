"""extensions/copier_internals.py: the one place hexforge reads Copier's private parts.

The first test fails, naming each one, when the installed Copier lacks an internal
hexforge relies on; the pins of the supported range must agree with each other.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from ruamel.yaml import YAML

import copier_internals
from tests.helpers import REPO


def test_the_installed_copier_has_every_internal_hexforge_relies_on() -> None:
    assert copier_internals.missing_internals() == [], (
        f"copier {metadata.version('copier')} lacks internals hexforge uses: move "
        "extensions/copier_internals.py to the new layout and narrow SUPPORTED_COPIER"
    )


def test_the_supported_range_is_pinned_alike_everywhere_and_holds_the_installed_copier() -> None:
    supported = SpecifierSet(copier_internals.SUPPORTED_COPIER)
    assert Version(metadata.version("copier")) in supported
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert (
        f"copier{copier_internals.SUPPORTED_COPIER}"
        in (pyproject["project"]["optional-dependencies"]["template"])
    )
    config = YAML(typ="safe").load((REPO / "copier.yml").read_text())
    assert config["_min_copier_version"] == copier_internals.MIN_COPIER
    assert Version(copier_internals.MIN_COPIER) in supported
    assert not Version(copier_internals.MIN_COPIER).is_prerelease


def test_outside_a_copier_run_nothing_is_a_temporary_copy(tmp_path: Path) -> None:
    look_alike = tmp_path / "copier._main.new_copy.abcd1234" / "project"
    look_alike.mkdir(parents=True)
    assert copier_internals.operation() == "copy"
    assert copier_internals.update_copies() == ()
    assert not copier_internals.in_temporary_copy(look_alike)
    assert copier_internals.last_answers_file() is None
    assert copier_internals.destination() is None


def test_a_missing_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from copier import _main

    monkeypatch.delattr(_main, "_operation")
    monkeypatch.delattr(_main.Worker, "_apply_update")

    missing = copier_internals.missing_internals()

    assert any("copier._main._operation" in item for item in missing)
    assert "copier._main.Worker._apply_update" in missing


def test_only_copiers_refused_answer_is_printed_alone(capsys: pytest.CaptureFixture[str]) -> None:
    from copier._jinja_ext import SandboxedEnvironment
    from copier._user_data import AnswersMap, Question

    seen: list[BaseException] = []
    hook = copier_internals._refusal_hook(lambda kind, error, trace: seen.append(error))
    question = Question(
        answers=AnswersMap(),
        context={},
        jinja_env=SandboxedEnvironment(),
        var_name="story_id",
        validator="{{ 'not a story id' }}",
    )
    try:
        question.validate_answer("x")
    except ValueError as error:
        hook(ValueError, error, error.__traceback__)
    assert capsys.readouterr().err == "Validation error for question 'story_id': not a story id\n"
    assert seen == []

    # The same words raised anywhere else are not a refused answer: the usual report.
    try:
        raise ValueError("Validation error for question 'x': raised by someone else")
    except ValueError as error:
        hook(ValueError, error, error.__traceback__)
    assert len(seen) == 1 and capsys.readouterr().err == ""


def test_a_process_without_copier_never_imports_it_to_ask(tmp_path: Path) -> None:
    """The tasks ask whether they run in an update's temporary copy; outside Copier's
    process the answer is no, and importing Copier to find that out cost each task
    about 0.3 s."""
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "import copier_internals\n"
        f"assert not copier_internals.in_temporary_copy(Path({str(tmp_path)!r}))\n"
        "assert copier_internals.operation() == 'copy'\n"
        "assert copier_internals.destination() is None\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'copier'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO / "extensions",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
