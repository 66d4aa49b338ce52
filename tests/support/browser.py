"""Chromium driven by Playwright, for the browser tests and ``bench.live``: Debian's build, a fake
camera playing a clip made here, and what the Live tab's page sent and showed."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from nst.methods.catalogue import find

CHROMIUM = "/usr/bin/chromium"
SENDS = """(() => {  // when each camera frame is sent, by the page's own clock
  window.sent = [];
  const send = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    if (/\\/stream\\/[^/]+$/.test(url)) {
      window.sent.push(Date.now() / 1000);
      window.lastBody = init && init.body;
    }
    return send.apply(this, arguments);
  };
})();"""
WATCH = """() => {
  window.shown = [];
  new MutationObserver(() => {
    const img = document.querySelector('#nst-live img');
    if (img && img.src !== window.lastShown) {
      window.lastShown = img.src;
      window.shown.push(Date.now() / 1000);
    }
  }).observe(document.querySelector('#nst-live'), {subtree: true, childList: true, attributes: true});
}"""


def camera_browser(playwright, clip: Path):
    """Chromium whose camera plays ``clip`` (a ``.y4m``), with camera access granted."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}",
        ],
    )


def start_live(page, url: str, style: str | None = None) -> None:
    """Open the Live tab at ``url``, pick catalogue ``style`` by its thumbnail's caption (its title),
    start recording."""
    page.add_init_script(SENDS)
    page.goto(url)
    page.get_by_text("Neural style transfer").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="Live").click()
    if style is not None:
        title = re.compile(rf"^\s*{re.escape(find(style).title)}\s*$")
        page.locator("#nst-live-gallery button[aria-label^=Thumbnail]").filter(has_text=title).click()
    page.get_by_text("Click to Access Webcam").click()
    page.evaluate(WATCH)
    page.get_by_text("Record", exact=True).click()


def timings(page) -> tuple[list[float], list[float]]:
    """When the page sent each camera frame, and when it showed each new painting (seconds)."""
    return page.evaluate("window.sent"), page.evaluate("window.shown")


def frame_size(body: str) -> tuple[int, int]:
    """The size of the camera frame in a ``/stream`` request's body."""
    url = next(v["url"] for v in json.loads(body)["data"] if isinstance(v, dict) and v.get("url"))
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size


def needs_chromium(test: Callable) -> Callable:
    """A test that drives the app in Chromium: in the slow tier, and skipped without Debian's Chromium."""
    missing = pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    )
    return pytest.mark.slow(missing(test))
