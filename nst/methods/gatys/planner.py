"""The time planner: a run's coarse-to-fine scales, by steps (:func:`scales_for`) or, under a
``time_limit``, by the measured cost of a step (:func:`fit_scales`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Generator
from typing import NamedTuple

from nst.base.images import fit_long_side
from nst.methods.gatys.options import GatysOptions


def scales_for(long_side: int, min_scale: int = 128, multiscale: bool = True) -> list[int]:
    """Long sides of the coarse-to-fine scales, ascending by √2 from about ``min_scale``."""
    sizes = [long_side]
    while multiscale and min_scale <= round(sizes[-1] / math.sqrt(2)) < sizes[-1]:
        sizes.append(round(sizes[-1] / math.sqrt(2)))
    return sizes[::-1]


def _split_steps(steps: int, scales: int) -> list[int]:
    """Equal steps per scale; the remainder goes to the finest scales."""
    base, extra = divmod(steps, scales)
    return [base + (i >= scales - extra) for i in range(scales)]


class _Scale(NamedTuple):
    """One scale of a run: the ``index``-th of ``count`` (from 1, the count as planned now), its long
    ``side``, its ``steps``, the ``deadline``, seconds from the start by which the run leaves it, and
    the ``last`` scale's side as planned now (the previews' size)."""

    index: int
    count: int
    side: int
    steps: int
    deadline: float
    last: int


SCALE_STEPS = 10
"""The fewest steps a time-limited plan gives each of its scales (:func:`fit_scales`)."""


def _first(o: GatysOptions) -> tuple[int, int, float]:
    """The first scale's (side, steps, deadline): that of the plan by steps, :func:`scales_for` with
    :func:`_split_steps`; under a time limit it ends by its share of the limit by cost,
    ``time_limit · c_1 / Σ_j c_j`` with ``c_j = n_j·side_j²`` (steps × pixels)."""
    sides = scales_for(o.size, o.min_scale, o.multiscale)
    plan = [(side, n) for side, n in zip(sides, _split_steps(o.steps, len(sides)), strict=True) if n]
    side, steps = plan[0]
    if o.time_limit is None:
        return side, steps, math.inf
    return side, steps, o.time_limit * steps * side**2 / sum(n * s**2 for s, n in plan)


def fit_scales(
    size: int, min_scale: int, done: int, steps: int, seconds: float, cost: Callable[[int], float]
) -> list[tuple[int, int]]:
    """The rest of a time-limited run after a scale of long side ``done``, as (side, steps) pairs.

    For a last side ``L`` from ``size`` down in 16-pixel steps (to ``1.25·done``: a smaller step up
    is not worth its setup), the scales are those of :func:`scales_for` ``(L)`` at least
    ``1.25·done``; the ``steps`` left are split among them (:func:`_split_steps`), each scale
    getting at most ``n = ⌊seconds / Σ_i cost(side_i)⌋ − 2`` (equal steps; two steps' time a
    scale for its targets and the network's set-up at a new size), ``cost(side)`` being a step's
    seconds. The first ``L`` whose scales all get ``SCALE_STEPS`` steps (or their whole share, when
    that is fewer) is the plan: the largest last scale that fits. Empty when none fits, or no step
    is left: the run ends at the scale it finished.
    """
    for last in range(size, math.ceil(1.25 * done) - 1, -16) if steps > 0 else ():
        sides = [side for side in scales_for(last, min_scale) if side >= 1.25 * done]
        shares = _split_steps(steps, len(sides))
        afford = math.floor(seconds / sum(cost(side) for side in sides)) - 2
        given = [min(share, afford) for share in shares]
        if min(given) >= min(SCALE_STEPS, min(shares)) and min(given) > 0:
            return [(side, n) for side, n in zip(sides, given, strict=True)]
    return []


def _scales(
    o: GatysOptions, content_size: tuple[int, int], start: float
) -> Generator[_Scale, tuple[int, float], None]:
    """The run's scales, each handed out when it is sent the run's steps so far and the seconds a
    step of the scale before took (its median).

    Without a time limit: the plan by steps, :func:`scales_for` with :func:`_split_steps`. Under one,
    the first scale is that plan's (:func:`_first`); after each, the rest is planned by
    :func:`fit_scales` from the time and steps left, a step's cost taken as proportional to its
    pixels at the rate just measured. The run may leave any scale at the time limit.
    """
    sides = scales_for(o.size, o.min_scale, o.multiscale)
    if o.time_limit is None:
        plan = [(side, n) for side, n in zip(sides, _split_steps(o.steps, len(sides)), strict=True) if n]
        for index, (side, n) in enumerate(plan, start=1):
            yield _Scale(index, len(plan), side, n, math.inf, o.size)
        return

    def pixels(side: int) -> int:
        return math.prod(fit_long_side(content_size, side))

    side, n, deadline = _first(o)
    scale = _Scale(1, len(sides), side, n, deadline, o.size)
    while True:
        done, seconds = yield scale
        left = o.time_limit - (time.perf_counter() - start)
        cost = functools.partial(_cost, seconds / pixels(scale.side), pixels)
        plan = fit_scales(o.size, o.min_scale, scale.side, o.steps - done, left, cost) if left > 0 else []
        if not plan:
            return
        index = scale.index + 1
        scale = _Scale(index, index + len(plan) - 1, *plan[0], o.time_limit, plan[-1][0])


def _cost(per_pixel: float, pixels: Callable[[int], int], side: int) -> float:
    """Seconds a step at long ``side`` takes, at ``per_pixel`` seconds a pixel."""
    return per_pixel * pixels(side)


def _next(planner: Generator[_Scale, tuple[int, float], None], done: tuple[int, float]) -> _Scale | None:
    """The planner's next scale, sent the run's step count and the last scale's seconds a step; None
    when the run is over."""
    try:
        return planner.send(done)
    except StopIteration:
        return None
