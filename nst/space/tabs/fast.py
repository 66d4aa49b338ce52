"""The Fast tab: catalogue styles by thumbnail, strength, colours, and two styles of one network blended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr

from nst.base.color import colour_choice
from nst.base.recipes import Recipe
from nst.methods.registry import FAST
from nst.space.components import QUIET
from nst.space.examples import catalogue_pairs
from nst.space.handlers import Handlers
from nst.space.registry import Shown, share
from nst.space.tabs.common import (
    Form,
    Page,
    colours_radio,
    examples,
    paint,
    preserve_color_flag,
    read_masks,
    regions_editor,
    run,
    scale_slider,
    style_picker,
)


@dataclass
class FastInputs:
    """The components :meth:`~nst.space.handlers.Handlers.stylize_fast` reads, by parameter name."""

    content: gr.Image
    style: gr.Dropdown
    strength: gr.Slider
    colours: gr.Radio
    preserve_color: gr.Checkbox
    second_style: gr.Dropdown
    second_style_share: gr.Slider
    working_side: gr.Slider
    mask: gr.Image
    second_mask: gr.Image


def tab(page: Page, handlers: Handlers) -> Form:
    options = handlers.presets.fast
    blendable = [(style.title, name) for name, style in page.ready.items() if style.index is not None]
    with gr.Tab(FAST.label, id=FAST.id) as made:
        style = style_picker(page, "nst-gallery")
        sheet_button = gr.Button("Paint every style on my photo", size="sm", interactive=bool(page.ready))
        sheet = gr.Gallery(
            label="Your photo in every style: click one to paint it",
            height="auto",
            visible=False,
            columns=5,
            allow_preview=False,
            object_fit="contain",
            elem_id="nst-sheet",
            elem_classes="nst-tiles",
        )
        strength = gr.Slider(0, 1, value=options.strength, step=0.05, label="Strength")
        colour = colours_radio(options.preserve_color)
        flag = preserve_color_flag()
        scale = scale_slider(options, page.settings.fast_side)
        with gr.Accordion("Blend two styles of one network", open=False):
            second = gr.Dropdown(
                [("None", ""), *blendable],
                value="",
                label="Blend with",
                info="built-in styles blend with each other, the styles of a set you trained likewise",
            )
            share = gr.Slider(0, 1, value=0.5, step=0.05, label="Share of the second style")
        regions = regions_editor(page)
        button = gr.Button("Stylise", variant="primary", interactive=FAST.id not in page.disabled)
        examples(page, FAST.id, style, handlers.stylize_fast, catalogue_pairs(page.ready))
    inputs = FastInputs(
        content=page.content,
        style=style,
        strength=strength,
        colours=colour,
        preserve_color=flag,
        second_style=second,
        second_style_share=share,
        working_side=scale,
        mask=regions.mask,
        second_mask=regions.second_mask,
    )
    run(page, button, regions, handlers.stylize_fast, inputs, FAST.label)
    fn, queue = page.queued(handlers.contact_sheet, FAST.id)
    painted = sheet_button.click(fn, page.content, sheet, api_name="contact_sheet", **queue)
    painted.then(_shown, None, sheet, **QUIET)
    chosen = sheet.select(_picked, None, style, **QUIET)
    masks = read_masks(chosen.then, regions, page.results)
    paint(page, masks, handlers.stylize_fast, inputs, FAST.label, api_visibility="private")
    return Form(made, inputs)


def _shown() -> dict:
    return gr.update(visible=True)


def _picked(event: gr.SelectData) -> str:
    """The style of the contact sheet's tile clicked: its name ends its caption, in parentheses."""
    return event.value["caption"].rsplit("(", 1)[-1].removesuffix(")")


def controls(recipe: Recipe, images: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of :meth:`~nst.space.handlers.Handlers.stylize_fast` that repeat ``recipe``."""
    o = recipe.options
    return {
        "style": recipe.styles[0],
        "second_style": recipe.styles[1] if len(recipe.styles) > 1 else "",
        "strength": o["strength"],
        "colours": colour_choice(o["preserve_color"]),
        "working_side": o["working_side"],
        "second_style_share": share(o),
    }


def describe(recipe: Recipe) -> str:
    return f"{FAST.label} · " + " + ".join(recipe.styles)


SHOWN = Shown(FAST.id, FAST.label, tab, controls=controls, describe=describe)
