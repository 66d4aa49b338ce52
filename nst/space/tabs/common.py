"""What the tabs share: the page's common panes, wiring by name, the style picker, the regions editor."""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import gradio as gr
import torch

from nst.base.recipes import RecipeError, read_recipe
from nst.base.settings import Settings
from nst.methods import engine, fast
from nst.space.admission import lane
from nst.space.backlog import Backlog
from nst.space.components import QUIET, image_upload
from nst.space.registry import caption_of
from nst.space.results import Results
from nst.space.uploads import painted_layers
from nst.space.view import History, ResultView, in_sight

TILES_CSS = """
.nst-tiles .thumbnail-item { aspect-ratio: auto; height: auto; display: flex; flex-direction: column; }
.nst-tiles .thumbnail-item img { aspect-ratio: 1; height: auto; }
.nst-tiles .caption-label { position: static; max-width: none; opacity: 1; border: 0; border-radius: 0;
  text-align: center; padding: 2px 4px; }
#nst-sheet .caption-label { white-space: normal; }
"""
"""Galleries of styles (class ``nst-tiles``) caption each tile under its picture, not over it."""
TILE_ROW = 146
"""A row of :func:`style_picker`'s tiles, caption included, in CSS pixels on a laptop's screen."""


@dataclass
class Page:
    """What every tab reads and writes: the content, the result view, the catalogue, which methods
    cannot run, the examples, and where work runs."""

    content: gr.Image
    view: ResultView
    styles: list[tuple[str, str]]  # (title, name): shown, sent
    ready: dict
    disabled: set[str]
    examples: list[list[str]]  # (content, style image) pairs
    settings: Settings
    results: Results
    device: torch.device
    """Where the methods run: their lanes follow it (one shared lane on a CPU)."""
    build_device: torch.device
    """Where the work done while building runs (thumbnails, checks): the CPU, also on ZeroGPU."""
    backlog: Backlog
    """The work queued in each lane, shared by every visitor: who is admitted."""

    def lane(self, method: str) -> dict[str, str | int]:
        return lane(self.settings, method, self.device)

    def queued(self, handler: Callable, method: str) -> tuple[Callable, dict[str, str | int]]:
        """``handler`` in ``method``'s lane, timed for the backlog, which refuses a request that would
        wait too long there (:class:`~nst.space.backlog.Backlog`); and its event's lane."""
        where = self.lane(method)
        return self.backlog.timed(handler, where), where


@dataclass
class Form:
    """A tab as the page sees it: the tab (its id is its method's) and its handler's inputs by
    parameter name, for Reuse settings."""

    tab: gr.Tab
    inputs: object | None


def wire(handler: Callable, inputs: object) -> list[gr.components.Component]:
    """The components of ``inputs`` (a dataclass with a field per parameter of ``handler``, by name)
    in the order of the handler's signature; a parameter without a component, or a component
    without a parameter, is refused here, when the page is built."""
    names = [n for n in inspect.signature(handler).parameters if n not in ("progress", "request")]
    fields = [f.name for f in dataclasses.fields(inputs)]
    if sorted(names) != sorted(fields):
        raise TypeError(f"{handler.__name__} takes {names}, but the tab gives {fields}")
    return [getattr(inputs, name) for name in names]


def remembered(event: gr.events.Dependency, page: Page, caption: str, styles: Sequence[gr.Image]) -> None:
    """A finished result joins the visitor's history, captioned by its recipe (``caption`` when it has
    none), with the style images of ``styles`` it used."""
    view = page.view

    def remember(result: str | None, history: History, *files: str | None) -> tuple[History, list]:
        if result is not None:
            try:
                words = caption_of(read_recipe(result).recipe)
            except RecipeError:
                words = caption
            history = history.remember(result, words, [f for f in files if isinstance(f, str)])
        return history, history.gallery()

    event.then(remember, [view.result, view.history, *styles], [view.history, view.recent], **QUIET)


def examples(page: Page, method: str, style: gr.components.Component, fn: Callable, pairs: list) -> None:
    """Examples that run through the tab's own function, each cached on its first use (not at start)."""
    if method in page.disabled or not pairs:
        return
    gr.Examples(
        pairs,
        [page.content, style],
        page.view.result,
        fn=fn,
        cache_examples=True,
        cache_mode="lazy",
        api_visibility="private",
        label="Examples (content, style)",
    )


COLOURS = (
    ("The style's", "none"),
    ("Keep the {}'s colours", "luminance"),
    ("Match the {}'s palette", "histogram"),
)
"""The colour choices (:data:`~nst.base.color.PreserveColor`), in the visitor's words."""


def colours_radio(value: str, subject: str = "photo") -> gr.Radio:
    """The Colours radio: the style's own, the ``subject``'s kept under the style's light and texture
    (luminance), or the ``subject``'s palette given to the result (histogram)."""
    return gr.Radio(
        [(label.format(subject), choice) for label, choice in COLOURS],
        value=value,
        label="Colours",
        info=f"keeping the {subject}'s colours takes only the style's light and texture; "
        f"matching its palette moves the result's colours to the {subject}'s",
    )


def preserve_color_flag() -> gr.Checkbox:
    """The API's yes/no for keeping the photo's colours, hidden in the page, whose Colours radio says
    more: it decides only when the radio is left on the style's colours."""
    return gr.Checkbox(False, visible=False)


def scale_slider(options: engine.OnePassOptions, largest: int) -> gr.Slider:
    return gr.Slider(
        0,
        largest,
        value=options.working_side,
        step=32,
        label="Style scale: the size the network paints at (long side, px); smaller gives bigger strokes",
        info="0 paints at the photo's own size; detail is added back at full size either way",
    )


def style_picker(page: Page, elem_id: str, columns: int = 5) -> gr.Dropdown:
    """The catalogue's styles by thumbnail, each captioned with its title, ``columns`` to a row (5
    in a column of the page, 10 across it), and the dropdown a thumbnail picks in."""
    gallery = [
        (str(fast.thumbnail(name, device=page.build_device)), style.title)
        for name, style in page.ready.items()
    ]
    # Every thumbnail in view, none under a label badge: the label is a line of its own.
    gr.Markdown("**Pick a style**")
    picker = gr.Gallery(
        gallery,
        show_label=False,
        columns=columns,
        height=40 + TILE_ROW * math.ceil(len(gallery) / columns),  # every row, at a laptop's width
        allow_preview=False,
        object_fit="cover",
        elem_id=elem_id,
        elem_classes="nst-tiles",
    )
    style = gr.Dropdown(page.styles, value=next(iter(page.ready), None), label="Style")

    def pick(event: gr.SelectData) -> str:
        return list(page.ready)[event.index]

    picker.select(pick, None, style, **QUIET)
    return style


@dataclass
class Regions:
    """A tab's regions editor and the two masks it gives its function (API: mask, second_mask)."""

    editor: gr.ImageEditor
    mask: gr.Image
    second_mask: gr.Image


def _backdrop(content: str | bytes | None) -> dict | None:
    """The regions editor's canvas: the content photo, nothing painted yet."""
    return {"background": content, "layers": [], "composite": None} if isinstance(content, str) else None


def regions_editor(page: Page) -> Regions:
    """An accordion to paint, on the content photo, where each style goes: one layer per style."""
    with gr.Accordion("Regions: paint where each style goes", open=False):
        gr.Markdown(
            "Paint on the photo with the brush. Layer **Style**: where the style goes; layer **Second "
            "style**: where the second goes (left blank, it takes the rest). Unpainted: the photo stays."
        )
        editor = gr.ImageEditor(
            label="Regions",
            type="pil",
            image_mode="RGBA",
            sources=(),
            transforms=(),
            layers=gr.LayerOptions(allow_additional_layers=False, layers=["Style", "Second style"]),
            brush=gr.Brush(colors=["#e11d48", "#2563eb"], default_size=40),
            height=360,
        )
    regions = Regions(editor, image_upload("Mask", visible=False), image_upload("Second mask", visible=False))
    page.content.change(_backdrop, page.content, editor, **QUIET)
    return regions


def read_masks(trigger: Callable, regions: Regions, results: Results) -> gr.events.Dependency:
    """An event that reads the painted layers into the masks (off the queue), for ``.then``;
    ``trigger`` starts it: a button's ``click``, or another event's ``then``."""

    def masks(value: dict | None) -> tuple[str | None, str | None]:
        return painted_layers(value, results)

    return trigger(masks, regions.editor, [regions.mask, regions.second_mask], **QUIET)


def paint(
    page: Page, after: gr.events.Dependency, handler: Callable, inputs: object, caption: str, **event: object
) -> gr.events.Dependency:
    """After ``after``, ``handler`` on ``inputs`` (by name) into the result view, in its lane; the result
    joins the visitor's history (``caption`` if it carries no recipe), with its style images."""
    fn, queue = page.queued(handler, handler.__name__.removeprefix("stylize_"))
    dependency = after.then(fn, wire(handler, inputs), page.view.result, **queue, **event)
    styles = [
        getattr(inputs, name) for name in ("style_image", "second_style_image") if hasattr(inputs, name)
    ]
    remembered(dependency, page, caption, styles)
    return dependency


def run(
    page: Page,
    button: gr.Button,
    regions: Regions,
    handler: Callable,
    inputs: object,
    caption: str,
    **event: object,
) -> gr.events.Dependency:
    """``button`` brings the result view into sight, reads the regions' masks, then paints with
    ``handler`` (its endpoint, by its name)."""
    in_sight(button.click)
    masks = read_masks(button.click, regions, page.results)
    return paint(page, masks, handler, inputs, caption, api_name=handler.__name__, **event)
