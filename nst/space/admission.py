"""Who runs when: the queue's lanes, the Live streams admitted, and ZeroGPU's duration for a request."""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable

import spaces
import torch

from nst.base.settings import Settings
from nst.methods import video


def lane(settings: Settings, method: str, device: torch.device) -> dict[str, str | int]:
    """Where ``method``'s requests queue, as ``concurrency_id``/``concurrency_limit`` for an event.

    On a CPU the methods share one lane of ``NST_CPU_CONCURRENCY`` jobs: each job already uses
    every core, so two at once only take turns and both finish later. On a GPU each method has its
    own lane (``NST_<METHOD>_CONCURRENCY``; one job at a time for a method without that setting),
    so a long Gatys run does not hold up a picture. A batch has a lane of its own everywhere, one at
    a time: a single picture queues beside it, not behind its twenty photos.
    """
    if method == "batch":
        return {"concurrency_id": "batch", "concurrency_limit": 1}
    if device.type == "cpu":
        return {"concurrency_id": "cpu", "concurrency_limit": settings.cpu_concurrency}
    return {"concurrency_id": method, "concurrency_limit": getattr(settings, f"{method}_concurrency", 1)}


class Streams:
    """The live streams painting now, by session: at most ``cap``; one unseen for ``idle`` s has ended."""

    def __init__(self, cap: int, idle: float = 5.0) -> None:
        self.cap, self.idle, self.lock, self.seen = cap, idle, threading.Lock(), {}

    def admit(self, session: str) -> bool:
        """Whether ``session``'s frame may be painted: it is streaming already, or there is room."""
        with self.lock:
            now = time.monotonic()
            self.seen = {s: t for s, t in self.seen.items() if now - t < self.idle}
            if session not in self.seen and len(self.seen) >= self.cap:
                return False
            self.seen[session] = now
            return True


def gatys_limit(settings: Settings, seconds: float) -> float:
    """Seconds a Gatys run is given: the visitor's ``seconds`` within NST_GATYS_TIME_LIMIT. The run plans
    its scales to end by then (:func:`nst.methods.gatys.fit_scales`)."""
    return min(float(seconds), settings.gatys_seconds)


def video_frames(settings: Settings, clip: str | None) -> float:
    """The frames of ``clip`` the app would paint (its first NST_VIDEO_MAX_SECONDS); 0 for none or a bad
    one, which is refused inside, quickly."""
    try:
        info = video.probe(clip) if clip else None
    except (OSError, ValueError):
        return 0.0
    return min(info.seconds, settings.video_seconds) * info.fps if info else 0.0


class Durations:
    """ZeroGPU's budget for each endpoint, in seconds, from the settings and the request by parameter
    name (:func:`by_name`)."""

    @staticmethod
    def one_pass(settings: Settings, request: dict) -> float:
        """A one-pass picture: the network runs in well under a second."""
        return 20

    @staticmethod
    def gatys(settings: Settings, request: dict) -> float:
        """A Gatys run: its own time limit (:func:`gatys_limit`) and 20 s to spare."""
        return gatys_limit(settings, request["seconds"]) + 20

    @staticmethod
    def video(settings: Settings, request: dict) -> float:
        """A clip: 10 s, and 0.1 s a frame of the longest clip the app takes."""
        return 10 + 0.1 * video_frames(settings, request["clip"])

    @staticmethod
    def batch(settings: Settings, request: dict) -> float:
        """A batch: 10 s, and 2 s a photo."""
        return 10 + 2 * len(request["photos"] or [])

    @staticmethod
    def live(settings: Settings, request: dict) -> float:
        """A Live frame, one at a time."""
        return 5


def by_name(handler: Callable, seconds: Callable[[dict], float]) -> Callable[..., int]:
    """A ZeroGPU ``duration`` for ``handler``: it is called with the handler's own arguments, which
    are bound to the handler's signature, so that ``seconds`` reads them by name (defaults filled in)."""
    signature = inspect.signature(handler)

    def duration(*args: object, **kwargs: object) -> int:
        request = signature.bind_partial(*args, **kwargs)
        request.apply_defaults()
        return round(seconds(dict(request.arguments)))

    return duration


class OnGpu:
    """An endpoint method that runs under ``spaces.GPU`` for ``seconds(settings, request)``
    (:func:`by_name`), wrapped once for each handlers object it is read from. ZeroGPU pickles a
    call's arguments to its GPU process, so the method is wrapped bound: the handlers object (its
    lock, its Live streams) stays in this process. Elsewhere ``spaces.GPU`` gives the method back."""

    def __init__(self, endpoint: Callable, seconds: Callable[[Settings, dict], float]) -> None:
        self.endpoint, self.seconds = endpoint, seconds

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, handlers: object, owner: type | None = None) -> Callable:
        if handlers is None:
            return self.endpoint
        bound = self.endpoint.__get__(handlers, owner)
        duration = by_name(bound, functools.partial(self.seconds, handlers.settings))
        handlers.__dict__[self.name] = wrapped = spaces.GPU(duration=duration)(bound)
        return wrapped


def on_gpu(seconds: Callable[[Settings, dict], float]) -> Callable[[Callable], OnGpu]:
    """The decorator of an endpoint method that runs on a ZeroGPU GPU for ``seconds`` (:class:`OnGpu`)."""
    return functools.partial(OnGpu, seconds=seconds)
