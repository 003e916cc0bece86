"""A PostgreSQL database for the tests of every component.

TEST_DATABASE_URL wins when set. Otherwise a throwaway cluster is started from the
installed PostgreSQL binaries in a temporary folder, reachable only through a
Unix socket there, and removed at the end. initdb refuses to run as root, so as
root the cluster runs as the ``postgres`` user.

Under pytest-xdist (``pytest -n N``) the workers share ONE cluster, started by the
first worker that needs it and stopped by the last one done with it, and each
worker gets a database of its own in it (``test_gw0``, ``test_gw1``...), so that
tests emptying a table never race. With TEST_DATABASE_URL each worker gets
``<database>_gw0``... created in that server (the role needs CREATEDB).

The server is a child of the test process, in its process group, never a daemon:
whatever ends the test run (Ctrl-C, ``tools/quality_gates.py`` ending a gate that
ran out of time) ends the server too. It starts at the first test that needs it;
with HEXFORGE_POSTGRES_EARLY=1 (``tools/quality_gates.py`` sets it when it runs the
integration tier) it starts at once, in the background, while pytest collects.

When no server can be had the PostgreSQL tests are skipped with the reason, unless
HEXFORGE_REQUIRE_POSTGRES=1, which turns that skip into a failure (CI sets it).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PORT = 5432  # only names the socket file: the server listens on no TCP port
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class PostgresUnavailable(Exception):
    """No server can be had; the message says why."""


def pytest_unconfigure(config: pytest.Config) -> None:
    if _EARLY is not None and _EARLY.exception() is None:  # waits for its start-up to end
        _EARLY.result().stop()


@pytest.fixture(scope="session")
def postgres_dsn(request: pytest.FixtureRequest) -> Iterator[str]:
    """A connection string for an empty, writable database of this test process."""
    worker = _xdist_worker(request.config)
    url = os.environ.get("TEST_DATABASE_URL")
    try:
        if url:
            if worker is None:
                yield url
            else:
                with _worker_database(url, f"{_database_name(url)}_{worker}") as dsn:
                    yield dsn
            return
        if _EARLY is not None:
            yield _EARLY.result().dsn  # stopped when pytest ends (pytest_unconfigure)
            return
        if worker is None:
            cluster = _Cluster.start()
            try:
                yield cluster.dsn
            finally:
                cluster.stop()
            return
        # One folder per test run (xdist gives every worker of a run the same id).
        run_id = request.config.workerinput["testrunuid"]  # type: ignore[attr-defined]
        shared = Path(tempfile.gettempdir()) / f"pg-shared-{run_id}"
        with _SharedCluster(shared) as dsn, _worker_database(dsn, f"test_{worker}") as own:
            yield own
    except PostgresUnavailable as error:
        reason = f"PostgreSQL unavailable: {error}"
        if os.environ.get("HEXFORGE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (HEXFORGE_REQUIRE_POSTGRES=1 forbids skipping)")
        pytest.skip(reason)


# -- pytest-xdist -----------------------------------------------------------------------


def _xdist_worker(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput["workerid"])


def _database_name(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn)
    return str(params.get("dbname") or params.get("user") or os.environ.get("PGDATABASE", "test"))


@contextlib.contextmanager
def _worker_database(dsn: str, name: str) -> Iterator[str]:
    """A fresh database ``name`` in the server of ``dsn``, dropped afterwards."""
    # Imported here: only xdist workers need it, and _Cluster also serves scripts
    # that start a server without the project's dependencies.
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    name = re.sub(r"[^a-z0-9_]", "_", name.lower())[:63]
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(statement)
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        raise PostgresUnavailable(f"cannot create the worker's database {name}: {error}") from None
    yield make_conninfo(dsn, dbname=name)
    with contextlib.suppress(psycopg.Error), psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(statement)


# -- the throwaway cluster -------------------------------------------------------------


class _Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.dsn = f"postgresql://postgres@/postgres?host={root}&port={PORT}"
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, root: Path | None = None) -> _Cluster:
        cluster = cls(root or Path(tempfile.mkdtemp(prefix="pg-")))
        try:
            cluster._start()
        except PostgresUnavailable:
            cluster.stop()
            raise
        return cluster

    def _start(self) -> None:
        bin_dir = _find_bin_dir()
        as_user = _run_as(self.root)
        self._run(
            bin_dir / "initdb",
            "--pgdata",
            str(self.data),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            as_user=as_user,
        )
        self._serve()

    def _serve(self) -> None:
        bin_dir = _find_bin_dir()
        as_user = _run_as(self.root)
        # The server itself, not `pg_ctl start`: pg_ctl detaches it into a session of
        # its own, where nothing that ends this test run would reach it.
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(self.data),
                    "-k",
                    str(self.root),
                    "-p",
                    str(PORT),
                    "-c",
                    "listen_addresses=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **as_user,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise PostgresUnavailable(f"postgres did not start: {self._log_tail()}")
            time.sleep(0.05)

    def suspend(self) -> None:
        """Stop the server and keep its data: an outage, until :meth:`resume`."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def resume(self) -> None:
        """Start the server again on the same data, socket and port."""
        self._serve()

    def _ready(self) -> bool:
        """postmaster.pid's status line says "ready" once connections are accepted."""
        try:
            lines = (self.data / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def _server_pid(self) -> int | None:
        try:
            first = (self.data / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0]
        except (OSError, UnicodeDecodeError):
            return None
        return int(first) if first.strip().isdigit() else None

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self._signal_and_wait(self.process.pid)
                self.process.wait()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def _signal_and_wait(pid: int) -> None:
        """Immediate shutdown (SIGQUIT): the data is thrown away anyway."""
        for signum in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)  # reap it when it is ours
                if not _alive(pid):
                    return
                time.sleep(0.05)

    def _run(self, program: Path, *args: str, as_user: dict[str, Any]) -> None:
        try:
            result = subprocess.run(
                [str(program), *args], capture_output=True, text=True, check=False, **as_user
            )
        except OSError as error:
            raise PostgresUnavailable(f"cannot run {program.name}: {error}") from None
        if result.returncode != 0:
            detail = result.stderr or result.stdout
            raise PostgresUnavailable(f"{program.name} failed: {detail.strip()[-500:]}")

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace").strip()[-500:]
        except OSError:
            return "no server log"


class _SharedCluster:
    """The xdist workers' cluster in ``root``: the first worker in starts it, the last
    one out stops it (a count in ``root/users``, under a lock)."""

    def __init__(self, root: Path) -> None:
        self.cluster = _Cluster(root)
        self.root = root

    def __enter__(self) -> str:
        with self._locked():
            failed = self.root / "failed"
            if failed.exists():
                raise PostgresUnavailable(failed.read_text(encoding="utf-8"))
            if self._users() == 0:
                try:
                    self.cluster._start()
                except PostgresUnavailable as error:
                    failed.write_text(str(error), encoding="utf-8")
                    raise
            self._set_users(self._users() + 1)
        return self.cluster.dsn

    def __exit__(self, *exc_info: object) -> None:
        with self._locked():
            users = self._users() - 1
            self._set_users(users)
            if users > 0:
                return
            pid = self.cluster._server_pid()
            if pid is not None:
                _Cluster._signal_and_wait(pid)
            shutil.rmtree(self.root, ignore_errors=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The lock of ``root``; taken again when the last user removed that folder
        while we waited for it."""
        import fcntl  # POSIX only, like the xdist sharing that needs it

        while True:
            self.root.mkdir(exist_ok=True)
            try:
                lock = open(self.root / "lock", "a")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                continue
            with lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    current = os.stat(self.root / "lock").st_ino == os.fstat(lock.fileno()).st_ino
                except FileNotFoundError:
                    current = False
                if current:
                    yield
                    return

    def _users(self) -> int:
        try:
            return int((self.root / "users").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0

    def _set_users(self, count: int) -> None:
        (self.root / "users").write_text(str(count), encoding="utf-8")


def _alive(pid: int) -> bool:
    """Running, not a zombie: an orphaned server may wait a while to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def _find_bin_dir() -> Path:
    """Where initdb and postgres live: PATH, pg_config, or Debian's versioned folders."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
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
        if (candidate / "initdb").is_file() and (candidate / "postgres").is_file():
            return candidate
    raise PostgresUnavailable(
        "no initdb/postgres found (install PostgreSQL, e.g. apt-get install postgresql, "
        "or set TEST_DATABASE_URL)"
    )


def _run_as(root: Path) -> dict[str, Any]:
    """As root, run the cluster as ``postgres`` (initdb refuses root): Popen arguments."""
    if os.name != "posix" or os.geteuid() != 0:
        return {}
    import pwd  # POSIX only: root is a POSIX matter

    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable("running as root without a postgres user") from None
    os.chown(root, account.pw_uid, account.pw_gid)
    # The folders above the cluster must let the postgres user through.
    for parent in root.parents:
        status = parent.stat()
        if status.st_uid != account.pw_uid and not status.st_mode & 0o001:
            raise PostgresUnavailable(f"the postgres user cannot enter {parent}")
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _start_early() -> concurrent.futures.Future[_Cluster] | None:
    """With HEXFORGE_POSTGRES_EARLY=1, this run's cluster starts as this file loads, in
    the background: initdb and the server's start-up then overlap pytest's imports
    and collection instead of waiting for the first test that needs them. Not with
    TEST_DATABASE_URL, whose server the tests use instead. (Under pytest-xdist, which
    the gates do not use, each worker would then have a cluster of its own.)"""
    if os.environ.get("HEXFORGE_POSTGRES_EARLY") != "1" or os.environ.get("TEST_DATABASE_URL"):
        return None
    starter = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    early = starter.submit(_Cluster.start)
    starter.shutdown(wait=False)
    return early


# Last in the file: the thread it starts calls the functions above.
_EARLY = _start_early()
