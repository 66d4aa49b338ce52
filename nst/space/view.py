"""The result view: one before/after slider at the picture's own size, and the visitor's history.

The endpoints write their picture to :attr:`ResultView.result`, a hidden image that is the API's
output; every change to it (Gatys' previews included) shows in the slider beside the photo that
made it, no larger than the picture itself, with its size in pixels underneath. Each finished
result joins the visitor's :class:`History`, a ``gr.State`` of their own session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import gradio as gr
from PIL import Image

from nst.base.recipes import file_digest
from nst.space.components import QUIET, image_upload
from nst.space.results import Results

VIEW_CSS = (
    "#nst-compare .slider-wrap img { width: 100%; height: auto; max-height: none; }\n"
    "#nst-view { position: sticky; top: .5rem; align-self: flex-start; }\n"
    ".gradio-container { overflow: clip !important; }"
)
"""The slider's two pictures at the width of its block, which :func:`shown` sets to the picture's own
(or less), so neither is ever stretched and the two stay in register; and the view kept in sight
beside the controls as the visitor scrolls down to a button (sticky: on a wide screen, where the
columns stand side by side; Gradio's container hides its overflow, which would make it the sticky
view's scroller, so it clips instead)."""
IN_SIGHT_JS = """() => {
  const view = document.getElementById('%s');
  const box = view && view.getBoundingClientRect();
  if (box && box.height && (box.top < 0 || box.top > window.innerHeight / 2)) {
    view.scrollIntoView({behavior: 'smooth', block: 'start'});
  }
}"""
"""Brings an element (``%s``: its id) into sight when a button paints, unless it already is: on a
narrow screen the result view stands under the controls."""
VIEW_HEIGHT = 512
"""The slider's tallest, in CSS pixels: a larger picture is shown scaled down (full screen shows it all)."""
HISTORY_COUNT = 12
"""Results a visitor's history keeps; the oldest goes first."""
HISTORY_MB = 64
"""Bytes on disk a visitor's history may hold (its files are results, cleaned with them)."""


@dataclass
class Entry:
    """One remembered result: its file and its caption (how it was made)."""

    path: str
    caption: str


@dataclass
class History:
    """A visitor's last results, newest first, bounded by :data:`HISTORY_COUNT` and :data:`HISTORY_MB`,
    and the style images they used, by digest (for Reuse settings)."""

    entries: list[Entry] = field(default_factory=list)
    styles: dict[str, str] = field(default_factory=dict)

    def remember(self, path: str, caption: str, style_files: Sequence[str] = ()) -> History:
        """This history with ``path`` first, made with ``style_files``; results the app has cleaned
        away, and the oldest over the bounds, are dropped, and style images now gone."""
        kept, total = [], 0
        for entry in [Entry(path, caption), *self.entries]:
            if len(kept) == HISTORY_COUNT or not Path(entry.path).exists():
                continue
            total += Path(entry.path).stat().st_size
            if total > HISTORY_MB * 2**20 and kept:
                break
            kept.append(entry)
        styles = {**self.styles, **{file_digest(f): f for f in style_files}}
        return History(kept, {d: f for d, f in styles.items() if Path(f).exists()})

    def gallery(self) -> list[tuple[str, str]]:
        return [(entry.path, entry.caption) for entry in self.entries]

    def recall(self, event: gr.SelectData) -> str:
        """The file of the result clicked, unless the app has since cleaned it away."""
        if not 0 <= event.index < len(self.entries) or not Path(self.entries[event.index].path).exists():
            gr.Info("That result has been cleaned away; drop its PNG on Reuse settings to paint it again.")
            return gr.skip()
        return self.entries[event.index].path


@dataclass
class ResultView:
    """The components of the view: the API's output, the slider, its caption and the history."""

    result: gr.Image
    compare: gr.ImageSlider
    caption: gr.Markdown
    history: gr.State
    recent: gr.Gallery
    reuse: gr.Image


def result_view() -> ResultView:
    """The view's components, laid out where it is called."""
    compare = gr.ImageSlider(
        label="Before / after: drag the line",
        type="filepath",
        format="png",
        image_mode=None,
        buttons=["download", "fullscreen"],
        max_height=VIEW_HEIGHT,
        min_width=0,  # Gradio's 160 px would stretch a smaller picture
        elem_id="nst-compare",
    )
    caption = gr.Markdown("", elem_id="nst-caption")
    result = gr.Image(  # image_mode None: a sticker's alpha kept as the view and history read it
        type="filepath", format="png", image_mode=None, interactive=False, visible=False, elem_id="nst-result"
    )
    recent = gr.Gallery(
        label="Your recent results (this browser only): click one to see it again",
        columns=6,
        height=140,
        allow_preview=False,
        object_fit="cover",
        fit_columns=False,
        elem_id="nst-history",
    )
    reuse = image_upload(
        "Reuse settings: drop a result PNG here", sources=["upload"], height=110, elem_id="nst-reuse"
    )
    return ResultView(result, compare, caption, gr.State(History(), time_to_live=3600), recent, reuse)


def in_sight(trigger: Callable[..., gr.events.Dependency], target: str = "nst-view") -> None:
    """When ``trigger`` fires (a button's ``click``), the browser brings the element whose id is
    ``target`` (the result view) into sight."""
    trigger(None, None, None, js=IN_SIGHT_JS % target, **QUIET)


def wire(view: ResultView, results: Results) -> None:
    """Each result shows in the slider (a click on a remembered one: :func:`nst.space.reuse.wire`)."""
    view.result.change(
        partial(shown, results), view.result, [view.compare, view.caption], api_name="show_result", **QUIET
    )


def shown(results: Results, result: str | None) -> tuple:
    """The slider's value for ``result`` and its width: the picture's own, or less for one taller than
    :data:`VIEW_HEIGHT`, never more; and its size in pixels, as the caption."""
    pair = None if result is None else results.before_after(result)
    if pair is None:
        return gr.update(value=None), ""
    with Image.open(result) as img:
        width, height = img.size
    scale = min(1.0, VIEW_HEIGHT / height)
    return gr.update(value=pair, width=round(width * scale)), f"**{width} × {height} px**"
