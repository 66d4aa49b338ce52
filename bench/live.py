"""The Live tab end to end: a fake camera in Chromium streaming to ``python app.py``, painted frames shown.

    python -m bench.live [--seconds 20] [--style builtin_05] [--quick]

For each camera size, Chromium plays a synthetic pan (:func:`tests.support.clips.pan`, made here) as its
camera (``--use-fake-device-for-media-stream --use-file-for-fake-video-capture``), the Live tab
streams it, and the page records when each painted frame is shown (a ``MutationObserver`` on the
output image). Measured over the last ``--seconds`` after a warm-up:

- **sent at**: the size of the frames the page sends (the app asks the camera for about
  ``NST_LIVE_MAX_SIDE``, so a larger camera sends frames of about the size painted);
- **fps**: painted frames shown per second;
- **latency**: from the moment the browser sent a frame (its ``/stream`` request) to the moment
  that frame's painting was shown. The server paints the newest frame it holds once it has sent
  the last painting, so the frame behind painting k is the newest sent before painting k − 1 was
  shown, or, when none came since, the first sent after.

Browser and server share this machine's cores, as they do when one person runs the app locally
(Chromium takes most of a core). One more run has Chromium yield to the server (lowest CPU
priority, :func:`lower_priority`), roughly as when the browser runs on the visitor's machine.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.browser import camera_browser, frame_size, start_live, timings
from tests.support.clips import pan, write_camera_clip
from tests.support.server import launch, stop


def latencies(sent: list[float], shown: list[float]) -> list[float]:
    """Seconds from each shown painting's frame being sent to its showing (the rule in the docstring)."""
    out, used = [], -1
    for before, now in itertools.pairwise(shown):
        i = bisect.bisect_right(sent, before) - 1  # the newest frame sent before the last painting showed
        if i <= used:
            i = used + 1  # none came since: the next one sent
        if i >= len(sent) or sent[i] > now:
            continue
        used = i
        out.append(now - sent[i])
    return out


def chromium(clip: Path) -> int:
    """The process id of the browser whose fake camera plays ``clip``."""
    flag = f"--use-file-for-fake-video-capture={clip}".encode()
    return next(int(p.name) for p in Path("/proc").glob("[0-9]*") if flag in _read(p / "cmdline"))


def lower_priority(browser: int) -> None:
    """The ``browser`` process and its whole session at the lowest CPU priority: the server first,
    roughly as when the browser runs on the visitor's own machine."""
    session = os.getsid(browser)
    for p in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if os.getsid(int(p.name)) == session:
                os.setpriority(os.PRIO_PROCESS, int(p.name), 19)
    # Playwright starts Chromium in a session of its own, hence a CPU group (autogroup) of its own.
    with contextlib.suppress(OSError):
        Path(f"/proc/{browser}/autogroup").write_text("19")


def priority(browser: int) -> int:
    """The ``browser``'s nice value against the server: its CPU group's (autogroup) where the kernel
    groups sessions, else its own."""
    try:  # "/autogroup-903 nice 19"
        return int(Path(f"/proc/{browser}/autogroup").read_text().split()[-1])
    except OSError:
        return os.getpriority(os.PRIO_PROCESS, browser)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # a process that has ended
        return b""


def measure(
    url: str, size: tuple[int, int], seconds: float, warm_up: float, style: str, yielding: bool = False
) -> dict:
    """One run of ``seconds`` (after ``warm_up``) with a ``size`` camera; ``yielding``: Chromium at the
    lowest priority (:func:`lower_priority`)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="nst-live-bench-") as folder:
        clip = write_camera_clip(Path(folder) / "camera.y4m", pan(*size, 120))
        with sync_playwright() as p:
            browser = camera_browser(p, clip)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            start_live(page, url, style)
            pid = chromium(clip)
            if yielding:
                lower_priority(pid)
            nice = priority(pid)
            time.sleep(warm_up)
            start = time.time()
            time.sleep(seconds)
            sent, shown = timings(page)
            body = page.evaluate("window.lastBody")
            painted = page.locator("#nst-live img").evaluate("img => [img.naturalWidth, img.naturalHeight]")
            browser.close()
    shown = [t for t in shown if t >= start]
    lat = latencies(sent, shown)
    return {
        "camera": "×".join(map(str, size)),
        "browser": f"nice {nice}",
        "frames": "×".join(map(str, frame_size(body))),
        "painted": "×".join(map(str, painted)),
        "fps": (len(shown) - 1) / (shown[-1] - shown[0]) if len(shown) > 1 else 0.0,
        "sent": len([t for t in sent if t >= start]) / seconds,
        "latency": statistics.median(lat) if lat else float("nan"),
        "latency90": statistics.quantiles(lat, n=10)[-1] if len(lat) > 1 else float("nan"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running app: its own cap only (default: start one per cap)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--style", default="builtin_05")
    parser.add_argument("--quick", action="store_true", help="a few seconds at 160×120, both ways")
    args = parser.parse_args(argv)
    seconds, warm_up = (3.0, 3.0) if args.quick else (args.seconds, 5.0)
    # NST_LIVE_MAX_SIDE → (camera size, Chromium yielding) runs: the app's default cap, with the
    # browser as it comes and then yielding to the server, and frames painted at full size.
    runs = (
        {"": [((160, 120), False), ((160, 120), True)]}
        if args.quick
        else {
            "": [((320, 240), False), ((640, 480), False), ((320, 240), True)],
            "640": [((640, 480), False)],
        }
    )
    rows = []
    for side, cases in list(runs.items())[:1] if args.url else runs.items():
        env = {"HF_HUB_OFFLINE": "1", **({"NST_LIVE_MAX_SIDE": side} if side else {})}
        proc, url = (None, args.url) if args.url else launch(env)
        try:
            rows += [
                {"cap": side or "default", **measure(url, size, seconds, warm_up, args.style, yielding)}
                for size, yielding in cases
            ]
        finally:
            if proc is not None:
                stop(proc)
    print(f"\nLive tab in Chromium, {args.style}, {seconds:.0f} s after {warm_up:.0f} s of warm-up\n")
    print(
        "| camera | NST_LIVE_MAX_SIDE | browser | sent at | painted at "
        "| sent/s | shown/s | latency | 90th pct |\n|---|---|---|---|---|---|---|---|---|"
    )
    for r in rows:
        print(
            f"| {r['camera']} | {r['cap']} | {r['browser']} | {r['frames']} | {r['painted']} "
            f"| {r['sent']:.1f} | {r['fps']:.1f} "
            f"| {1000 * r['latency']:.0f} ms "
            f"| {1000 * r['latency90']:.0f} ms |"
        )


if __name__ == "__main__":
    main()
