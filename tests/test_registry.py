"""Each method declared once: a method registered by a test of its own is a tab of the built app,
an endpoint, an MCP tool, and a recipe that paints again."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import numpy as np
import pytest
from gradio.mcp import GradioMCPServer
from PIL import Image, ImageOps

from nst.base.options import check_fraction, option
from nst.base.recipes import read_recipe
from nst.methods import again, fast, registry
from nst.space import registry as space_registry
from nst.space.tabs.common import Form, Page
from nst.space.uploads import Upload
from tests.support.pictures import synthetic


@dataclass(frozen=True)
class InvertOptions:
    strength: float = option(1.0, "0 gives the photo back, 1 its negative")

    def __post_init__(self) -> None:
        check_fraction("strength", self.strength)


def invert(content: Image.Image, styles: list, options: InvertOptions, **_: object) -> Image.Image:
    """``(1 − s)·x + s·(255 − x)`` for strength ``s``."""
    return Image.blend(content, ImageOps.invert(content), options.strength)


INVERT = registry.Method("invert", "Negative", InvertOptions, "names", invert)


def tab(page: Page, handlers: object) -> Form:
    with gr.Tab(INVERT.label, id=INVERT.id) as made:
        strength = gr.Slider(0, 1, value=1, label="Strength")
        button = gr.Button("Invert")

    def stylize_invert(content: Upload, strength: float = 1.0) -> str:
        """Paint a photo as its own negative.

        Args:
            content: the photo, as an image file or URL.
            strength: 0 gives the photo back, 1 its negative.

        Returns:
            The path of the PNG.
        """
        image = handlers.uploads.image(content, "content", 256)
        options = InvertOptions(float(strength))
        made = again.recipe(INVERT.id, ["negative"], options)
        return page.results.png(invert(image, [], options), image, made)

    button.click(
        stylize_invert,
        [page.content, strength],
        page.view.result,
        api_name="stylize_invert",
        **page.lane("invert"),
    )
    return Form(made, None)


@pytest.fixture
def invert_registered():
    """The invert method registered in the library and the Space for one test, and then forgotten."""
    registry.register(INVERT)
    space_registry.register(space_registry.Shown(INVERT.id, INVERT.label, tab))
    try:
        yield
    finally:
        del registry.METHODS[INVERT.id], space_registry.TABS[INVERT.id]


def test_a_method_registered_once_is_a_tab_an_endpoint_an_mcp_tool_and_a_recipe_that_paints_again(
    invert_registered, settings, tmp_path, monkeypatch
):
    from nst.space.layout import build

    monkeypatch.setattr(fast, "ready_styles", lambda device=None: {})  # no thumbnails to paint: quick
    demo = build(settings(), states={})
    [shown] = [b for b in demo.blocks.values() if isinstance(b, gr.Tab) and b.id == INVERT.id]
    assert shown.label == "Negative"
    endpoint = demo.get_api_info()["named_endpoints"]["/stylize_invert"]
    assert [p["parameter_name"] for p in endpoint["parameters"]] == ["content", "strength"]
    assert GradioMCPServer(demo).tool_to_endpoint["stylize_invert"] == "/stylize_invert"
    [fn] = [fn for fn in demo.fns.values() if fn.api_name == "stylize_invert"]
    synthetic(48, 32).save(tmp_path / "photo.png")
    served = fn.fn(str(tmp_path / "photo.png"), 0.75)
    painted = read_recipe(served)
    assert (painted.recipe.method, painted.recipe.options) == ("invert", {"strength": 0.75})
    repainted = np.asarray(again.paint_again(painted.recipe, painted.content))
    assert np.array_equal(repainted, np.asarray(Image.open(served).convert("RGB")))
    assert np.array_equal(repainted, np.asarray(invert(synthetic(48, 32), [], InvertOptions(0.75))))
