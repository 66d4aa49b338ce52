"""What the device's arithmetic allows: the suite also runs on CUDA (``NST_DEVICE=cuda``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from nst.base.device import default_device

CUDA = default_device().type == "cuda"
"""The suite runs on CUDA: float16 and TF32 there round more than the CPU's float32."""
LEVELS = 2 if CUDA else 1
"""Levels (of 255) by which two orders of the same float arithmetic may differ on the device."""


@contextlib.contextmanager
def full_float32() -> Iterator[None]:
    """Within the block, CUDA convolutions and products in full float32, not TF32 (the product's
    choice there, which rounds to 10 bits): for tests of exactness. The CPU: no change."""
    matmul = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
