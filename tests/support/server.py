"""The app on a free loopback port: built and served in this process (:func:`serve`), or as
``python app.py`` in a process of its own (:func:`launch`), for the tests and ``bench.app``."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from nst.base.settings import Settings
from tests.support import ROOT

LOGS: list[Path] = []
"""The output file of every server this process launched, for reports when something fails."""


def scratch(prefix: str) -> Path:
    """A fresh temporary folder, removed when this process exits."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """``python app.py`` on a free loopback port with ``env`` added; returns (process, URL) once it serves."""
    port = _free_port()
    env = {
        **os.environ,
        **env,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    # The server's output goes to a file: an unread pipe fills up and then blocks the server.
    log = scratch("nst-app-") / "app.log"
    LOGS.append(log)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited: {log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise TimeoutError("app.py did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The app built from ``settings`` and served in this process on a free loopback port; its URL."""
    from nst.space.layout import build, launch_options

    demo = build(settings)
    port = _free_port()
    options = {**launch_options(settings), "share": False}
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **options)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
