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
from nst.space.tabs import TABS
from nst.space.uploads import Upload
from nst.space.view import History

if TYPE_CHECKING:
    from nst.space.tabs.common import Form, Page


def controls(recipe: Recipe, images: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of ``recipe``'s endpoint (``stylize_<method>``) that repeat it, by name, with
    the style images from ``images`` (digest → file), as its tab reads them
    (:attr:`~nst.space.registry.Shown.controls`); the content and masks are not among them."""
    return TABS[recipe.method].controls(recipe, images)


def missing_line(recipe: Recipe, images: Mapping[str, str]) -> str:
    """One line asking for the style images the session no longer has, or ``""``."""
    gone = recipe.missing(images)
    if not gone:
        return ""
    which = ", ".join(shown(d) for d in gone)
    return f"Settings restored; add the style image again ({which}): it is no longer in this session."


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
    if recipe.method not in restorable(forms):
        label = TABS[recipe.method].label if recipe.method in TABS else recipe.method
        gr.Warning(f"That recipe is a {label} recipe: its tab's settings are not restored from a file.")
        return {}
    inputs = forms[recipe.method].inputs
    updates = {getattr(inputs, name): value for name, value in controls(recipe, history.styles).items()}
    updates = {component: value for component, value in updates.items() if value is not None}
    line = missing_line(recipe, history.styles)
    if line:
        gr.Warning(line)
    return updates | {page.content: page.results.file(painted.content), tabs: gr.Tabs(selected=recipe.method)}


def restorable(forms: Mapping[str, Form]) -> list[str]:
    """The methods of ``forms`` whose recipes restore their tab's controls."""
    return [method for method in forms if TABS[method].controls is not None]


def wire(page: Page, forms: Mapping[str, Form], tabs: gr.Tabs) -> None:
    """A result PNG dropped on Reuse settings, or one clicked in the history, restores its controls."""
    view = page.view
    outputs = [page.content, tabs]
    for method in restorable(forms):
        inputs = forms[method].inputs
        outputs += [getattr(inputs, f.name) for f in dataclasses.fields(inputs)]
    outputs = list(dict.fromkeys(outputs))  # the content photo is every form's
    fn = partial(restore, page, forms, tabs)
    queued = {**QUIET, "queue": True}  # its one-line warnings are sent over the queue's stream
    view.reuse.upload(fn, [view.reuse, view.history], outputs, api_name="reuse_settings", **queued)
    view.recent.select(History.recall, view.history, view.result, **queued).then(
        fn, [view.result, view.history], outputs, api_name="reuse_settings", **queued
    )
