"""The page: the shared photo and result panes, a notice of what cannot run, and the six tabs.

:func:`build` does the start-up work once: it installs the settings, checks each method's weights
on the CPU (on ZeroGPU no GPU is attached outside the decorated handlers, which load their own
copies), paints the style thumbnails, and lays out the page.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import torch
from starlette.middleware import Middleware

from nst.base.device import default_device
from nst.base.health import Health
from nst.base.settings import Settings, configure
from nst.methods import fast
from nst.methods.catalogue import load_catalogue
from nst.methods.registry import METHODS
from nst.space import reuse
from nst.space.admission import Streams
from nst.space.backlog import Backlog, Gate
from nst.space.components import QUIET, image_upload
from nst.space.examples import painting_pairs
from nst.space.handlers import Handlers
from nst.space.presets import Presets
from nst.space.results import CACHE_SECONDS, Results
from nst.space.tabs import TABS, common
from nst.space.view import VIEW_CSS, result_view, wire

BUILD_DEVICE = torch.device("cpu")
"""Where the work done while the page is built runs (checks, probes, thumbnails)."""
INTRO = (
    "# Neural style transfer\nPaint a photo in the style of another image. **Fast**: a "
    "pretrained network per style (Johnson et al. 2016; Dumoulin et al. 2017), under a second. "
    "**Any style**: any picture as the style, in one pass (Ghiasi et al. 2017). **Gatys**: "
    "optimises the picture itself (Gatys et al. 2016) and streams its progress. "
    "**Batch**: many photos in one style, with a ZIP. **Live**: your webcam, painted as it streams."
)
CSS = ".nst-warning { border-left: 4px solid #d97706; padding-left: .75rem; }"


def health(presets: Presets, device: torch.device) -> dict[str, Health]:
    """The health on ``device`` of each method with a check of its own, by its id, with the
    options the app runs it with."""
    return {
        method.id: method.health(presets.of(method.id), device)
        for method in METHODS.values()
        if method.health is not None
    }


def notice(states: dict[str, Health]) -> str:
    """One line per method that cannot run, or runs in part, and why, by its label."""
    lines = []
    for method, state in states.items():
        if state.why:
            kind = "partly available" if state.ready else "unavailable"
            lines.append(f"- **{METHODS[method].label} is {kind}.** {state.why}")
    return "\n".join(lines)


def build(settings: Settings, states: dict[str, Health] | None = None) -> gr.Blocks:
    """The Space for ``settings``; ``states`` (default: checked now) says which methods can run."""
    configure(settings)
    presets = Presets.from_settings(settings)
    states = health(presets, BUILD_DEVICE) if states is None else states
    results = Results(Path(tempfile.mkdtemp(prefix="nst-results-")))
    handlers = Handlers(settings, presets, results, Streams(settings.live_streams))
    ready = fast.ready_styles(BUILD_DEVICE)
    with gr.Blocks(title="Neural style transfer", delete_cache=(CACHE_SECONDS, CACHE_SECONDS)) as demo:
        gr.Markdown(INTRO)
        if notice(states):
            gr.Markdown(notice(states), elem_classes="nst-warning")
        with gr.Row():
            with gr.Column():
                content = image_upload(
                    "Content photo",
                    sources=["upload", "webcam", "clipboard"],
                    height=320,
                    elem_id="nst-content",
                )
                tabs = gr.Column()
            with gr.Column(elem_id="nst-view") as shared:
                view = result_view()
        wire(view, results)
        page = common.Page(
            content=content,
            view=view,
            styles=[(style.title, name) for name, style in load_catalogue().items()],
            ready=ready,
            disabled={method for method, state in states.items() if not state.ready},
            examples=painting_pairs(),
            settings=settings,
            results=results,
            device=default_device(),
            build_device=BUILD_DEVICE,
            backlog=Backlog(settings.queue_seconds, settings.gatys_seconds),
        )
        with tabs, gr.Tabs() as tab_set:
            forms = {}
            for shown in TABS.values():
                form = shown.tab(page, handlers)
                form.tab.select(
                    partial(_showing, shown.photo), None, [content, shared], api_name="show_panes", **QUIET
                )
                forms[shown.id] = form
        reuse.wire(page, forms, tab_set)
    demo.queue(max_size=settings.queue_size)
    return demo


def _showing(photo: bool) -> tuple:
    """The shared photo and result view, shown on the tabs that paint photos, hidden on the others."""
    return gr.update(visible=photo), gr.update(visible=photo)


def launch_options(settings: Settings) -> dict[str, Any]:
    """What ``demo.launch`` is given: the MCP server, the upload cap, the queue's gate by wait
    (:class:`~nst.space.backlog.Gate`), the theme and style."""
    return {
        "app_kwargs": {"middleware": [Middleware(Gate)]},
        "share": settings.share,
        "mcp_server": settings.mcp,
        "max_file_size": f"{max(settings.upload_mb, settings.video_upload_mb)}mb",  # images: Uploads' cap
        "theme": gr.themes.Soft(),
        "css": CSS + VIEW_CSS + common.TILES_CSS,
    }
