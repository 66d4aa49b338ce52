"""The Gatys tab: the optimiser's controls, its loss network in one line, and its examples."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr
import torch

from nst.base.recipes import Recipe
from nst.base.settings import Settings
from nst.methods import gatys
from nst.methods.registry import GATYS
from nst.networks import loss_network
from nst.space.components import image_upload
from nst.space.handlers import Handlers
from nst.space.presets import gatys_side, gatys_size
from nst.space.registry import Shown, pictures, share
from nst.space.tabs.common import (
    Form,
    Page,
    colours_radio,
    examples,
    preserve_color_flag,
    regions_editor,
    run,
)


@dataclass
class GatysInputs:
    """The components :meth:`~nst.space.handlers.Handlers.stylize_gatys` reads, by parameter name."""

    content: gr.Image
    style_image: gr.Image
    steps: gr.Slider
    size: gr.Slider
    style_weight: gr.Number
    colours: gr.Radio
    preserve_color: gr.Checkbox
    optimizer: gr.Radio
    seed: gr.Number
    second_style_image: gr.Image
    second_style_share: gr.Slider
    mask: gr.Image
    second_mask: gr.Image
    seconds: gr.Slider
    loss_network: gr.Radio


CHOICES = {
    "vgg19": "VGG-19 (the paper's; slower on a CPU)",
    "mobilenet": "MobileNetV2 (faster, larger pictures)",
}
"""The loss networks as the tab offers them."""


def loss_network_line(chosen: loss_network.Chosen) -> None:
    """Why the tab runs on MobileNetV2 when VGG-19 cannot run, in one line; how to get VGG-19 one
    click away."""
    if chosen.name == "vgg19":
        return
    gr.Markdown(f"Runs on **{chosen.title}**: {chosen.reason}.", elem_id="nst-loss-network")
    with gr.Accordion("Details: VGG-19 gives the paper's results", open=False):
        gr.Markdown(
            f"{chosen.details}\n\nPut torchvision's `vgg19-dcbb9e9d.pth` in torch's cache or point "
            "`NST_VGG_WEIGHTS` at it, then restart."
        )


def _networks(page: Page, options: gatys.GatysOptions) -> tuple[str, list[str]]:
    """The loss network the tab starts on, why in one line when it is not VGG-19, and those that can
    run here (VGG-19's defaults when Gatys cannot run)."""
    if GATYS.id in page.disabled:
        return "vgg19", ["vgg19"]
    chosen = gatys.loss_network_for(options, page.build_device)
    loss_network_line(chosen)
    can = [n for n in CHOICES if gatys.health(gatys.GatysOptions(loss_network=n), page.build_device).ready]
    return chosen.name, can


def _follow(settings: Settings, device: torch.device) -> Callable[[str, float], gr.Slider]:
    """The size slider when the visitor picks a loss network: its maximum that network's largest
    here, the size kept within it."""

    def follow(network: str, size: float) -> gr.Slider:
        largest = gatys_side(settings, network, device)
        return gr.Slider(maximum=largest, value=min(size, largest))

    return follow


def _run_controls(
    page: Page, options: gatys.GatysOptions, network: str, can: list[str]
) -> tuple[gr.Radio, gr.Slider, gr.Slider, gr.Slider]:
    """The loss network's choice among those that ``can`` run, and the steps, size and seconds, the
    size starting at the ``network``'s (its slider's maximum follows the network a visitor picks)."""
    chosen = gr.Radio(
        [(CHOICES[n], n) for n in can],
        value=network,
        label="Loss network",
        info="the network whose features the losses compare",
    )
    with gr.Row():
        steps = gr.Slider(1, page.settings.gatys_steps, value=options.steps, step=1, label="Steps")
        largest = {n: gatys_side(page.settings, n, page.device) for n in can}
        size = gr.Slider(  # API calls are checked against this maximum: the largest of any network's
            64,
            max(largest.values()),
            value=gatys_size(page.settings, network, page.device),
            step=32,
            label="Largest size (long side)",
            info=", ".join(f"{loss_network.TITLES[n]} up to {side}" for n, side in largest.items()),
        )
        seconds = gr.Slider(
            5,
            page.settings.gatys_seconds,
            value=options.time_limit,
            step=1,
            label="Seconds",
            info="the result is the largest size that fits",
        )
    return chosen, steps, size, seconds


def tab(page: Page, handlers: Handlers) -> Form:
    options = handlers.presets.gatys
    with gr.Tab(GATYS.label, id=GATYS.id) as made:
        network, can = _networks(page, options)
        style = image_upload("Style image", height=200)
        chosen, steps, size, seconds = _run_controls(page, options, network, can)
        colour = colours_radio("none")
        flag = preserve_color_flag()
        with gr.Accordion("Advanced", open=False):
            # Empty by default, here and in the API: each loss network's own (gatys.DEFAULTS).
            weight = gr.Number(
                None,
                minimum=0,
                label="Style weight (content is 1)",
                info="empty: the loss network's, 10 on VGG-19, 7.5 on MobileNetV2",
            )
            optimizer = gr.Radio(
                list(gatys.OPTIMIZERS),
                value=options.optimizer,
                label="Optimiser",
                info="none picked: the loss network's, L-BFGS on VGG-19, Adam on MobileNetV2",
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
        colours=colour,
        preserve_color=flag,
        optimizer=optimizer,
        seed=seed,
        second_style_image=second,
        second_style_share=share,
        mask=regions.mask,
        second_mask=regions.second_mask,
        seconds=seconds,
        loss_network=chosen,
    )
    # On the visitor's pick only: a recipe put back sets the network and its own size.
    chosen.input(_follow(page.settings, page.device), [chosen, size], size, api_visibility="private")
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
        "colours": o["preserve_color"],
        "optimizer": o["optimizer"],
        "seed": recipe.seed,
        "second_style_share": share(o),
        "loss_network": o["loss_network"],
    }


def describe(recipe: Recipe) -> str:
    o = recipe.options
    network = loss_network.TITLES[o["loss_network"]]
    return f"{GATYS.label} on {network} · {o['steps']} steps · {o['size']} px · seed {recipe.seed}"


SHOWN = Shown(GATYS.id, GATYS.label, tab, controls=controls, describe=describe)
