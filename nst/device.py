"""Device choice: CUDA, then Apple MPS, then the CPU; ``NST_DEVICE`` overrides."""

from __future__ import annotations

import functools
import os

import torch


@functools.cache
def default_device() -> torch.device:
    """The device every model runs on unless a caller passes another.

    Order: ``$NST_DEVICE`` (e.g. ``cpu``, ``cuda:1``), then CUDA, then MPS, then CPU.
    On the CPU, torch's intra-op threads are set to the cores this process may use
    (``sched_getaffinity``), which in containers is often fewer than the host has.
    """
    name = os.environ.get("NST_DEVICE", "").strip()
    if name:
        device = torch.device(name)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    if device.type == "cpu" and hasattr(os, "sched_getaffinity"):
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    return device
