"""The Space's wiring: tab inputs matched to handlers by name, ZeroGPU durations read by name, and
the one Gradio method the app overrides still Gradio's way to fetch a URL."""

from __future__ import annotations

import inspect
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gradio as gr
import pytest

from nst.base.settings import Settings
from nst.space.admission import Durations, Streams, by_name, gatys_limit
from nst.space.components import ClipUpload, ImageUpload
from nst.space.handlers import Handlers
from nst.space.presets import GATYS, Presets
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
