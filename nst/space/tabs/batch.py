"""The Batch tab: many photos in one style, their results as a gallery and one ZIP."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from nst.methods.registry import FAST
from nst.space.components import image_upload
from nst.space.handlers import Handlers
from nst.space.registry import Shown
from nst.space.tabs.common import Form, Page, colours_radio, scale_slider, style_picker, wire
from nst.space.view import in_sight


@dataclass
class BatchInputs:
    """The components :meth:`~nst.space.batches.Batches.stylize_batch` reads, by parameter name."""

    photos: gr.File
    style: gr.Dropdown
    style_image: gr.Image
    strength: gr.Slider
    colours: gr.Radio
    working_side: gr.Slider


def tab(page: Page, handlers: Handlers) -> Form:
    options = handlers.presets.fast
    with gr.Tab(SHOWN.label, id=SHOWN.id) as made:
        gr.Markdown(
            f"Paint up to {page.settings.batch_photos} photos in one style, one after another; the "
            "results come as a gallery and as one ZIP, each named after its photo."
        )
        photos = gr.File(
            label="Photos",
            file_count="multiple",
            file_types=["image"],
            type="filepath",
            elem_id="nst-batch-photos",
        )
        style = style_picker(page, "nst-batch-gallery", columns=10)
        style_image = image_upload(
            "Or any picture as the style (Any style: used instead of the style above)",
            sources=["upload", "clipboard"],
            height=200,
        )
        strength = gr.Slider(0, 1, value=options.strength, step=0.05, label="Strength")
        colours = colours_radio(options.preserve_color)
        scale = scale_slider(options, page.settings.fast_side)
        ready = not {FAST.id, "arbitrary"} <= page.disabled
        button = gr.Button("Paint all photos", variant="primary", interactive=ready)
        with gr.Column(elem_id="nst-batch-out"):
            report = gr.Markdown(elem_id="nst-batch-report")
            gallery = gr.Gallery(
                label="Results", columns=4, height="auto", object_fit="contain", elem_id="nst-batch-results"
            )
            archive = gr.File(label="All results (ZIP)", elem_id="nst-batch-zip")
    inputs = BatchInputs(
        photos=photos,
        style=style,
        style_image=style_image,
        strength=strength,
        colours=colours,
        working_side=scale,
    )
    in_sight(button.click, "nst-batch-out")
    fn, queue = page.queued(handlers.stylize_batch, SHOWN.id)
    button.click(
        fn,
        wire(handlers.stylize_batch, inputs),
        [gallery, archive, report],
        api_name="stylize_batch",
        **queue,
    )
    return Form(made, inputs)


SHOWN = Shown("batch", "Batch", tab, photo=False)
