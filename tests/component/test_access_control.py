"""Access control (SPEC §14), as issue 23 asks it shown, outside the project's own tests.

A new project (auth=jwt, the default) gets appointments, whose access answer mixes
the three kinds of rule (list public, delete for admins, cancel for patients and
clerks, the rest for anyone signed in), and rooms with the default. The user writes
one rule, cancel: only the patient who booked may cancel (409 otherwise). Every gate
passes. Served on PostgreSQL and in memory with the AUTH_* settings of an HS256
issuer, every route answers as declared: 401 problems with WWW-Authenticate for no
token and for expired, foreign, wrong-audience, forged and unsigned tokens; 403
without the role; 2xx as the rule admits; cancel 409 for another patient and 200 for
the owner. The OpenAPI document declares the scheme and each route's refusals, and
schemathesis, signed in, finds nothing. Removing a route's rule by hand fails the
audit. A project from before (auth=none) opts in by update and keeps its edits.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from hexforge.service.access import TestIssuer
from tests.component.gates import gate_env, run_gates
from tests.component.test_openapi_fuzz import fuzz, serving
from tests.component.test_update import postgres_server
from tests.helpers import (
    commit_all,
    copier_copy,
    copier_update,
    git,
    http,
    init_repo,
    run,
    wait_until_up,
)

pytestmark = pytest.mark.slow

ISSUER = TestIssuer(issuer="https://id.clinic.test", audience="clinic-api", secret="k" * 48)
ACCESS = "*=authenticated, list=public, delete=role:admin, cancel=role:patient|clerk"
CANCEL = '''\
"""Cancel: only the patient who booked may cancel."""

from __future__ import annotations

from dataclasses import replace

from hexforge.actor import Actor

from components.appointments.domain.commands import CancelAppointment
from components.appointments.domain.exceptions import AppointmentConflict
from components.appointments.domain.model import Appointment, AppointmentStatus


def cancel(appointment: Appointment, command: CancelAppointment, actor: Actor) -> Appointment:
    """Cancel the appointment, if the actor is its patient."""
    if actor.subject != appointment.patient:
        raise AppointmentConflict(f"only {appointment.patient} may cancel this appointment")
    return replace(appointment, status=AppointmentStatus.CANCELLED)
'''
APPOINTMENTS = {
    "kind": "component",
    "auth": "jwt",
    "component_name": "appointments",
    "entity_name": "Appointment",
    "fields": "patient:str:index:max_length=60, room:str:max_length=20, "
    "status:enum[booked|cancelled]:default=booked",
    "usecases": "cancel()",
    "access": ACCESS,
}


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("access") / "clinic")
    copier_copy(template_v1, project, APPOINTMENTS)
    copier_copy(
        template_v1,
        project,
        {"kind": "component", "component_name": "rooms", "fields": "name:str:max_length=40"},
    )
    commit_all(project, "appointments and rooms")
    (project / "components/appointments/domain/use_cases/cancel.py").write_text(CANCEL)
    commit_all(project, "the cancel rule")
    return project


@pytest.fixture
def auth_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The service's settings for the test issuer (serving() passes the environment)."""
    monkeypatch.setenv("AUTH_ISSUER", ISSUER.issuer)
    monkeypatch.setenv("AUTH_AUDIENCE", ISSUER.audience)
    monkeypatch.setenv("AUTH_HS256_SECRET", ISSUER.secret)
    yield


def test_a_new_project_asks_for_tokens_and_every_gate_passes(
    clinic: Path, generated_venv: Path
) -> None:
    answers = (clinic / ".copier-answers.yml").read_text()
    assert "auth: jwt" in answers
    assert (
        "access: '*=authenticated'" in (clinic / "components/rooms/.copier-answers.yml").read_text()
    )
    run_gates(clinic, generated_venv)


def call(
    url: str, method: str = "GET", body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    status, answer, _ = call_with_headers(url, method, body, token)
    return status, answer


@pytest.mark.parametrize("adapter", ["memory", "postgres"])
def test_every_route_answers_as_its_rule_declares(
    clinic: Path, generated_venv: Path, auth_env: None, adapter: str
) -> None:
    database = postgres_server(clinic) if adapter == "postgres" else nullcontext(None)
    with database as dsn, serving(clinic, generated_venv, dsn) as url:
        wait_until_up(url)
        base = f"{url}/appointments"
        ann, bob = ISSUER.token("patient", sub="ann"), ISSUER.token("patient", sub="bob")
        admin = ISSUER.token("admin", sub="root")
        body = {"patient": "ann", "room": "blue"}

        status, created = call(base, "POST", body, ann)
        assert status == 201, created
        item = f"{base}/{created['id']}"
        # No token, and every kind of bad token: 401, as a problem, saying Bearer.
        for token in [None, *ISSUER.refused().values()]:
            for method, target, payload in (
                ("POST", base, body),
                ("GET", item, None),
                ("POST", f"{item}/cancel", None),
                ("DELETE", item, None),
            ):
                status, problem, headers = call_with_headers(target, method, payload, token)
                assert status == 401, (method, target, token, problem)
                assert headers["www-authenticate"].startswith("Bearer")
                assert problem["type"] == "urn:problem:Unauthorized"
        # Public: no token needed.
        status, page = call(base)
        assert (status, len(page["items"])) == (200, 1)
        # Roles: a patient may not delete (403); a clerk-less admin may not cancel.
        assert call(item, "DELETE", token=ann)[0] == 403
        assert call(f"{item}/cancel", "POST", token=admin)[0] == 403
        # The rule itself: only the patient who booked may cancel.
        status, problem = call(f"{item}/cancel", "POST", token=bob)
        assert (status, problem["type"]) == (409, "urn:problem:AppointmentConflict")
        status, cancelled = call(f"{item}/cancel", "POST", token=ann)
        assert (status, cancelled["status"]) == (200, "cancelled")
        assert call(item, "DELETE", token=admin)[0] == 204
        # rooms: every operation for anyone signed in.
        assert call(f"{url}/rooms")[0] == 401
        assert call(f"{url}/rooms", token=ISSUER.token())[0] == 200

        status, document = call(f"{url}/openapi.json")
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    paths = document["paths"]
    assert "security" not in paths["/appointments"]["get"]
    assert {"401", "403"} & set(paths["/appointments"]["get"]["responses"]) == set()
    declared = {
        ("post", "/appointments"): {"401"},
        ("delete", "/appointments/{appointment_id}"): {"401", "403"},
        ("post", "/appointments/{appointment_id}/cancel"): {"401", "403"},
        ("get", "/rooms"): {"401"},
    }
    for (method, path), refusals in declared.items():
        operation = paths[path][method]
        assert operation["security"] == [{"HTTPBearer": []}], path
        assert {"401", "403"} & set(operation["responses"]) == refusals, path
    for path in ("/healthz", "/readyz"):
        assert "security" not in paths[path]["get"]


def call_with_headers(
    url: str, method: str, body: Any, token: str | None
) -> tuple[int, Any, dict[str, str]]:
    return http(url, method, body, {"Authorization": f"Bearer {token}"} if token else None)


def test_schemathesis_signed_in_finds_nothing(
    clinic: Path, generated_venv: Path, auth_env: None, tmp_path: Path
) -> None:
    token = ISSUER.token("patient", "clerk", "admin", sub="ann")
    with serving(clinic, generated_venv, None) as url:
        headers = [f"Authorization: Bearer {token}"]
        result = fuzz(url, tmp_path, max_examples=25, seed=20261206, headers=headers)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_a_route_whose_rule_is_removed_by_hand_fails_the_audit(
    clinic: Path, generated_venv: Path, tmp_path: Path
) -> None:
    project = tmp_path / "clinic"
    shutil.copytree(clinic, project, symlinks=True)
    handler = project / "components/rooms/adapters/inbound/api_handler.py"
    text = handler.read_text()
    rule = ', actor: Annotated[Actor, access.rule("authenticated")]'
    assert rule in text, text
    handler.write_text(text.replace(rule, "", 1))

    audit = run(
        ["python", "tools/hex_audit.py", "components/"],
        project,
        env=gate_env(generated_venv, project),
        check=False,
    )

    assert audit.returncode == 1
    assert "HEX701 route" in audit.stdout and "has no access rule" in audit.stdout


def test_a_project_without_access_control_opts_in_by_update_keeping_its_edits(
    tmp_path: Path, template_v1: Path, generated_venv: Path
) -> None:
    project = init_repo(tmp_path / "clinic")
    data = {**APPOINTMENTS, "auth": "none"}
    del data["access"]
    copier_copy(template_v1, project, data)
    handler = project / "components/appointments/adapters/inbound/api_handler.py"
    assert "access.rule" not in handler.read_text()
    (project / "components/appointments/domain/use_cases/cancel.py").write_text(CANCEL)
    service = project / "components/appointments/domain/service.py"
    service.write_text(service.read_text() + "\n\n# The team's note: cancellations are audited.\n")
    commit_all(project, "a clinic without access control")

    copier_update(project, ".copier-answers.yml", data={"auth": "jwt"})
    commit_all(project, "the project opts in")
    copier_update(
        project,
        "components/appointments/.copier-answers.yml",
        data={"auth": "jwt", "access": ACCESS},
    )
    commit_all(project, "appointments opt in")

    assert 'access.rule("role:patient|clerk")' in handler.read_text()
    assert service.read_text().endswith("# The team's note: cancellations are audited.\n")
    assert (project / "components/appointments/domain/use_cases/cancel.py").read_text() == CANCEL
    run_gates(project, generated_venv)

    # The rules change again by update: delete opens to clerks too.
    copier_update(
        project,
        "components/appointments/.copier-answers.yml",
        data={"access": ACCESS.replace("delete=role:admin", "delete=role:admin|clerk")},
    )
    assert 'access.rule("role:admin|clerk")' in handler.read_text()
    assert git(project, "status", "--porcelain").strip() != ""
