"""The house rules the code is built on: floors, no work at import, one home for settings."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from nst.base.settings import Settings

FLOORS = {"base": 0, "networks": 1, "methods": 2, "space": 3, "cli": 3, "__main__": 3}
"""Bottom up: base (device, images, weights, losses, settings), networks, methods, surfaces."""
SOURCES = [*sorted((ROOT / "nst").rglob("*.py")), ROOT / "app.py"]


def floor(module: str) -> int:
    """The floor of a module of ours (``nst.methods.fast`` → 2); ``app`` is a surface."""
    parts = module.split(".")
    return 3 if parts[0] == "app" else FLOORS[parts[1]] if len(parts) > 1 else 0


def imported(path: Path) -> set[str]:
    """The ``nst`` modules ``path`` imports anywhere in it, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n.startswith("nst.") and n.split(".")[1] in FLOORS}


def test_no_floor_imports_from_a_floor_above_it():
    upward = []
    for path in SOURCES:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        upward += [f"{module} → {name}" for name in imported(path) if floor(name) > floor(module)]
    assert not upward, upward


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
