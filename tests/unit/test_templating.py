"""Templates are compiled once per machine: the cache is private to the user, and a changed
template is compiled again rather than served stale."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from jinja2 import DictLoader, Environment, FileSystemBytecodeCache

from sloprobe.templating import bytecode_cache


def test_the_cache_directory_is_the_users_own_and_private() -> None:
    cache = bytecode_cache()
    assert isinstance(cache, FileSystemBytecodeCache)
    folder = Path(cache.directory)
    info = folder.stat()
    assert info.st_uid == os.getuid()
    assert stat.S_IMODE(info.st_mode) & 0o077 == 0  # no one else may read or plant code


def test_a_changed_template_is_compiled_again(tmp_path: Path) -> None:
    cache = FileSystemBytecodeCache(str(tmp_path))
    sources = {"t.j2": "one {{ x }}"}

    def render() -> str:
        env = Environment(loader=DictLoader(sources), bytecode_cache=cache)
        return env.get_template("t.j2").render(x=1)

    assert render() == "one 1"
    assert list(tmp_path.iterdir())  # compiled code was kept
    sources["t.j2"] = "two {{ x }}"
    assert render() == "two 1"
