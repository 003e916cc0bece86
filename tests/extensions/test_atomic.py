"""Atomic, idempotent writes and the project lock."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import atomic


def test_write_creates_parents_and_reports_a_change(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "file.txt"
    assert atomic.write_if_changed(path, b"hello\n")
    assert path.read_bytes() == b"hello\n"


def test_same_bytes_do_not_touch_the_file(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    atomic.write_if_changed(path, b"same")
    before = path.stat()
    time.sleep(0.01)
    assert not atomic.write_if_changed(path, b"same")
    after = path.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_a_change_keeps_the_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "script.sh"
    path.write_bytes(b"old")
    path.chmod(0o750)
    assert atomic.write_if_changed(path, b"new")
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o7777 == 0o750
    assert [p.name for p in tmp_path.iterdir()] == ["script.sh"]


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        atomic.write_if_changed(tmp_path / "new.txt", b"x")
    finally:
        os.umask(previous)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o640


def test_a_symlink_stays_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.toml"
    target.write_text("old")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    assert atomic.write_text_if_changed(link, "new")
    assert link.is_symlink()
    assert target.read_text() == "new"


def test_a_failed_write_leaves_the_old_file_and_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keep.txt"
    path.write_text("old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("atomic.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_if_changed(path, b"new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


HOLD_LOCK = """
import sys, time
sys.path.insert(0, sys.argv[1])
import atomic
from pathlib import Path
with atomic.project_lock(Path(sys.argv[2])):
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def test_the_lock_is_exclusive_across_processes(tmp_path: Path) -> None:
    extensions = str(Path(atomic.__file__).parent)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, extensions, str(tmp_path), "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "locked\n"
    lock_file = tmp_path / atomic.LOCK_FILE
    with lock_file.open("a") as stream:
        with pytest.raises(BlockingIOError):
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        started = time.monotonic()
        with atomic.project_lock(tmp_path):  # blocks until the holder is done
            waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited > 0.3


def test_a_child_told_its_parent_holds_the_lock_does_not_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with atomic.project_lock(tmp_path):
        for key, value in atomic.held_lock_env(tmp_path).items():
            monkeypatch.setenv(key, value)
        with atomic.project_lock(tmp_path):  # would deadlock without the variable
            pass


def test_the_variable_only_covers_its_own_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in atomic.held_lock_env(tmp_path / "other").items():
        monkeypatch.setenv(key, value)
    with atomic.project_lock(tmp_path):
        assert (tmp_path / atomic.LOCK_FILE).exists()
