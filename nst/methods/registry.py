"""Each method declared once: what the library and its surfaces know of it, found by its id.

A :class:`Method` gathers a method's id (its recipes', its command's and its endpoint's name), its
label (what a person reads), its options class, the styles its recipes name, how a recipe is
painted again, and its health. :func:`register` adds one to :data:`METHODS`; the command line,
the Space and :mod:`~nst.methods.again` read them from there. Adding a method is its module, its
declaration here (or a :func:`register` call of its own), and its Space tab.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from PIL import Image

from nst.base.health import Health
from nst.base.recipes import DIGEST, RecipeError
from nst.methods import arbitrary, fast, gatys, video

Painter = Callable[..., Image.Image]
"""``paint(content, styles, options, masks=…, on_step=…) -> picture``: a recipe's run again."""


def _as_given(options: Any) -> Any:
    return options


@dataclass(frozen=True)
class Method:
    """A method: ``id``; ``label``; ``options``, its options class; ``styles``, what its recipes name
    (``"names"``: catalogue names, ``"images"``: style images' digests, ``"either"``); ``paint``,
    its picture painted again from a recipe (None: its recipes are not pictures, a clip's);
    ``health``, whether it can run with some options on a device (None: it has no check of its own);
    ``resolve``, its options made concrete before a recipe records them."""

    id: str
    label: str
    options: type
    styles: Literal["names", "images", "either"]
    paint: Painter | None
    health: Callable[[Any, torch.device], Health] | None = None
    resolve: Callable[[Any], Any] = _as_given

    def takes(self, styles: Sequence[str]) -> bool:
        """Whether ``styles`` (strings of one kind) are what this method's recipes name."""
        named = {s.startswith(DIGEST) for s in styles}
        return self.styles == "either" or named == {self.styles == "images"}


METHODS: dict[str, Method] = {}
"""The methods by id, in the order they were registered (the Space's tabs follow it)."""


def register(method: Method) -> Method:
    """``method`` found by its id from now on; an id already taken is refused."""
    if method.id in METHODS:
        raise ValueError(f"a method {method.id!r} is registered already")
    METHODS[method.id] = method
    return method


def find(method: str) -> Method:
    """The method whose id is ``method``; an id no method has is a :class:`RecipeError`."""
    if method not in METHODS:
        raise RecipeError(
            f"The recipe's method {method!r} is not one this version knows: {', '.join(METHODS)}."
        )
    return METHODS[method]


def _fast(
    content: Image.Image, styles: list, options: Any, masks: Any = None, on_step: Any = None
) -> Image.Image:
    return fast.stylize(content, styles, options, masks=masks)


def _arbitrary(
    content: Image.Image, styles: list, options: Any, masks: Any = None, on_step: Any = None
) -> Image.Image:
    return arbitrary.stylize(content, styles, options, masks=masks)


def _gatys(
    content: Image.Image, styles: list, options: Any, masks: Any = None, on_step: Any = None
) -> Image.Image:
    """The run followed to its last event, each given to ``on_step``; its last pastiche."""
    for event in gatys.stylize(content, styles, options, masks=masks):
        if on_step is not None:
            on_step(event)
    return event.image


FAST = register(
    Method("fast", "Fast", fast.FastOptions, "names", _fast, lambda options, device: fast.health(device))
)
ARBITRARY = register(
    Method(
        "arbitrary",
        "Any style",
        arbitrary.ArbitraryOptions,
        "images",
        _arbitrary,
        lambda options, device: arbitrary.health(device),
    )
)
GATYS = register(Method("gatys", "Gatys", gatys.GatysOptions, "images", _gatys, gatys.health, gatys.resolve))
VIDEO = register(Method("video", "Video", video.VideoOptions, "either", None))
