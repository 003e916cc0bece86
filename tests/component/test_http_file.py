"""`__http__/<name>.http` (SPEC section 9): one runnable request per route of the component.

The file is sent as a REST client would send it, by a runner that understands exactly
what the file uses (`@var = value`, `###` separators, `# @name`, headers, a JSON body,
`{{var}}` and `{{request.response.body.$.key}}`), to the generated app served by
uvicorn: every request must answer 2xx, and together they must cover every route the
app's OpenAPI document declares for the component.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fields import parse_fields
from tests.component.test_openapi_fuzz import EVERY_MODIFIER, serving
from tests.helpers import commit_all, copier_copy, copier_update, init_repo

pytestmark = pytest.mark.slow

COMPONENTS = {
    # component: (its URL path, its fields)
    "products": ("/products", EVERY_MODIFIER),
    "order_items": ("/order-items", "name:str"),
}


@dataclass
class Request:
    method: str
    url: str
    name: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def parse_http(text: str) -> tuple[dict[str, str], list[Request]]:
    """The file's variables and its requests, in order."""
    variables: dict[str, str] = {}
    requests: list[Request] = []
    for number, block in enumerate(re.split(r"^###.*$", text, flags=re.MULTILINE)):
        lines = block.strip("\n").split("\n")
        name = None
        while lines and (not lines[0].strip() or lines[0].startswith(("#", "@"))):
            line = lines.pop(0)
            if match := re.fullmatch(r"# @name (\w+)", line):
                name = match.group(1)
            elif match := re.fullmatch(r"@(\w+) = (\S+)", line):
                assert number == 0, f"a variable among the requests: {line}"
                variables[match.group(1)] = match.group(2)
        if not lines:
            continue
        method, url = lines.pop(0).split(" ", 1)
        request = Request(method, url, name)
        while lines and lines[0].strip():
            key, _, value = lines.pop(0).partition(":")
            request.headers[key.strip()] = value.strip()
        request.body = "\n".join(lines).strip()
        requests.append(request)
    return variables, requests


def substitute(text: str, variables: dict[str, str], answers: dict[str, object]) -> str:
    def value(match: re.Match[str]) -> str:
        reference = match.group(1)
        if reference in variables:
            return variables[reference]
        named = re.fullmatch(r"(\w+)\.response\.body\.\$\.(\w+)", reference)
        assert named and named.group(1) in answers, f"unresolved {{{{{reference}}}}}"
        body = answers[named.group(1)]
        assert isinstance(body, dict)
        return str(body[named.group(2)])

    return re.sub(r"\{\{([^}]*)\}\}", value, text)


def send(request: Request, variables: dict[str, str], answers: dict[str, object]) -> int:
    url = substitute(request.url, variables, answers)
    data = substitute(request.body, variables, answers).encode() if request.body else None
    sent = urllib.request.Request(url, data=data, method=request.method, headers=request.headers)
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{request.method} {url} -> {error.code}: {error.read()!r}") from None
    if request.name and payload:
        answers[request.name] = json.loads(payload)
    return int(status)


def wait_for(base: str) -> dict[str, object]:
    """The served app's OpenAPI document, once it answers."""
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{base}/openapi.json", timeout=5) as response:
                document: dict[str, object] = json.loads(response.read())
                return document
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the app at {base} never answered")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    root = init_repo(tmp_path_factory.mktemp("http") / "shop")
    for name, (_, fields) in COMPONENTS.items():
        copier_copy(
            template_v1, root, {"kind": "component", "component_name": name, "fields": fields}
        )
    return root


def test_each_request_answers_2xx_and_every_route_has_one(
    project: Path, generated_venv: Path
) -> None:
    with serving(project, generated_venv, None) as base:
        document = wait_for(base)
        paths = document["paths"]
        assert isinstance(paths, dict)
        for name, (url_path, _) in COMPONENTS.items():
            variables, requests = parse_http((project / "__http__" / f"{name}.http").read_text())
            assert variables == {"baseUrl": "http://localhost:8000"}
            variables["baseUrl"] = base

            answers: dict[str, object] = {}
            statuses = [send(request, variables, answers) for request in requests]
            assert all(200 <= status < 300 for status in statuses), statuses
            assert requests[0].name == "create" and statuses[0] == 201

            routes = {
                (method.upper(), path)
                for path, operations in paths.items()
                if path == url_path or path.startswith(f"{url_path}/")
                for method in operations
            }
            covered = {(request.method, route_of(request.url, routes)) for request in requests}
            assert covered == routes, f"{name}: requests {covered}, routes {routes}"
            assert {method for method, _ in routes} == {"POST", "GET", "PUT", "DELETE"}


def route_of(url: str, routes: set[tuple[str, str]]) -> str | None:
    """The OpenAPI path a request's URL (before substitution) stands for."""
    path = url.removeprefix("{{baseUrl}}").split("?", 1)[0]
    for _, template in routes:
        pattern = re.sub(r"\\\{\w+\\\}", r"\\{\\{[^}]+\\}\\}", re.escape(template))
        if re.fullmatch(pattern, path):
            return template
    return None


NEW_FIELDS = "name:str, placed_on:date?, paid:bool:default=false, note:str?"


def test_the_file_follows_an_update_of_the_fields(tmp_path: Path, template_v1: Path) -> None:
    root = init_repo(tmp_path / "shop")
    copier_copy(template_v1, root, {"kind": "component", "component_name": "orders"})
    commit_all(root, "orders")
    before = (root / "__http__" / "orders.http").read_text()

    copier_update(
        root,
        "components/orders/.copier-answers.yml",
        data={"fields": NEW_FIELDS},
    )

    after = (root / "__http__" / "orders.http").read_text()
    assert '"placed_on"' not in before
    _, requests = parse_http(after)
    create = requests[0]
    [replace] = [request for request in requests if request.method == "PUT"]
    # The bodies carry the fields' sample values, as extensions/fields.py gives them.
    fields = parse_fields(NEW_FIELDS, "Order", "orders")
    samples = [{f.name: json.loads(f.json_text(f.samples[i])) for f in fields} for i in (0, 1)]
    assert json.loads(create.body) == samples[0]
    created: dict[str, object] = {"create": {"id": "x", "version": 1}}
    assert json.loads(substitute(replace.body, {}, created)) == {
        **samples[1],
        "version": 1,
    }
