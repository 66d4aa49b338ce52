"""The device choice on the CPU: torch's threads come down to the cores this process may use, and
fewer threads asked for (``OMP_NUM_THREADS``, a torchrun process's share) stay."""

from __future__ import annotations

import os

import pytest
import torch

from nst.base import device


@pytest.fixture
def threads():
    """torch's thread count and the device choice put back after the test."""
    before = torch.get_num_threads()
    device._chosen.cache_clear()
    yield
    torch.set_num_threads(before)
    device._chosen.cache_clear()


def test_the_threads_come_down_to_the_cores_this_process_may_use(threads):
    torch.set_num_threads(64)  # what torch counts on a large host, whatever the container allows
    assert device._chosen("cpu") == torch.device("cpu")
    assert torch.get_num_threads() == min(64, len(os.sched_getaffinity(0)))


def test_fewer_threads_asked_for_stay(threads):
    torch.set_num_threads(1)
    device._chosen("cpu")
    assert torch.get_num_threads() == 1
