"""The tabs' examples: the shipped photos and paintings (``nst/pictures/``, public domain or CC0)."""

from __future__ import annotations

from collections.abc import Iterable

from nst.base.pictures import PAINTINGS, PHOTOS, picture

FAST_STYLES = ("builtin_19", "builtin_13", "builtin_25", "builtin_16")
"""The built-in style each shipped photo shows in the Fast tab's examples, photo by photo (chosen by
looking: each keeps its photo recognisable)."""


def painting_pairs() -> list[list[str]]:
    """(content photo, style painting) paths for the Any style and Gatys tabs (``page.examples``):
    every shipped photo, with the paintings in turn."""
    return [
        [str(picture(photo)), str(picture(PAINTINGS[i % len(PAINTINGS)]))] for i, photo in enumerate(PHOTOS)
    ]


def catalogue_pairs(ready: Iterable[str]) -> list[list[str]]:
    """(content photo path, built-in style name) for the Fast tab: each shipped photo with its style of
    :data:`FAST_STYLES`, those whose style is among ``ready``."""
    names = set(ready)
    return [
        [str(picture(photo)), style]
        for photo, style in zip(PHOTOS, FAST_STYLES, strict=True)
        if style in names
    ]
