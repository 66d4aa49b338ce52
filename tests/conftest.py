"""The suite's fixtures: the offline caches filled with stand-ins, the library's settings, the app served.

The caches' variables are set before this file is loaded (:mod:`tests.support.environment`); the
session fixtures lay seeded stand-ins in them, so the product's real loading paths (torchvision's
cache, ``hf_hub_download``) read them. The library's settings are read from the environment once,
as a surface does (:func:`nst.base.settings.configure`), and tests that change one do it through
the ``settings`` fixture. The app is built and served in this process, except for the one test of
``python app.py`` itself.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from nst.base import settings as library_settings
from nst.base.settings import Settings, configure, current
from nst.cli import main
from tests.support.server import LOGS, serve
from tests.support.standins import lay_hub_cache, lay_torch_home, train_set

TEST_SERVER = {"gatys_steps": 400, "video_seconds": 3.0}
"""What the test servers change of the app's settings: more Gatys steps, shorter clips."""


def pytest_configure() -> None:
    """The library's settings read from the environment once, as a surface does."""
    configure(Settings.from_env(surface="cli"))


@pytest.fixture(scope="session", autouse=True)
def torch_home() -> Path:
    """torchvision's cache (``TORCH_HOME``), holding a seeded VGG-19."""
    home = Path(os.environ["TORCH_HOME"])
    lay_torch_home(home)
    return home


@pytest.fixture(scope="session", autouse=True)
def hub_cache() -> Path:
    """The Hub cache's snapshot of the four Hub networks (stand-ins)."""
    return lay_hub_cache(Path(os.environ["HF_HUB_CACHE"]))


@pytest.fixture(scope="session")
def weights_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weights folder holding a trained three-style set, ``set.safetensors`` (``set_00`` … ``set_02``)."""
    folder = tmp_path_factory.mktemp("weights")
    train_set(folder)
    return folder


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch):
    """``settings(**changes)`` installs the library's settings with ``changes`` for one test."""

    def change(**changes: object) -> Settings:
        changed = dataclasses.replace(current(), **changes)
        monkeypatch.setattr(library_settings, "_current", changed)
        return changed

    return change


@pytest.fixture
def nst(capsys: pytest.CaptureFixture) -> Callable[..., SimpleNamespace]:
    """``nst(*args)``: ``python -m nst ARGS`` run in this process; its exit status and what it printed."""

    def run(*args: object) -> SimpleNamespace:
        status = main([str(a) for a in args])
        out = capsys.readouterr()
        return SimpleNamespace(returncode=status, stdout=out.out, stderr=out.err)

    return run


@pytest.fixture(scope="session")
def server(torch_home, hub_cache, weights_folder) -> Iterator[str]:
    """The app as a CPU Space runs it: one job at a time, the rest queued; its weights folder holds
    a trained set. Its library settings stay installed for the session."""
    with serve(dataclasses.replace(current(), weights_dir=str(weights_folder), **TEST_SERVER)) as url:
        yield url


@pytest.fixture(scope="session")
def wide_server(server) -> Iterator[str]:
    """The app with room for four jobs at once, for the tests of requests that overlap. Building it
    installs its settings; the session's are put back, so later tests do not run four at a time."""
    session = current()
    with serve(dataclasses.replace(session, cpu_concurrency=4, **TEST_SERVER)) as url:
        configure(session)
        yield url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A failing test's report shows what the app servers printed while it ran (their tracebacks:
    a client only hears "the upstream Gradio app has raised an exception")."""
    before = {log: log.stat().st_size for log in LOGS if log.exists()}
    try:
        return (yield)
    except BaseException:
        for log in filter(Path.exists, LOGS):
            with log.open(errors="replace") as f:
                f.seek(before.get(log, 0))
                printed = f.read()
            if printed.strip():
                item.add_report_section("call", f"server {log}", printed[-20000:])
        raise
