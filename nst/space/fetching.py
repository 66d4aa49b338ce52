"""The one Gradio method the app overrides outside Gradio's documented API, isolated here.

Gradio fetches a URL given to a file component in ``Block.async_move_resource_to_block_cache``
and has no public hook for the reason a fetch fails. :func:`fetches_in_one_line` overrides that
method on a component class of ours, calling Gradio's own; ``tests/test_space_wiring.py`` fails
the day Gradio renames it, changes its signature, or stops fetching through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import gradio as gr
from gradio.components import Component
from gradio_client.utils import is_http_url_like

C = TypeVar("C", bound=type[Component])


def fetches_in_one_line(component: C) -> C:
    """``component``, a file component class, with the reason a URL given to it cannot be fetched (a
    private or loopback host, which Gradio refuses; a host that does not resolve; an error status)
    as a one-line ``gr.Error``, which reaches API and MCP callers, rather than Gradio's generic
    message."""
    fetch = component.async_move_resource_to_block_cache

    async def fetched(self: Component, url_or_file_path: str | Path | None) -> str | None:
        try:
            return await fetch(self, url_or_file_path)
        except Exception as err:  # safehttpx's ValueError, an HTTP status, httpx's network errors
            if not is_http_url_like(str(url_or_file_path)):
                raise
            reason = (str(err).splitlines() or [type(err).__name__])[0]
            if "failed validation" in reason:
                reason = "this app fetches only from public addresses, not private or loopback ones"
            raise gr.Error(f"Cannot fetch {url_or_file_path}: {reason}.", print_exception=False) from err

    component.async_move_resource_to_block_cache = fetched
    return component
