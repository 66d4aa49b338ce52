"""The Any style tab: any picture as the style, and a second one blended by embedding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr

from nst.base.color import colour_choice
from nst.base.recipes import Recipe
from nst.methods.registry import ARBITRARY
from nst.space.components import image_upload
from nst.space.handlers import Handlers
from nst.space.registry import Shown, pictures, share, styles_word
from nst.space.tabs.common import (
    Form,
    Page,
    colours_radio,
    examples,
    preserve_color_flag,
    regions_editor,
    run,
    scale_slider,
)


@dataclass
class AnyStyleInputs:
    """The components :meth:`~nst.space.handlers.Handlers.stylize_arbitrary` reads, by parameter name."""

    content: gr.Image
    style_image: gr.Image
    strength: gr.Slider
    colours: gr.Radio
    preserve_color: gr.Checkbox
    second_style_image: gr.Image
    second_style_share: gr.Slider
    working_side: gr.Slider
    mask: gr.Image
    second_mask: gr.Image


def tab(page: Page, handlers: Handlers) -> Form:
    options = handlers.presets.arbitrary
    with gr.Tab(ARBITRARY.label, id=ARBITRARY.id) as made:
        style = image_upload("Style image", height=200)
        strength = gr.Slider(0, 1, value=options.strength, step=0.05, label="Strength")
        colour = colours_radio(options.preserve_color)
        flag = preserve_color_flag()
        scale = scale_slider(options, page.settings.arbitrary_side)
        with gr.Accordion("Blend a second style", open=False):
            second = image_upload("Second style (optional)", height=160)
            share = gr.Slider(0, 1, value=0.5, step=0.05, label="Share of the second style")
        regions = regions_editor(page)
        button = gr.Button("Stylise", variant="primary", interactive=ARBITRARY.id not in page.disabled)
        examples(page, ARBITRARY.id, style, handlers.stylize_arbitrary, page.examples)
    inputs = AnyStyleInputs(
        content=page.content,
        style_image=style,
        strength=strength,
        colours=colour,
        preserve_color=flag,
        second_style_image=second,
        second_style_share=share,
        working_side=scale,
        mask=regions.mask,
        second_mask=regions.second_mask,
    )
    run(page, button, regions, handlers.stylize_arbitrary, inputs, ARBITRARY.label)
    return Form(made, inputs)


def controls(recipe: Recipe, images: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of :meth:`~nst.space.handlers.Handlers.stylize_arbitrary` that repeat ``recipe``."""
    o = recipe.options
    return {
        **pictures(recipe, images),
        "strength": o["strength"],
        "colours": colour_choice(o["preserve_color"]),
        "working_side": o["working_side"],
        "second_style_share": share(o),
    }


def describe(recipe: Recipe) -> str:
    return f"{ARBITRARY.label} · {styles_word(recipe)}"


SHOWN = Shown(ARBITRARY.id, ARBITRARY.label, tab, controls=controls, describe=describe)
