"""The Gatys tab: the optimiser's controls, its loss network in one line, and its examples."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr

from nst.base.recipes import Recipe
from nst.methods import gatys
from nst.methods.registry import GATYS
from nst.networks import loss_network
from nst.space.components import image_upload
from nst.space.handlers import Handlers
from nst.space.registry import Shown, pictures, share
from nst.space.tabs.common import Form, Page, examples, regions_editor, run


@dataclass
class GatysInputs:
    """The components :meth:`~nst.space.handlers.Handlers.stylize_gatys` reads, by parameter name."""

    content: gr.Image
    style_image: gr.Image
    steps: gr.Slider
    size: gr.Slider
    style_weight: gr.Slider
    preserve_color: gr.Checkbox
    optimizer: gr.Radio
    seed: gr.Number
    second_style_image: gr.Image
    second_style_share: gr.Slider
    mask: gr.Image
    second_mask: gr.Image
    seconds: gr.Slider


def loss_network_line(chosen: loss_network.Chosen) -> None:
    """Which loss network runs, in one line; how to get VGG-19 one click away."""
    if chosen.name == "vgg19":
        gr.Markdown("Runs on VGG-19, as in the paper.")
        return
    gr.Markdown(f"Runs on **{chosen.title}**: {chosen.reason}.", elem_id="nst-loss-network")
    with gr.Accordion("Details: VGG-19 gives the paper's results", open=False):
        gr.Markdown(
            f"{chosen.details}\n\nPut torchvision's `vgg19-dcbb9e9d.pth` in torch's cache or point "
            "`NST_VGG_WEIGHTS` at it, then restart."
        )


def _network(page: Page, options: gatys.GatysOptions) -> str:
    """The loss network the tab runs on, in one line (VGG-19's defaults when Gatys cannot run)."""
    if GATYS.id in page.disabled:
        return "vgg19"
    chosen = gatys.loss_network_for(options, page.build_device)
    loss_network_line(chosen)
    return chosen.name


def tab(page: Page, handlers: Handlers) -> Form:
    options = handlers.presets.gatys
    with gr.Tab(GATYS.label, id=GATYS.id) as made:
        network = _network(page, options)
        style = image_upload("Style image", height=200)
        with gr.Row():
            steps = gr.Slider(1, page.settings.gatys_steps, value=options.steps, step=1, label="Steps")
            size = gr.Slider(
                64, page.settings.gatys_side, value=options.size, step=32, label="Largest size (long side)"
            )
            seconds = gr.Slider(
                5,
                page.settings.gatys_seconds,
                value=options.time_limit,
                step=1,
                label="Seconds",
                info="the result is the largest size that fits",
            )
        colour = gr.Checkbox(label="Keep the photo's colours")
        with gr.Accordion("Advanced", open=False):
            weight = gr.Slider(
                0.1, 50, value=gatys.DEFAULTS[network].style, step=0.1, label="Style weight (content is 1)"
            )
            optimizer = gr.Radio(
                list(gatys.OPTIMIZERS),
                value=options.optimizer or gatys.DEFAULTS[network].optimizer,
                label="Optimiser",
            )
            seed = gr.Number(options.seed, precision=0, label="Seed")
            second = image_upload("Second style to blend in (optional)", height=160)
            share = gr.Slider(0, 1, value=0.5, step=0.05, label="Share of the second style")
        regions = regions_editor(page)
        with gr.Row():
            button = gr.Button("Run", variant="primary", interactive=GATYS.id not in page.disabled)
            stop = gr.Button("Stop", variant="stop")
        examples(page, GATYS.id, style, handlers.stylize_gatys, page.examples)
    inputs = GatysInputs(
        content=page.content,
        style_image=style,
        steps=steps,
        size=size,
        style_weight=weight,
        preserve_color=colour,
        optimizer=optimizer,
        seed=seed,
        second_style_image=second,
        second_style_share=share,
        mask=regions.mask,
        second_mask=regions.second_mask,
        seconds=seconds,
    )
    # The progress bar in the caption under the view keeps each streamed pastiche in sight.
    event = run(
        page, button, regions, handlers.stylize_gatys, inputs, GATYS.label, show_progress_on=page.view.caption
    )
    stop.click(None, cancels=[event], api_visibility="private")
    return Form(made, inputs)


def controls(recipe: Recipe, images: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of :meth:`~nst.space.handlers.Handlers.stylize_gatys` that repeat ``recipe``."""
    o = recipe.options
    return {
        **pictures(recipe, images),
        "steps": o["steps"],
        "size": o["size"],
        "style_weight": o["style_weight"],
        "preserve_color": o["preserve_color"] != "none",
        "optimizer": o["optimizer"],
        "seed": recipe.seed,
        "second_style_share": share(o),
    }


def describe(recipe: Recipe) -> str:
    o = recipe.options
    return f"{GATYS.label} · {o['steps']} steps · {o['size']} px · seed {recipe.seed}"


SHOWN = Shown(GATYS.id, GATYS.label, tab, controls=controls, describe=describe)
