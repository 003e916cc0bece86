"""A PostgreSQL server for the tests of every component, one per test session.

TEST_DATABASE_URL wins when set. Otherwise a throwaway cluster is started from the
installed PostgreSQL binaries in a temporary folder, reachable only through a
Unix socket there, and removed at the end. initdb refuses to run as root, so as
root the cluster runs as the ``postgres`` user.

When neither is possible the PostgreSQL tests are skipped with the reason, unless
HEXFORGE_REQUIRE_POSTGRES=1, which turns that skip into a failure (CI sets it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PORT = 5432  # only names the socket file: the server listens on no TCP port


class PostgresUnavailable(Exception):
    """No server can be had; the message says why."""


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A connection string for an empty, writable database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    try:
        cluster = _Cluster.start()
    except PostgresUnavailable as error:
        reason = f"PostgreSQL unavailable: {error}"
        if os.environ.get("HEXFORGE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (HEXFORGE_REQUIRE_POSTGRES=1 forbids skipping)")
        pytest.skip(reason)
    try:
        yield cluster.dsn
    finally:
        cluster.stop()


class _Cluster:
    def __init__(self, bin_dir: Path, root: Path, run_as: list[str]) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.run_as = run_as
        self.data = root / "data"
        self.dsn = f"postgresql://postgres@/postgres?host={root}&port={PORT}"

    @classmethod
    def start(cls) -> _Cluster:
        bin_dir = _find_bin_dir()
        root = Path(tempfile.mkdtemp(prefix="pg-"))
        cluster = cls(bin_dir, root, _run_as_prefix(root))
        try:
            cluster._pg(
                "initdb",
                "--pgdata",
                str(cluster.data),
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            )
            cluster._pg(
                "pg_ctl",
                "start",
                "--wait",
                "--pgdata",
                str(cluster.data),
                "--log",
                str(root / "server.log"),
                "--options",
                f"-c listen_addresses='' -k '{root}' -p {PORT} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off",
            )
        except PostgresUnavailable:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cluster

    def stop(self) -> None:
        try:
            self._pg("pg_ctl", "stop", "--pgdata", str(self.data), "--mode=immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _pg(self, program: str, *args: str) -> None:
        command = [*self.run_as, str(self.bin_dir / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.root / "server.log"
            detail = log.read_text() if log.exists() else result.stderr or result.stdout
            raise PostgresUnavailable(f"{program} failed: {detail.strip()[-500:]}")


def _find_bin_dir() -> Path:
    """Where initdb and pg_ctl live: PATH, pg_config, or Debian's versioned folders."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(Path(bindir.stdout.strip()))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if re.fullmatch(r"\d+(\.\d+)?", p.name)]
        for version in sorted(versions, key=lambda p: float(p.name), reverse=True):
            candidates.append(version / "bin")
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresUnavailable(
        "no initdb/pg_ctl found (install PostgreSQL, e.g. apt-get install postgresql, "
        "or set TEST_DATABASE_URL)"
    )


def _run_as_prefix(root: Path) -> list[str]:
    """Run the server as ``postgres`` when we are root: initdb refuses root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root and runuser is missing")
    try:
        shutil.chown(root, user="postgres", group=None)
    except (LookupError, PermissionError) as error:
        raise PostgresUnavailable(f"running as root without a postgres user: {error}") from error
    return [runuser, "-u", "postgres", "--"]
