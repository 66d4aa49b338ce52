"""Reuse settings: a result's recipe, read from its PNG, back into the controls of the tab that made it.

A recipe records the options objects a method ran with (:mod:`nst.base.recipes`); :func:`controls`
turns them back into the parameters of that tab's endpoint, by name, so the tab's dataclass of
inputs gives the component for each. The content photo comes from the PNG itself; a style image
named by its digest is taken from the visitor's session (their :class:`~nst.space.view.History`)
when it is still there, and otherwise one line asks for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import gradio as gr

from nst.base.recipes import Recipe, RecipeError, read_recipe, shown
from nst.space.components import QUIET
from nst.space.uploads import Upload
from nst.space.view import History

if TYPE_CHECKING:
    from nst.space.tabs.common import Form, Page

FORMS = ("fast", "arbitrary", "gatys")
"""The tabs whose results are PNGs with recipes, by the recipe's method."""
SHARE = 0.5
"""The second style's share when a recipe has one style (the tabs' default)."""


def _share(options: Mapping[str, Any]) -> float:
    """The second style's share ``s`` of a blend ``(1 − s, s)``."""
    blend = options.get("style_blend")
    return blend[1] / sum(blend) if blend and len(blend) == 2 and sum(blend) > 0 else SHARE


def _pictures(recipe: Recipe, images: Mapping[str, str]) -> dict[str, str | None]:
    """The style-image parameters, each the visitor's file for its digest (None when it is gone)."""
    found = [images.get(digest) for digest in recipe.styles]
    return {"style_image": found[0], "second_style_image": found[1] if len(found) > 1 else None}


def controls(recipe: Recipe, images: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of ``recipe``'s endpoint (``stylize_<method>``) that repeat it, by name, with
    the style images from ``images`` (digest → file); the content and masks are not among them."""
    o = recipe.options
    if recipe.method == "fast":
        return {
            "style": recipe.styles[0],
            "second_style": recipe.styles[1] if len(recipe.styles) > 1 else "",
            "strength": o["strength"],
            "preserve_color": o["preserve_color"],
            "working_side": o["working_side"],
            "second_style_share": _share(o),
        }
    if recipe.method == "arbitrary":
        return {
            **_pictures(recipe, images),
            "strength": o["strength"],
            "preserve_color": o["preserve_color"],
            "working_side": o["working_side"],
            "second_style_share": _share(o),
        }
    return {
        **_pictures(recipe, images),
        "steps": o["steps"],
        "size": o["size"],
        "style_weight": o["style_weight"],
        "preserve_color": o["preserve_color"] != "none",
        "optimizer": o["optimizer"],
        "seed": recipe.seed,
        "second_style_share": _share(o),
    }


def missing_line(recipe: Recipe, images: Mapping[str, str]) -> str:
    """One line asking for the style images the session no longer has, or ``""``."""
    gone = recipe.missing(images)
    if not gone:
        return ""
    which = ", ".join(shown(d) for d in gone)
    return f"Settings restored; add the style image again ({which}): it is no longer in this session."


def describe(recipe: Recipe) -> str:
    """A recipe in a few words, for a history caption: the method, its styles, its size or steps."""
    o = recipe.options
    if recipe.method == "fast":
        return "Fast · " + " + ".join(recipe.styles)
    styles = "two styles" if len(recipe.styles) > 1 else "a style image"
    if recipe.method == "arbitrary":
        return f"Any style · {styles}"
    return f"Gatys · {o['steps']} steps · {o['size']} px · seed {recipe.seed}"


def restore(page: Page, forms: Mapping[str, Form], tabs: gr.Tabs, upload: Upload, history: History) -> dict:
    """The controls ``upload``'s recipe sets, as updates by component: its tab, the content photo it
    carries, and that tab's options and styles. A file without a readable recipe changes nothing and
    gets one line; so does a style image the session no longer has."""
    if upload is None:
        return {}
    try:
        painted = read_recipe(upload, "That file" if isinstance(upload, bytes) else None)
    except RecipeError as err:
        gr.Warning(str(err))
        return {}
    recipe = painted.recipe
    if recipe.method not in FORMS:
        gr.Warning("That recipe is a clip's: the Video tab's settings are not restored from a file.")
        return {}
    inputs = forms[recipe.method].inputs
    updates = {getattr(inputs, name): value for name, value in controls(recipe, history.styles).items()}
    updates = {component: value for component, value in updates.items() if value is not None}
    line = missing_line(recipe, history.styles)
    if line:
        gr.Warning(line)
    return updates | {page.content: page.results.file(painted.content), tabs: gr.Tabs(selected=recipe.method)}


def wire(page: Page, forms: Mapping[str, Form], tabs: gr.Tabs) -> None:
    """A result PNG dropped on Reuse settings, or one clicked in the history, restores its controls."""
    view = page.view
    outputs = [page.content, tabs]
    for method in FORMS:
        inputs = forms[method].inputs
        outputs += [getattr(inputs, f.name) for f in dataclasses.fields(inputs)]
    outputs = list(dict.fromkeys(outputs))  # the content photo is every form's
    fn = partial(restore, page, forms, tabs)
    queued = {**QUIET, "queue": True}  # its one-line warnings are sent over the queue's stream
    view.reuse.upload(fn, [view.reuse, view.history], outputs, api_name="reuse_settings", **queued)
    view.recent.select(History.recall, view.history, view.result, **queued).then(
        fn, [view.result, view.history], outputs, api_name="reuse_settings", **queued
    )
