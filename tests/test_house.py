"""The house rules the code is built on: floors, no work at import, one home for settings, one list
of requirements."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import os
import re
import subprocess
import sys
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest
from importlinter import configuration
from importlinter.application import use_cases

from nst.base.settings import LIBRARY, Settings, setting
from tests.support import ROOT

SOURCES = [*sorted((ROOT / "nst").rglob("*.py")), ROOT / "app.py"]


def test_no_floor_imports_from_a_floor_above_it(capsys):
    """import-linter's contracts in ``pyproject.toml``: the floors as layers, bottom up base, networks,
    methods, the surfaces (imports inside functions count too), and no ``nst`` module importing
    ``app.py``, the Space's own surface."""
    configuration.configure()  # its file readers and graph builder, as its command line does
    kept = use_cases.lint_imports(str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    assert kept, capsys.readouterr().out[-3000:]


IMPORT_ALL = """
import gc, importlib, pkgutil, threading
import safetensors, safetensors.torch, torch

loaded = []
for owner, name in ((torch, "load"), (safetensors, "safe_open"), (safetensors.torch, "load_file")):
    real = getattr(owner, name)
    setattr(owner, name, lambda *a, _real=real, _name=name, **k: loaded.append(_name) or _real(*a, **k))
import nst
import app
for info in pkgutil.walk_packages(nst.__path__, "nst."):
    if info.name != "nst.__main__":  # that one runs the command line
        importlib.import_module(info.name)
modules = [o for o in gc.get_objects() if isinstance(o, torch.nn.Module)]
print("loaded", loaded, "networks", len(modules), "threads", threading.active_count())
"""


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if ".venv" not in p.parts and ".git" not in p.parts}


@pytest.mark.slow  # a fresh interpreter
def test_importing_every_module_writes_no_file_loads_no_weights_and_starts_no_thread(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NST_", "HF_", "TORCH", "XDG"))}
    env |= {"HOME": str(home), "TMPDIR": str(home), "XDG_CACHE_HOME": str(home / "cache")}
    env |= {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)}
    before = _files(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=home, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-6:] == ["loaded", "[]", "networks", "0", "threads", "1"], result.stdout
    assert not list(home.rglob("*")), sorted(home.rglob("*"))[:10]
    assert _files(ROOT) == before


ENVIRON = re.compile(r"""os\.(?:environ(?:\.get)?\s*[\[(]|getenv\s*\()\s*["']([A-Z_]+)["']""")
THEIRS = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"}
"""torchrun's own variables, read where a process learns its place."""


def test_rooms_stay_small_modules_under_400_lines_functions_under_60():
    large = []
    for path in [*SOURCES, *sorted((ROOT / "bench").glob("*.py"))]:
        text, name = path.read_text(), path.relative_to(ROOT)
        if len(text.splitlines()) > 400:
            large.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.end_lineno - node.lineno >= 60
            ):
                large.append(f"{name}: {node.name} is {node.end_lineno - node.lineno + 1} lines")
    assert not large, large


def test_no_module_reads_the_environment_outside_the_settings_home():
    reads = []
    for path in SOURCES:
        if path.name == "settings.py" and path.parent.name == "base":
            continue
        text = path.read_text()
        names = ENVIRON.findall(text)
        reads += [f"{path.relative_to(ROOT)}: {n}" for n in names if n not in THEIRS]
        bare = text.count("os.environ") + text.count("os.getenv") - len(names)
        assert bare == 0, f"{path.relative_to(ROOT)} reads the environment by a name we cannot see"
    assert not reads, reads


def test_each_surface_reads_its_own_variables_and_a_bad_value_names_the_variable():
    environ = {"NST_MAX_UPLOAD_MB": "5", "NST_DEVICE": "cpu", "NST_MCP": "0", "XDG_CACHE_HOME": "/c"}
    app, cli = Settings.from_env(environ, surface="app"), Settings.from_env(environ, surface="cli")
    assert (app.upload_mb, app.device, app.mcp, app.cache()) == (5, "cpu", False, Path("/c/nst"))
    assert (cli.upload_mb, cli.device, cli.mcp) == (Settings().upload_mb, "cpu", True)
    with pytest.raises(ValueError, match="NST_GATYS_MAX_STEPS='many' is not a whole number"):
        Settings.from_env({"NST_GATYS_MAX_STEPS": "many"})
    names = [f.metadata["env"] for f in dataclasses.fields(Settings)]
    assert len(names) == len(set(names)), "a variable declared twice"


@dataclass(frozen=True)
class Wider(Settings):
    """The settings and one that may be left unset, as a later setting may be."""

    limit: int | None = setting(None, "NST_TEST_LIMIT", "a limit, none when unset", LIBRARY)


EXAMPLES: dict[object, tuple[dict[str, object], str | None]] = {
    str: ({"cuda:1": "cuda:1", " a b ": "a b"}, None),
    int: ({"12": 12, " -3 ": -3}, "2.5"),
    float: ({"2.5": 2.5, "7": 7.0}, "soon"),
    bool: ({"1": True, "Off": False, "YES": True, "false": False}, "maybe"),
    int | None: ({"7": 7}, "seven"),
}
"""For each type a setting has: texts and what they read as, and a text that is no such value."""


def test_every_type_of_setting_reads_as_that_type_and_a_bad_value_says_what_it_is_not():
    kinds = typing.get_type_hints(Wider)
    missing = set(kinds.values()) - EXAMPLES.keys()
    assert not missing, f"settings of these types have no example here (and maybe no parser): {missing}"
    for f in dataclasses.fields(Wider):
        env, surface = f.metadata["env"], f.metadata["surfaces"][0]
        reads, bad = EXAMPLES[kinds[f.name]]
        for text, value in reads.items():
            read = getattr(Wider.from_env({env: text}, surface=surface), f.name)
            assert (read, type(read)) == (value, type(value)), (env, text)
        if bad is not None:
            with pytest.raises(ValueError, match=rf"^{env}='{re.escape(bad)}' is not (a |1 or 0)"):
                Wider.from_env({env: bad}, surface=surface)


def test_the_package_needs_what_the_space_installs_and_its_script_is_the_command_line():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    space = sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    assert sorted(project["dependencies"] + project["optional-dependencies"]["space"]) == space
    module, function = project["scripts"]["nst"].split(":")
    assert callable(getattr(importlib.import_module(module), function))
