"""Painting a clip's frames in batches with held statistics (:class:`Painter`) and the flow-guided
blend (:class:`FlowBlend`).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from nst.methods import engine
from nst.methods.engine import OnePassStyle
from nst.methods.video.options import FlowPreset, VideoOptions
from nst.networks.norms import Running, norms


def _is_cut(previous: np.ndarray | None, thumb: np.ndarray, threshold: float) -> bool:
    """Whether the picture changed as a whole: mean absolute change of a 32×32 thumbnail."""
    if previous is None:
        return False
    return float(np.abs(previous - thumb).mean()) / 255 > threshold


def _thumb(frame: Image.Image) -> np.ndarray:
    return np.asarray(frame.resize((32, 32), Image.Resampling.BOX), dtype=np.float32)


PHOTOMETRIC = 24
"""Luminance levels by which a pixel may differ from where the flow says it was, and still count as seen."""


class FlowBlend:
    """A clip's flow-guided blending, frame after frame: ``O_t = α·W(O_{t−1}) + (1 − α)·P_t`` where
    the flow holds, else ``P_t``.

    ``W`` warps by the backward flow ``b`` (each pixel of frame t to where it was at t − 1) of
    the input frames, from OpenCV's DIS (on luminance; preset MEDIUM by default), bicubic: bilinear
    blurred more as the warps accumulated, seen on a zoom. A pixel's flow holds when
    it lands inside the frame, the forward flow ``f`` there brings it back (Ruder et al.'s
    test: ``|b + f(x + b)|² ≤ 0.01·(|b|² + |f(x + b)|²) + 0.5``), and the input looked alike
    there (luminance within :data:`PHOTOMETRIC` levels), which catches a flat object that
    appears, where flow smoothly interpolated passes the first test. The state (the previous input
    and output) is this clip's own; :meth:`reset` forgets it at a scene cut.
    """

    def __init__(self, weight: float, preset: FlowPreset = "medium") -> None:
        import cv2

        self.weight = weight
        self.dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{preset.upper()}"))
        self.previous: tuple[np.ndarray, np.ndarray] | None = None
        self.grid: np.ndarray | None = None  # pixel coordinates, [2, H, W], kept for the clip's size

    def reset(self) -> None:
        self.previous = None

    def __call__(self, frame: Image.Image, painted: Image.Image) -> Image.Image:
        """The output for input ``frame``, whose own painting is ``painted``."""
        grey = np.asarray(frame.convert("L"))
        out = np.asarray(painted, dtype=np.float32)
        if self.previous is not None:
            reliable, warped = self.warp(self.previous[0], grey, self.previous[1])
            # α·W + (1 − α)·P where the flow holds, P elsewhere: P + α·m·(W − P), m the 0/1 mask.
            warped -= out
            warped *= (self.weight * reliable)[..., None]
            out = out + warped
        self.previous = (grey, out)
        return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))

    def warp(self, before: np.ndarray, now: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the flow from ``before`` to ``now`` (grey frames) holds, and ``image`` (at ``before``)
        warped to ``now``."""
        import cv2

        backward = self.dis.calc(now, before, None)
        forward = self.dis.calc(before, now, None)
        h, w = now.shape
        if self.grid is None or self.grid.shape[1:] != (h, w):
            self.grid = np.mgrid[0:h, 0:w].astype(np.float32)
        map_x, map_y = self.grid[1] + backward[..., 0], self.grid[0] + backward[..., 1]
        warped = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        there = cv2.remap(forward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

        def squared(v: np.ndarray) -> np.ndarray:  # |v|² per pixel
            return np.einsum("hwc,hwc->hw", v, v)

        round_trip = squared(backward + there)
        bound = 0.01 * (squared(backward) + squared(there)) + 0.5
        inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        seen = cv2.remap(before, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alike = cv2.absdiff(now, seen) <= PHOTOMETRIC
        return (round_trip <= bound) & inside & alike, warped


class Painter:
    """Collects frames into batches and paints them, holding statistics across them.

    The running statistics are this clip's own (one :class:`Running` per norm of the
    style's network, and another set for the detail pass at full size when frames are larger
    than the working size), handed to each engine call, and its :class:`FlowBlend`. A scene cut
    ends the batch before it and restarts both.
    """

    def __init__(self, style: OnePassStyle, options: VideoOptions) -> None:
        self.style, self.options = style, options
        self.held = {norm: Running(options.steady) for norm in norms(style.network)}
        self.detail_held = {norm: Running(options.steady) for norm in norms(style.network)}
        self.frames: list[Image.Image] = []
        self.seen = 0
        self.cut: int | None = None
        self.thumb: np.ndarray | None = None
        self.previous: Image.Image | None = None
        self.flow = FlowBlend(options.flow, options.flow_preset) if options.flow else None

    def add(self, frame: Image.Image) -> None:
        thumb = _thumb(frame)
        if self.cut is None and _is_cut(self.thumb, thumb, self.options.cut):
            self.cut = len(self.frames)
        self.thumb = thumb
        self.frames.append(frame)
        self.seen += 1

    def full(self) -> bool:
        return len(self.frames) >= self.options.batch or self.cut is not None

    def flush(self) -> list[Image.Image]:
        """Paint the frames collected so far."""
        cut, self.cut = self.cut, None
        if cut is None:
            done, self.frames = self._paint(self.frames), []
            return done
        done = self._paint(self.frames[:cut])
        for held in (*self.held.values(), *self.detail_held.values()):
            held.reset()
        if self.flow is not None:
            self.flow.reset()
        self.frames = self.frames[cut:]
        return done + self.flush()

    def _paint(self, frames: list[Image.Image]) -> list[Image.Image]:
        if not frames:
            return []
        painted = engine.stylize(
            frames, self.style, self.options, held=self.held, detail_held=self.detail_held
        )
        if self.flow is not None:
            painted = [self.flow(frame, picture) for frame, picture in zip(frames, painted, strict=True)]
        if not self.options.blend_previous:
            return painted
        for i, frame in enumerate(painted):
            if self.previous is not None:
                painted[i] = Image.blend(frame, self.previous, self.options.blend_previous)
            self.previous = painted[i]
        return painted
