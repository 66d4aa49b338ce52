"""The Space's wiring: tab inputs matched to handlers by name, ZeroGPU durations read by name, and
the one Gradio method the app overrides still Gradio's way to fetch a URL."""

from __future__ import annotations

import dataclasses
import inspect
import math
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
import torch

from nst.base.images import fit_long_side
from nst.base.settings import Settings
from nst.methods import gatys
from nst.methods.gatys import planner
from nst.space.admission import Durations, Streams, by_name, gatys_limit
from nst.space.components import ClipUpload, ImageUpload
from nst.space.handlers import Handlers
from nst.space.presets import GATYS, Presets, gatys_side, gatys_size
from nst.space.results import Results
from nst.space.tabs.common import wire


def handlers(settings: Settings) -> Handlers:
    results = Results(Path(tempfile.mkdtemp(prefix="nst-wiring-")))
    return Handlers(settings, Presets.from_settings(settings), results, Streams(1))


@dataclass
class Three:
    content: object
    style: object
    strength: object


def test_a_tab_gives_each_parameter_of_its_handler_a_component_in_the_handlers_order():
    def paint(content, strength, style, progress=None):
        """``progress`` is Gradio's, not a component."""

    with gr.Blocks():
        inputs = Three(gr.Image(), gr.Dropdown(), gr.Slider())
    assert wire(paint, inputs) == [inputs.content, inputs.strength, inputs.style]

    def more(content, style, strength, working_side):
        pass

    with pytest.raises(TypeError, match="working_side"):
        wire(more, inputs)
    with pytest.raises(TypeError, match="strength"):
        wire(lambda content, style: None, inputs)


def test_zerogpu_durations_read_the_request_by_name_with_its_defaults():
    settings = Settings(gatys_seconds=1000)
    app = handlers(settings)
    gatys = by_name(app.stylize_gatys, partial(Durations.gatys, settings))
    asked = round(gatys_limit(settings, 300) + 20)
    assert gatys("photo", "painting", seconds=300) == asked == 320
    assert gatys("photo", "painting") == round(GATYS.time_limit + 20)
    assert gatys("photo", "painting", seconds=5000) == 1020, "within NST_GATYS_TIME_LIMIT"
    one_pass = by_name(app.stylize_fast, partial(Durations.one_pass, settings))
    assert one_pass("photo", "builtin_00") == 20


def test_the_gradio_method_the_uploads_override_is_still_how_gradio_fetches_a_url():
    """The day Gradio renames ``async_move_resource_to_block_cache``, changes its parameters, or
    fetches a URL some other way, the uploads' one-line refusals would silently stop: this fails."""
    from gradio import processing_utils
    from gradio.components import Component

    theirs = Component.async_move_resource_to_block_cache
    assert "await block.async_move_resource_to_block_cache(" in inspect.getsource(processing_utils)
    assert inspect.iscoroutinefunction(theirs)
    for upload in (ImageUpload, ClipUpload):
        ours = upload.async_move_resource_to_block_cache
        assert ours is not theirs and inspect.iscoroutinefunction(ours), upload
        assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)


def test_each_endpoint_is_wrapped_once_bound_for_zerogpu_with_its_own_duration(monkeypatch):
    """ZeroGPU pickles a call's arguments to its GPU process: the endpoints are wrapped bound, so the
    handlers object (its Live streams) stays here, and once, so its GPU process is reused."""
    import spaces

    wrapped = {}

    def gpu(duration):
        def wrap(task):
            wrapped[task.__name__] = (task, duration)
            return task

        return wrap

    monkeypatch.setattr(spaces, "GPU", gpu)
    app = handlers(Settings(gatys_seconds=1000))
    endpoints = ["contact_sheet", *(f"stylize_{m}" for m in ("fast", "arbitrary", "gatys", "video", "live"))]
    assert all(getattr(app, name) is getattr(app, name) for name in endpoints)
    assert sorted(wrapped) == sorted(endpoints)
    assert all(task.__self__ is app for task, _ in wrapped.values())
    assert wrapped["stylize_gatys"][1]("photo", "painting", seconds=300) == 320
    assert wrapped["stylize_arbitrary"][1]("photo", "painting") == 20
    assert wrapped["stylize_live"][1](None, None, "builtin_00", None, 1.0, False, None) == 5


def test_the_largest_gatys_size_follows_the_loss_network_and_the_device():
    settings, cpu, gpu = Settings(), torch.device("cpu"), torch.device("cuda")
    assert gatys_side(settings, "vgg19", cpu) == settings.gatys_side == 512
    assert gatys_side(settings, "mobilenet", cpu) == settings.gatys_mobilenet_side == 2048
    assert gatys_side(settings, "vgg19", gpu) == gatys_side(settings, "mobilenet", gpu) == 2048
    assert (gatys_size(settings, "vgg19", cpu), gatys_size(settings, "mobilenet", cpu)) == (512, 1024)
    assert gatys_size(dataclasses.replace(settings, gatys_mobilenet_side=768), "mobilenet", cpu) == 768


def test_the_spaces_default_mobilenet_run_plans_1024_px_within_its_seconds(monkeypatch):
    """A MobileNetV2 step on a 2-core CPU costs about 7·10⁻⁷ s a pixel (0.52 s at 1024 × 768, 0.3 s at
    724 × 543), and a scale's first two steps as much again: on that clock the Space's default run
    on a 4:3 photo plans its way up to 1024 px, and its plan fits in its seconds."""
    options = gatys.resolve(
        dataclasses.replace(
            GATYS, loss_network="mobilenet", size=gatys_size(Settings(), "mobilenet", torch.device("cpu"))
        )
    )
    clock = [0.0]
    monkeypatch.setattr(planner, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    scales = planner._scales(options, (1024, 768), 0.0)
    scale, done, sides = next(scales), 0, []
    while scale is not None:
        step = 7e-7 * math.prod(fit_long_side((1024, 768), scale.side))
        clock[0] += (scale.steps + 2) * step
        done += scale.steps
        sides.append(scale.side)
        scale = planner._next(scales, (done, step))
    assert sides[-1] == 1024 and clock[0] <= options.time_limit == 30, (sides, clock)
