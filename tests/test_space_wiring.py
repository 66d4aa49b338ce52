"""The Space's wiring: tab inputs matched to handlers by name, ZeroGPU durations read by name."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pytest

from nst.base.settings import Settings
from nst.space.admission import Durations, Streams, by_name, gatys_limit
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
    gatys = by_name(app.stylize_gatys, Durations(settings).gatys)
    asked = round(gatys_limit(settings, 300) + 20)
    assert gatys("photo", "painting", seconds=300) == asked == 320
    assert gatys("photo", "painting") == round(GATYS.time_limit + 20)
    assert gatys("photo", "painting", seconds=5000) == 1020, "within NST_GATYS_TIME_LIMIT"
    one_pass = by_name(app.stylize_fast, Durations(settings).one_pass)
    assert one_pass("photo", "builtin_00") == 20
