"""The queue's cap as a wait: a request is refused when the work ahead of it in its lane would take
longer than a visitor would wait (``NST_QUEUE_SECONDS``), not when a count of requests is reached.

:class:`Backlog` knows each endpoint's cost, measured on its runs (:meth:`Backlog.timed`), and the
runs going on. :class:`Gate`, an ASGI middleware of the app, asks it as a request joins the queue,
from the request as sent and the requests waiting in Gradio's queue. Gradio's own ``validator`` would
run on inputs already converted by their components, and a conversion's error (a value not in a
dropdown's list) would then reach an API client as a bare "400 Bad Request".
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from starlette.responses import JSONResponse

FIRST_COST = {
    "stylize_fast": 1.0,
    "stylize_arbitrary": 1.0,
    "contact_sheet": 3.0,
    "stylize_gatys": 1.0,
    "stylize_batch": 1.0,
    "stylize_video": 20.0,
}
"""Seconds a unit of each endpoint's work takes until its runs are measured, on a 2-core CPU: a
picture (0.5–1 s at the app's sizes), a contact sheet, a second of a Gatys run's time limit, a photo
of a batch, a clip."""
LEARNING = 0.3
"""How far each finished run moves its endpoint's cost per unit (an exponential average)."""


def units(endpoint: str, request: dict, gatys_seconds: float) -> float:
    """How much work ``request`` (the endpoint's arguments by name, as sent or as converted) is, in
    ``endpoint``'s units: a Gatys run's seconds (within ``gatys_seconds``), a batch's photos, else 1."""
    try:
        if endpoint == "stylize_gatys":
            return max(1.0, min(float(request.get("seconds") or gatys_seconds), gatys_seconds))
        if endpoint == "stylize_batch":
            return float(len(request.get("photos") or []) or 1)
    except (TypeError, ValueError):  # the endpoint refuses it, in one line
        pass
    return 1.0


def said(seconds: float) -> str:
    """A wait in words: "40 s", "3 min"."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


class Backlog:
    """Each endpoint's cost and the runs going on, to refuse a request that would wait over ``limit``
    seconds (``NST_QUEUE_SECONDS``; 0: never).

    A request joining a lane of ``n`` jobs at once waits ``w = (Σ_running max(0, uc − elapsed) +
    Σ_waiting uc) / n``: ``u``, each request's units (:func:`units`); ``c``, its endpoint's seconds a
    unit. A run that finishes teaches its endpoint's cost: ``c ← (1 − λ)·c + λ·t/u`` (:data:`LEARNING`)."""

    def __init__(self, limit: float, gatys_seconds: float) -> None:
        self.limit, self.gatys_seconds = limit, gatys_seconds
        self.lock, self.cost, self.running = threading.Lock(), dict(FIRST_COST), {}

    def expected(self, endpoint: str, request: dict) -> float:
        """Seconds ``request`` (by name) should take."""
        return units(endpoint, request, self.gatys_seconds) * self.cost[endpoint]

    def wait(self, lane: dict, waiting: Iterable[tuple[str, dict]]) -> float:
        """Seconds a request joining ``lane`` (an event's ``concurrency_id`` and ``concurrency_limit``)
        would wait behind the ``waiting`` requests (endpoint, request by name) and the runs there."""
        now = time.monotonic()
        with self.lock:
            running = list(self.running.get(lane["concurrency_id"], {}).values())
            queued = sum(self.expected(endpoint, request) for endpoint, request in waiting)
        left = sum(max(0.0, expected - (now - start)) for start, expected in running)
        return (left + queued) / lane["concurrency_limit"]

    def refusal(self, wait: float) -> str | None:
        """What a visitor who would wait ``wait`` seconds is told; None: they are admitted."""
        if not self.limit or wait <= self.limit:
            return None
        return (
            f"The queue holds about {said(wait)} of work ahead of this request; this Space takes requests "
            f"while the wait is under {said(self.limit)}. Please try again in a minute."
        )

    def timed(self, handler: Callable, lane: dict) -> Callable:
        """``handler`` (a function or a generator function) in ``lane``: its runs counted while they
        go on, and a finished one's seconds teach its cost; its requests admitted by :class:`Gate`."""
        signature, endpoint = inspect.signature(handler), handler.__name__

        @contextlib.contextmanager
        def run(args: tuple, kwargs: dict) -> Iterator[None]:
            request = signature.bind_partial(*args, **kwargs).arguments
            start, token = time.monotonic(), object()
            with self.lock:
                runs = self.running.setdefault(lane["concurrency_id"], {})
                runs[token] = (start, self.expected(endpoint, request))
            try:
                yield
            except BaseException:
                with self.lock:
                    del runs[token]
                raise
            with self.lock:
                del runs[token]
                work = units(endpoint, request, self.gatys_seconds)
                self.cost[endpoint] += LEARNING * ((time.monotonic() - start) / work - self.cost[endpoint])

        if inspect.isgeneratorfunction(handler):

            @functools.wraps(handler)
            def timed(*args: object, **kwargs: object) -> Iterator[object]:
                with run(args, kwargs):
                    yield from handler(*args, **kwargs)

        else:

            @functools.wraps(handler)
            def timed(*args: object, **kwargs: object) -> object:
                with run(args, kwargs):
                    return handler(*args, **kwargs)

        GATED[timed] = Gated(self, lane, endpoint, _inputs(signature))
        return timed


@dataclass(frozen=True)
class Gated:
    """An endpoint's function as :class:`Gate` finds it: its backlog, lane, name and parameters."""

    backlog: Backlog
    lane: dict
    endpoint: str
    parameters: list[str]


GATED: weakref.WeakKeyDictionary[Callable, Gated] = weakref.WeakKeyDictionary()
"""The functions :meth:`Backlog.timed` made, each with what admits its requests (weakly: an app closed
and dropped takes its own with it)."""


class Gate:
    """An ASGI middleware that refuses a request joining the queue (``/queue/join``, or ``/call/NAME``)
    for an endpoint of a :class:`Backlog` whose wait would be too long: a 422 whose ``detail`` is
    what Gradio's validators give, so the page shows the message on the first input and
    ``gradio_client`` raises a ``ValidationError`` carrying it."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "POST" or not _joins(path):
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        refused = _refused(scope["app"].get_blocks(), path, body)
        if refused is not None:
            return await JSONResponse({"detail": [refused]}, status_code=422)(scope, receive, send)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


def _joins(path: str) -> bool:
    return path.endswith("/queue/join") or "/call/" in path


def _refused(blocks: object, path: str, body: bytes) -> dict | None:
    """Gradio's validation error for the request ``body`` sent to ``path``, when its wait is too long."""
    try:
        sent = dict(json.loads(body))
    except (ValueError, TypeError):
        return None  # Gradio answers it
    if "/call/" in path:
        name = path.rsplit("/call/", 1)[1].strip("/")
        fns = [fn for fn in blocks.fns.values() if fn.api_name == name]
    else:
        fns = [blocks.fns[sent["fn_index"]]] if sent.get("fn_index") in blocks.fns else []
    gated = GATED.get(fns[0].fn) if fns else None
    if gated is None:
        return None
    message = gated.backlog.refusal(gated.backlog.wait(gated.lane, _waiting(blocks, gated.lane)))
    if message is None:
        return None
    return {
        "__type__": "validate",
        "is_valid": False,
        "message": message,
        "parameter_name": gated.parameters[0],
    }


def _waiting(blocks: object, lane: dict) -> list[tuple[str, dict]]:
    """The requests waiting in Gradio's queue for ``lane``, each its endpoint and its data by name, as
    sent. Gradio offers no public view of its queue: this reads its ``Queue`` (of the pinned version)."""
    waiting = blocks._queue.event_queue_per_concurrency_id.get(lane["concurrency_id"])
    found = []
    for event in list(waiting.queue) if waiting else []:
        gated = GATED.get(event.fn.fn)
        if gated is not None and event.data is not None:
            found.append((gated.endpoint, dict(zip(gated.parameters, event.data.data, strict=False))))
    return found


def _inputs(signature: inspect.Signature) -> list[str]:
    """The parameters an event's inputs fill, in order: all but Gradio's ``progress`` and ``request``."""
    return [name for name in signature.parameters if name not in ("progress", "request")]
