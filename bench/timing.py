"""Timing helpers the benchmarks share: CUDA-synchronised medians, peak memory, convolution FLOPs and
the machine's convolution roof."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F


def sync() -> None:
    """Wait for queued CUDA work, so that a timer stopped after it measures the work, not its launch."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, repeats: int = 3) -> float:
    """Median seconds of ``fn()`` after one warm-up call, CUDA work included (synchronised)."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(ways: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each of ``ways``, run in turn ``repeats`` times after one warm-up call each,
    CUDA work included (synchronised): interleaved, so a drifting machine shifts them alike."""
    times: dict[str, list[float]] = {name: [] for name in ways}
    for fn in ways.values():
        fn()
    for _ in range(repeats):
        for name, fn in ways.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def conv_flops(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Multiply-adds ×2 of every convolution in one forward pass."""
    total = 0.0

    def hook(module, args, out):
        nonlocal total
        if isinstance(module, torch.nn.ConvTranspose2d):
            spatial = args[0].shape[-2:].numel()
        else:
            spatial = out.shape[-2:].numel()
        k = module.kernel_size[0] * module.kernel_size[1]
        total += 2 * module.in_channels * module.out_channels * k * spatial

    hooks = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
    ]
    with torch.inference_mode():
        model(x)
    for h in hooks:
        h.remove()
    return total


def roof() -> float:
    """The best fp32 convolution throughput seen here, GFLOP/s (3×3 convolutions, both layouts)."""
    best = 0.0
    with torch.inference_mode():
        for c, side in ((128, 128), (256, 64), (512, 32)):
            w = torch.randn(c, c, 3, 3)
            for fmt in (torch.contiguous_format, torch.channels_last):
                x = torch.randn(1, c, side + 2, side + 2).contiguous(memory_format=fmt)
                seconds = timed(lambda x=x, w=w: F.conv2d(x, w), repeats=5)
                best = max(best, 2 * c * c * 9 * side * side / seconds / 1e9)
    return best
