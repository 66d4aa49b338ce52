"""Video: a clip stylised frame by frame by a one-pass network, steady from frame to frame.

One source of flicker in instance-norm networks is that each frame gets
its own normalisation statistics, so a small change anywhere (a moving object, sensor
noise) shifts the colours of the whole frame. Here every norm holds a running estimate
of its statistics instead (:class:`nst.networks.norms.Running`, the mechanism tiles use to share
an image's statistics): ``μ'_t = ρ·μ'_{t−1} + (1 − ρ)·μ_t`` with ``ρ = steady``, a memory of
about ``1 / (1 − ρ)`` frames (50 by default: 2 s at 25 fps, so lighting that drifts is
followed), restarted at once at a scene cut (a large change of the whole picture).
``steady=0`` gives plain per-frame statistics.

Held statistics steady the picture's colours, not its pixels where the camera moves or the
sensor is noisy. So, by default, each output is also blended with the previous output
warped by the optical flow of the *input* frames, where that flow holds (:class:`FlowBlend`;
Ruder et al. 2016, Lai et al. 2018): ``O_t = α·W(O_{t−1}) + (1 − α)·P_t`` where the
forward-backward test passes, ``O_t = P_t`` elsewhere (occlusions, disocclusions, the frame's
edge), with ``α = flow``. Blending with the unwarped previous output (``blend_previous``,
which smears motion) is available and off by default. The running estimate belongs to the clip's own call: the
cached networks are shared with every other request and are never changed.

Reading and writing go through PyAV (FFmpeg's libraries, shipped in its wheels): the
output is H.264 (yuv420p) at the input's frame rate, and the audio is copied as it is
(or re-encoded as AAC where the MP4 container cannot hold it). Frames run through the
one-pass engine (:mod:`nst.methods.engine`) in batches. A clip's recipe
(:class:`~nst.base.recipes.Recipe`) rides in the MP4's ``comment`` metadata (:func:`read_recipe`).
"""

from nst.methods.video.clip import (
    MP4_AUDIO,
    RECIPE_TAG,
    ClipInfo,
    VideoError,
    first_frame,
    probe,
    read_recipe,
)
from nst.methods.video.options import FlowPreset, VideoOptions, VideoProgress
from nst.methods.video.painter import PHOTOMETRIC, FlowBlend, Painter
from nst.methods.video.transcode import load_style, stylize_video

__all__ = [
    "MP4_AUDIO",
    "PHOTOMETRIC",
    "RECIPE_TAG",
    "ClipInfo",
    "FlowBlend",
    "FlowPreset",
    "Painter",
    "VideoError",
    "VideoOptions",
    "VideoProgress",
    "first_frame",
    "load_style",
    "probe",
    "read_recipe",
    "stylize_video",
]
