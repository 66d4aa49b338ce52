"""The page: the shared photo and result panes, a notice of what cannot run, and the five tabs.

:func:`build` does the start-up work once: it installs the settings, checks each method's weights
on the CPU (on ZeroGPU no GPU is attached outside the decorated handlers, which load their own
copies), paints the style thumbnails, and lays out the page.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import torch

from nst.base.device import default_device
from nst.base.health import Health
from nst.base.settings import Settings, configure
from nst.methods import arbitrary, fast, gatys
from nst.methods.catalogue import load_catalogue
from nst.space.admission import Streams
from nst.space.components import image_upload
from nst.space.examples import drawn_examples
from nst.space.handlers import Handlers
from nst.space.presets import Presets
from nst.space.results import CACHE_SECONDS, Results
from nst.space.tabs import any_style, common, live, video
from nst.space.tabs import fast as fast_tab
from nst.space.tabs import gatys as gatys_tab

BUILD_DEVICE = torch.device("cpu")
"""Where the work done while the page is built runs (checks, probes, thumbnails)."""
INTRO = (
    "# Neural style transfer\nPaint a photo in the style of another image. **Fast**: a "
    "pretrained network per style (Johnson et al. 2016; Dumoulin et al. 2017), under a second. "
    "**Any style**: any picture as the style, in one pass (Ghiasi et al. 2017). **Gatys**: "
    "optimises the picture itself (Gatys et al. 2016) and streams its progress. "
    "**Live**: your webcam, painted as it streams."
)
CSS = ".nst-warning { border-left: 4px solid #d97706; padding-left: .75rem; }"


def health(presets: Presets, device: torch.device) -> dict[str, Health]:
    """Each method's health on ``device``, by its tab's name."""
    return {
        "Gatys": gatys.health(presets.gatys, device),
        "Fast": fast.health(device),
        "Any style": arbitrary.health(device),
    }


def notice(states: dict[str, Health]) -> str:
    """One line per method that cannot run, or runs in part, and why."""
    lines = []
    for method, state in states.items():
        if state.why:
            kind = "partly available" if state.ready else "unavailable"
            lines.append(f"- **{method} is {kind}.** {state.why}")
    return "\n".join(lines)


def build(settings: Settings, states: dict[str, Health] | None = None) -> gr.Blocks:
    """The Space for ``settings``; ``states`` (default: checked now) says which methods can run."""
    configure(settings)
    presets = Presets.from_settings(settings)
    states = health(presets, BUILD_DEVICE) if states is None else states
    results = Results(Path(tempfile.mkdtemp(prefix="nst-results-")))
    handlers = Handlers(settings, presets, results, Streams(settings.live_streams))
    ready = fast.ready_styles(BUILD_DEVICE)
    examples = drawn_examples(Path(tempfile.mkdtemp(prefix="nst-examples-")))
    with gr.Blocks(title="Neural style transfer", delete_cache=(CACHE_SECONDS, CACHE_SECONDS)) as demo:
        gr.Markdown(INTRO)
        if notice(states):
            gr.Markdown(notice(states), elem_classes="nst-warning")
        with gr.Row():
            with gr.Column():
                content = image_upload("Content photo", sources=["upload", "webcam", "clipboard"], height=320)
                tabs = gr.Column()
            with gr.Column():
                result = gr.Image(
                    label="Result",
                    type="filepath",
                    format="png",
                    interactive=False,
                    buttons=["download", "fullscreen"],
                    height=420,
                    elem_id="nst-result",
                )
                compare = gr.ImageSlider(label="Before / after", format="png", max_height=420)
        page = common.Page(
            content=content,
            result=result,
            compare=compare,
            styles=[(style.title, name) for name, style in load_catalogue().items()],
            ready=ready,
            disabled={method for method, state in states.items() if not state.ready},
            examples=examples,
            settings=settings,
            results=results,
            device=default_device(),
            build_device=BUILD_DEVICE,
        )
        with tabs:
            for module in (fast_tab, any_style, gatys_tab, video, live):
                module.tab(page, handlers)
    demo.queue(max_size=settings.queue_size)
    return demo


def launch_options(settings: Settings) -> dict[str, Any]:
    """What ``demo.launch`` is given: the MCP server, the upload cap, the theme and style."""
    return {
        "share": settings.share,
        "mcp_server": settings.mcp,
        "max_file_size": f"{max(settings.upload_mb, settings.video_upload_mb)}mb",  # images: Uploads' cap
        "theme": gr.themes.Soft(),
        "css": CSS,
    }
