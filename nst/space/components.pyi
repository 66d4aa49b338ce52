# Gradio's stub of the component classes of components.py, as its ComponentMeta writes it when a
# component class is created and no stub is there: kept here, so that importing components.py
# writes nothing (tests/test_house.py fails when Gradio would write another). Regenerate it by
# deleting it and importing nst.space.components.
from __future__ import annotations

import gradio as gr
from gradio.data_classes import FileData, ImageData
from PIL import Image

from nst.space.components import inline_jpeg, undecoded
from nst.space.fetching import fetches_in_one_line

from gradio.events import Dependency

@fetches_in_one_line
class ImageUpload(gr.Image):
    """An image input whose upload reaches the app undecoded (:func:`undecoded`)."""

    is_template = True

    def preprocess(self, payload: FileData | None) -> str | bytes | None:
        return undecoded(payload)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


@fetches_in_one_line
class ClipUpload(gr.Video):
    """A video input whose URL, when one cannot be fetched, is refused in one line."""

    is_template = True
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


class FrameDisplay(gr.Image):
    """An image output sent inline (:func:`inline_jpeg`)."""

    is_template = True

    def postprocess(self, value: Image.Image | None) -> ImageData | None:  # type: ignore[override]
        return inline_jpeg(value)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component
