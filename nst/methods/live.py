"""Live: a webcam's frames stylised one at a time as they arrive, steady as a clip's are.

A :class:`LiveSession` is one viewer's stream: the clip painter of :mod:`nst.methods.video`
(held norm statistics, scene cuts, the flow-guided blend) fed a frame at a time, so a stream
of frames gives the pictures a clip of the same frames gives. Its state is that session's own,
never the shared networks': two streams at once each hold their own. A new style starts the
steadiness afresh, as a scene cut does.
"""

from __future__ import annotations

from PIL import Image

from nst.base.images import resize_long_side
from nst.methods.engine import OnePassStyle
from nst.methods.video import Painter, VideoOptions


class LiveSession:
    """One stream's painter: :meth:`paint` each frame as it comes; :meth:`restyle` to change style.

    ``options`` are a clip's (:class:`~nst.methods.video.VideoOptions`; ``batch`` is 1 here):
    ``max_side`` shrinks frames first, and ``steady``, ``flow`` and ``cut`` keep the stream still.
    """

    def __init__(self, style: OnePassStyle, options: VideoOptions | None = None) -> None:
        self.options = options or VideoOptions()
        self.restyle(style)

    def restyle(self, style: OnePassStyle, options: VideoOptions | None = None) -> None:
        """Paint the next frames with ``style`` (and ``options``, if given), steadiness started afresh."""
        self.style, self.options = style, options or self.options
        self.painter = Painter(style, self.options)

    def paint(self, frame: Image.Image) -> Image.Image:
        """The next frame, painted and held steady against the frames before it."""
        side = self.options.max_side
        if side and max(frame.size) > side:
            frame = resize_long_side(frame, side)
        self.painter.add(frame.convert("RGB"))
        return self.painter.flush()[0]
