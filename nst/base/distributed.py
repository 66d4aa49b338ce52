"""Several processes, on one machine or many, through torch's own engine: ``torchrun`` starts them,
``torch.distributed`` joins them (gloo on CPUs, NCCL on GPUs).

A plain process is rank 0 of 1 and touches nothing here. Under ``torchrun`` (``WORLD_SIZE`` > 1)
:func:`join` makes the process group once, gives each process its GPU (``LOCAL_RANK``) or its
share of the CPU cores, and says which rank this is; rank 0 writes what is written. The surface
that ran the work calls :func:`leave` when it is done.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    """This process's place: ``rank`` of ``world`` processes, on ``device``."""

    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Whether this process writes checkpoints, outputs and the progress bar (rank 0)."""
        return self.rank == 0

    def share(self, items: list) -> list:
        """This rank's contiguous share of ``items``, the shares as equal as can be, in rank order."""
        base, extra = divmod(len(items), self.world)
        start = self.rank * base + min(self.rank, extra)
        return items[start : start + base + (self.rank < extra)]


def join(device: torch.device) -> Ranks:
    """This process's :class:`Ranks`, joining ``torchrun``'s process group when there is one.

    Each process takes ``cuda:LOCAL_RANK`` when ``device`` is CUDA, else the CPU cores divided
    by the processes on this machine (``LOCAL_WORLD_SIZE``) as its intra-op threads.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Ranks(0, 1, device)
    local, here = int(os.environ.get("LOCAL_RANK", "0")), int(os.environ.get("LOCAL_WORLD_SIZE", world))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        torch.set_num_threads(max(1, cores // here))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Ranks(dist.get_rank(), dist.get_world_size(), device)


def leave() -> None:
    """Destroy the process group :func:`join` made, if there is one, while Python is whole.

    Left to the interpreter's exit, gloo's worker threads can be torn down mid-finalisation and
    abort the process (SIGABRT, "terminate called without an active exception"; pytorch/pytorch
    #190489). Called after the work succeeds on this rank: after an error, destroying a group the
    other ranks still wait in can hang, so the exit is left to do it. A barrier comes first, so that
    no rank closes its connections while another is still finishing (rank 0 writes the outputs):
    a rank that had left early still aborted now and then on CI.
    """
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def mean(values: dict[str, float], ranks: Ranks) -> dict[str, float]:
    """Each value averaged over the ranks (for logging); as it is in a plain process."""
    if ranks.world == 1:
        return values
    t = torch.tensor(list(values.values()), dtype=torch.float64, device=ranks.device)
    dist.all_reduce(t)
    return dict(zip(values, (t / ranks.world).tolist(), strict=True))


def total(counts: list[int], ranks: Ranks) -> list[int]:
    """Each count summed over the ranks; as it is in a plain process."""
    if ranks.world == 1:
        return counts
    t = torch.tensor(counts, dtype=torch.int64, device=ranks.device)
    dist.all_reduce(t)
    return t.tolist()
