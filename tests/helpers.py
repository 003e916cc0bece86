"""Shared test helpers: render the template the way users do, with the copier CLI.

Tests never import Copier in-process: a real user runs the CLI, and `copier update`
loads two template versions in one process, which only the CLI exercises faithfully.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COPIER = str(BIN / "copier")

# What a template snapshot contains: the files a template release ships.
TEMPLATE_PARTS = ("copier.yml", "extensions", "template", "src", "pyproject.toml")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "hexforge tests",
    "GIT_AUTHOR_EMAIL": "tests@hexforge.invalid",
    "GIT_COMMITTER_NAME": "hexforge tests",
    "GIT_COMMITTER_EMAIL": "tests@hexforge.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def run(
    args: Sequence[str | Path],
    cwd: Path,
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output; on failure show everything it said."""
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


def git(cwd: Path, *args: str, check: bool = True) -> str:
    return run(["git", *args], cwd, check=check).stdout


def init_repo(path: Path) -> Path:
    """An empty git repository with one commit, like a fresh project."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "commit", "-q", "--allow-empty", "-m", "empty project")
    return path


def commit_all(path: Path, message: str = "snapshot") -> None:
    git(path, "add", "-A")
    git(path, "commit", "-q", "--allow-empty", "-m", message)


def template_parts_at(repo: Path, commit: str) -> list[str]:
    """The template's parts that exist at ``commit`` (src/ and pyproject.toml came with
    the package: an older template has neither)."""
    listed = run(["git", "-C", str(repo), "ls-tree", "--name-only", commit], repo).stdout
    return [part for part in TEMPLATE_PARTS if part in listed.split()]


def snapshot_template(dest: Path, tag: str | None = "v1") -> Path:
    """Copy the working tree's template into its own git repo, optionally tagged.

    Tests render from a snapshot, not from this checkout, so uncommitted work is
    tested and version tags (v1, v2...) can be made without touching the real repo.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for part in TEMPLATE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(
                source,
                dest / part,
                symlinks=True,  # as git stores them: template/component_with_project
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        else:
            shutil.copy2(source, dest / part)
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, "template snapshot")
    if tag:
        git(dest, "tag", tag)
    return dest


def tag_template(template: Path, tag: str, message: str = "template change") -> None:
    commit_all(template, message)
    git(template, "tag", tag)


def copier_copy(
    template: Path,
    project: Path,
    data: Mapping[str, str],
    *,
    check: bool = True,
    extra: Iterable[str] = (),
    vcs_ref: str | None = None,
) -> subprocess.CompletedProcess[str]:
    args: list[str | Path] = [COPIER, "copy", "--trust", "--defaults", "--quiet"]
    if vcs_ref:
        args += ["--vcs-ref", vcs_ref]
    if (
        data.get("kind", "component") in {"component", "project"}
        and "auth" not in data
        and not (project / ".copier-answers.yml").exists()  # later ones take the project's
    ):
        # A new project defaults to auth=jwt; the scenarios about other things serve
        # and call their routes without tokens. Access control has tests of its own
        # (tests/component/test_access_control.py), which ask for jwt. (A template
        # version without the question ignores the answer.)
        data = {**data, "auth": "none"}
    for key, value in data.items():
        args += ["-d", f"{key}={value}"]
    args += [*extra, str(template), str(project)]
    return run(args, project, check=check)


def copier_update(
    project: Path,
    answers_file: str,
    *,
    data: Mapping[str, str] | None = None,
    check: bool = True,
    vcs_ref: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``copier update`` of ``project``, started in ``cwd`` (the project by default)."""
    args: list[str | Path] = [
        COPIER,
        "update",
        "--trust",
        "--defaults",
        "--quiet",
        "-a",
        answers_file,
    ]
    if vcs_ref:
        args += ["--vcs-ref", vcs_ref]
    for key, value in (data or {}).items():
        args += ["-d", f"{key}={value}"]
    args.append(str(project))
    return run(args, cwd or project, check=check)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root (outside .git) with its bytes, to prove nothing changed."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def refusal_line(result: subprocess.CompletedProcess[str]) -> str:
    """The last line of a refused Copier run (the one naming question, value and rule)."""
    assert result.returncode != 0, result.stdout + result.stderr
    return result.stderr.strip().splitlines()[-1]


def write_use_case_rules(project: Path, component: str, entity_var: str) -> int:
    """Write each use case's rule of ``component`` as the simplest a user could: the
    entity, unchanged. Returns how many starters it replaced (the audit reports a
    rule still raising NotImplementedError, HEX601)."""
    written = 0
    for module in sorted(
        (project / "components" / component / "domain" / "use_cases").glob("*.py")
    ):
        text, count = re.subn(
            r'raise NotImplementedError\(\s*"[^"]*? is not written yet",?\s*\)',  # ruff may wrap
            f"return {entity_var}",
            module.read_text(encoding="utf-8"),
        )
        module.write_text(text, encoding="utf-8")
        written += count
    return written


def http(
    url: str, method: str = "GET", body: Any = None, headers: Mapping[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    """One HTTP request with the standard library: status, JSON body, headers (their
    names in lower case)."""
    data = None if body is None else json.dumps(body).encode()
    sent = {**({"Content-Type": "application/json"} if data else {}), **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read() or b"null")
            return response.status, body, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        body = json.loads(error.read() or b"null")
        return error.code, body, {k.lower(): v for k, v in error.headers.items()}


def wait_until_up(url: str, attempts: int = 600) -> None:
    """Wait for the service at ``url`` to answer /healthz (uvicorn takes a moment)."""
    for _ in range(attempts):
        try:
            http(f"{url}/healthz")
            return
        except OSError:  # refused while it starts
            time.sleep(0.1)
    raise AssertionError(f"{url} did not start")


class Answer:
    """What an ASGI application answered: status, headers, body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def asgi_get(
    app: Any,
    path: str,
    *,
    query: str = "",
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """GET ``path?query`` straight through ``app``'s ASGI interface (no HTTP client,
    no server), with ``token`` as its bearer token and ``headers`` when given. An
    error the application raises once it has answered (Starlette raises a 500's
    cause again for the server to log) is left to the server: the answer counts."""
    sent_headers = [
        (name.lower().encode(), value.encode()) for name, value in (headers or {}).items()
    ]
    if token:
        sent_headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode("latin-1"),
        "headers": sent_headers,
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "root_path": "",
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        asyncio.run(app(scope, receive, send))
    except Exception:
        if not sent:
            raise
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    decoded = {key.decode(): value.decode() for key, value in start["headers"]}
    return Answer(start["status"], decoded, body)
