"""The template's modules compiled once for every Copier run: a module loaded from
another clone's folder comes from the cache, keyed by its source, and names its own
file; a changed source is compiled anew."""

from __future__ import annotations

import marshal
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

PROBE = """
import sys, traceback
sys.path.insert(0, {extensions!r})
import bytecode
bytecode.install([__import__("pathlib").Path({folder!r})])
sys.path.insert(0, {folder!r})
import probe
print(probe.__file__)
try:
    probe.fail()
except ValueError:
    print(traceback.extract_tb(sys.exc_info()[2])[-1].filename)
print(probe.VALUE)
"""


def run_probe(folder: Path, cache: Path, *, off: bool = False) -> list[str]:
    code = PROBE.format(extensions=str(REPO / "extensions"), folder=str(folder))
    env = {"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, **({"HEXFORGE_PYC_CACHE": "off"} if off else {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def write_probe(folder: Path, value: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "probe.py").write_text(
        f"VALUE = {value}\n\n\ndef fail() -> None:\n    raise ValueError('x')\n"
    )
    return folder


def test_a_module_is_compiled_once_for_every_clone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = write_probe(tmp_path / "clone-1", 1)
    assert run_probe(first, cache) == [str(first / "probe.py")] * 2 + ["1"]
    (cached,) = (cache / "hexforge" / "pyc").iterdir()
    # Marked, to tell cached code from a fresh compile: the same source says 99.
    marked = "VALUE = 99\n\n\ndef fail() -> None:\n    raise ValueError('x')\n"
    cached.write_bytes(marshal.dumps(compile(marked, "elsewhere.py", "exec")))
    second = write_probe(tmp_path / "clone-2", 1)
    # The same source in another clone: the cached code, naming the second clone's file.
    assert run_probe(second, cache) == [str(second / "probe.py")] * 2 + ["99"]
    assert list((cache / "hexforge" / "pyc").iterdir()) == [cached]
    assert run_probe(write_probe(tmp_path / "clone-4", 1), cache, off=True)[-1] == "1"
    third = write_probe(tmp_path / "clone-3", 3)
    assert run_probe(third, cache)[-1] == "3"
    assert len(list((cache / "hexforge" / "pyc").iterdir())) == 2
