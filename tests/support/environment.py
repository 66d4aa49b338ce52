"""The offline caches the suite runs against: a pytest plugin (``-p tests.support.environment``).

Before the conftest files are loaded (and so before anything imports huggingface_hub, which reads
its variables once, at import), :func:`prepare` points the Hub cache (``HF_HUB_CACHE``, read with
``HF_HUB_OFFLINE=1``) and torchvision's cache (``TORCH_HOME``) at fresh folders, which the session
fixtures fill with seeded stand-ins (:mod:`tests.support.standins`), and gives the converted networks
a fresh ``NST_CACHE``. Gradio's uploads go to a folder of each process's own (``GRADIO_TEMP_DIR``,
made fresh like ``NST_CACHE``, since xdist's workers inherit the first process's variables): in a
shared folder, an app closing in another test process deletes the files it had, and an upload of
the same picture elsewhere has the same path. ``CI`` is unset: with it, pytest explains a failed
comparison by diffing the whole of both sides (minutes for two 128² pictures' bytes), where it
otherwise says where they differ. A process that prepared the caches already (xdist's
workers, and the mutation check's, which import the libraries once for many runs) keeps them: the
stand-ins are laid once.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

PREPARED = "NST_TESTS_CACHES"
"""Set to the folder holding the caches once this process, or the one it was forked from, made them."""


def prepare() -> None:
    """This process's offline caches, made once, a fresh ``NST_CACHE`` and ``GRADIO_TEMP_DIR``, no user
    setting of ours, and no ``CI``."""
    if not os.environ.get(PREPARED):
        root = tempfile.mkdtemp(prefix="nst-tests-")
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        os.environ.update(
            {
                PREPARED: root,
                "HF_HUB_CACHE": os.path.join(root, "hub"),
                "HF_HUB_OFFLINE": "1",
                "TORCH_HOME": os.path.join(root, "torch"),
            }
        )
    root = os.environ[PREPARED]
    os.environ["NST_CACHE"] = tempfile.mkdtemp(prefix="nst-cache-", dir=root)
    os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="gradio-", dir=root)
    for name in ("NST_CATALOGUE", "NST_WEIGHTS_DIR", "NST_VGG_WEIGHTS", "CI"):
        os.environ.pop(name, None)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests() -> None:
    prepare()
