"""Each method as the Space shows it, declared once by its tab's module and found by its id.

A :class:`Shown` gathers what the page needs of a method beyond the library's declaration
(:mod:`nst.methods.registry`): its tab, whether the tab shows the shared photo and result panes,
and how a recipe of it is read back into the tab's controls and captioned. The endpoint a tab wires
is a :class:`~nst.space.handlers.Handlers` method, named ``stylize_<id>``, under its GPU decorator.
:mod:`nst.space.tabs` registers the built-in tabs in order; the layout, the lanes and Reuse
settings read :data:`TABS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nst.base.recipes import Recipe

if TYPE_CHECKING:
    from nst.space.handlers import Handlers
    from nst.space.tabs.common import Form, Page

SHARE = 0.5
"""The second style's share when a recipe has one style (the tabs' default)."""


@dataclass(frozen=True)
class Shown:
    """A method's tab: ``id`` (the library method's, the tab's and the recipe's); ``label``, its
    title; ``tab(page, handlers)``, which lays it out and wires its endpoint; ``photo``, whether it
    paints the shared content photo (and so shows it and the result view); ``controls(recipe,
    images)``, the endpoint's parameters that repeat a recipe, by name (None: not restored);
    ``describe(recipe)``, a history caption."""

    id: str
    label: str
    tab: Callable[[Page, Handlers], Form]
    photo: bool = True
    controls: Callable[[Recipe, Mapping[str, str]], dict[str, Any]] | None = None
    describe: Callable[[Recipe], str] | None = None


TABS: dict[str, Shown] = {}
"""The tabs by method id, in the page's order."""


def register(shown: Shown) -> Shown:
    """``shown`` a tab of the page from now on; an id already taken is refused."""
    if shown.id in TABS:
        raise ValueError(f"a tab {shown.id!r} is registered already")
    TABS[shown.id] = shown
    return shown


def caption_of(recipe: Recipe) -> str:
    """A recipe in a few words, by its method's tab (its label when it has no words of its own)."""
    shown = TABS.get(recipe.method)
    if shown is None:
        return recipe.method
    return shown.describe(recipe) if shown.describe else shown.label


def share(options: Mapping[str, Any]) -> float:
    """The second style's share ``s`` of a blend ``(1 − s, s)``."""
    blend = options.get("style_blend")
    return blend[1] / sum(blend) if blend and len(blend) == 2 and sum(blend) > 0 else SHARE


def pictures(recipe: Recipe, images: Mapping[str, str]) -> dict[str, str | None]:
    """The style-image parameters, each the visitor's file for its digest (None when it is gone)."""
    found = [images.get(digest) for digest in recipe.styles]
    return {"style_image": found[0], "second_style_image": found[1] if len(found) > 1 else None}


def styles_word(recipe: Recipe) -> str:
    """ "two styles" or "a style image", for a caption."""
    return "two styles" if len(recipe.styles) > 1 else "a style image"
