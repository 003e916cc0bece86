"""Copier's prompts, driven as a person would through a real terminal (pexpect).

Every question shows its help text and default; a bad answer shows the rule and
the question is asked again, instead of ending the session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pexpect
import pytest

from tests.helpers import COPIER, GIT_ENV, init_repo

pytestmark = pytest.mark.slow

BACKSPACES = "\x7f" * 40


def spawn_copier(template: Path, project: Path) -> pexpect.spawn:
    child = pexpect.spawn(
        COPIER,
        ["copy", "--trust", str(template), str(project)],
        cwd=str(project),
        env={**os.environ, **GIT_ENV, "TERM": "xterm"},
        encoding="utf-8",
        timeout=60,
        # Wide enough that no help text wraps: a wrapped line splits the words expected.
        dimensions=(50, 1000),
    )
    return child


def answer(child: pexpect.spawn, prompt: str, text: str) -> None:
    child.expect(prompt)
    child.send(BACKSPACES + text + "\r")


def test_a_person_scaffolds_a_component_and_a_bad_name_is_asked_again(
    tmp_path: Path, template_v1: Path
) -> None:
    project = init_repo(tmp_path / "project")
    child = spawn_copier(template_v1, project)

    child.expect("What to scaffold")
    child.expect("component")  # the default choice, highlighted
    child.send("\r")
    answer(child, "Component package name, snake_case", "Bad Name")
    child.expect("'Bad Name' is not snake_case")  # the rule, and still at the prompt
    child.send(BACKSPACES + "orders\r")
    child.expect("Entity class name, PascalCase")
    child.expect("Order")  # the default derived from the component name
    child.send("\r")
    child.expect("Entity fields as name:type")
    # The help shows the modifier syntax.
    answer(child, "Modifiers: unique, index, gt= ge= lt= le=", "customer:str, total:decimal?:ge=")
    child.expect("ge= needs a value")  # the rule, and still at the prompt
    child.send(BACKSPACES + "customer:str, total:decimal?:ge=0\r")
    answer(child, "Use cases beyond create", "create()")
    child.expect("collides with the generated create")  # the rule, and still at the prompt
    child.send(BACKSPACES + "close()\r")
    child.expect("Access control: jwt")
    child.expect("jwt")  # a new project's default, highlighted
    child.send("\r")
    answer(child, "Who may call each operation", "list=everyone")
    child.expect("unknown rule 'everyone'")  # the rule, and still at the prompt
    child.send(BACKSPACES + "*=authenticated, close=role:clerk\r")
    child.expect(pexpect.EOF, timeout=180)
    child.close()

    assert child.exitstatus == 0, child.before
    answers = (project / "components" / "orders" / ".copier-answers.yml").read_text()
    assert "component_name: orders\n" in answers
    assert "entity_name: Order\n" in answers
    assert "auth: jwt\n" in answers and "access: '*=authenticated, close=role:clerk'\n" in answers
    assert "fields: customer:str, total:decimal?:ge=0\n" in answers
    assert "usecases: close()\n" in answers
    assert (project / "components" / "orders" / "domain" / "model.py").is_file()
    assert (project / "app" / "main.py").is_file()  # the first component wired the project


def test_a_person_scaffolds_a_story_log(tmp_path: Path, template_v1: Path) -> None:
    project = init_repo(tmp_path / "project")
    child = spawn_copier(template_v1, project)

    child.expect("What to scaffold")
    child.send("\x1b[B\x1b[B\r")  # arrow down twice: story
    answer(child, "Story id", "wish-1")
    child.expect("'wish-1' is not a story id")
    child.send(BACKSPACES + "WISH-7\r")
    child.expect("Feature folder")
    child.expect("plans/features/wish")  # default derived from the story prefix
    child.send("\r")
    child.expect(pexpect.EOF, timeout=180)
    child.close()

    assert child.exitstatus == 0, child.before
    log = project / "plans/features/wish/in-progress/WISH-7/_implementation/BACKEND-LOG.md"
    assert log.is_file()
