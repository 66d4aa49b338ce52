"""Device choice: CUDA, then Apple MPS, then the CPU; the settings' ``device`` (``NST_DEVICE``) overrides."""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from nst.base.settings import current


def default_device() -> torch.device:
    """The device every model runs on unless a caller passes another.

    Order: the settings' ``device`` (``NST_DEVICE``: e.g. ``cpu``, ``cuda:1``), then CUDA, then MPS,
    then CPU.
    On the CPU, torch's intra-op threads are lowered to the cores this process may use
    (``sched_getaffinity``), which in containers is often fewer than the host's that torch counts;
    fewer threads asked for (``OMP_NUM_THREADS``, ``torch.set_num_threads``, torchrun's share) stay.
    """
    return _chosen(current().device.strip())


@functools.cache
def _chosen(name: str) -> torch.device:
    if name:
        device = torch.device(name)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    if device.type == "cpu":
        if hasattr(os, "sched_getaffinity"):
            torch.set_num_threads(max(1, min(torch.get_num_threads(), len(os.sched_getaffinity(0)))))
        _reuse_freed_memory()
    if device.type == "cuda":
        # TF32 for VGG's convolutions and the Gram products: 10 mantissa bits, plenty for a loss.
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cuda.matmul.allow_tf32 = True
    return device


def memory_format(device: torch.device) -> torch.memory_format:
    """The faster layout for the one-pass networks on ``device``.

    On the CPU, channels-last runs their convolutions ~1.5× faster (oneDNN; bench/). On an
    H200, NCHW was faster from 1 MP up (7.6 vs 9.1 ms at 1024², 21.5 vs 26.8 ms at 2048×1536).
    """
    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


def _reuse_freed_memory() -> None:
    """Have glibc keep freed memory for reuse instead of returning it to the system.

    By default every tensor over 32 MB is a fresh ``mmap`` whose pages fault in
    on first touch and go back to the system when freed, on every forward pass:
    that made the fast network 1.8× slower at 2048² (bench/). One arena, so that
    worker threads (Gradio's) reuse the same memory. Other C libraries: no-op.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
    mallopt(m_arena_max, 1)
    mallopt(m_mmap_threshold, 2**31 - 1)
    mallopt(m_trim_threshold, 2**31 - 1)


@contextmanager
def deterministic(device: torch.device) -> Iterator[None]:
    """Within the block, CUDA uses deterministic kernels, so that a seeded run repeats exactly.

    cuDNN's autotuner and its non-deterministic algorithms are switched off, and torch's
    deterministic mode is on (warning, not failing, where an op has no such kernel); the
    previous settings come back afterwards. The CPU is deterministic already: no-op.
    """
    if device.type != "cuda":
        yield
        return
    saved = (
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[:2]
        torch.use_deterministic_algorithms(saved[2], warn_only=saved[3])
