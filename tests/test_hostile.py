"""Hostile and odd inputs through the library, the CLI and a launched app; limits and concurrency."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from nst.base.images import ImageError, load_image
from nst.cli import main
from nst.methods import fast
from tests.support import ROOT
from tests.support.corpus import REFUSED, VALID, make_corpus
from tests.support.pictures import synthetic
from tests.support.standins import HUB_FILES

NaN = math.nan


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def _scaled(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    w, h = size
    if max(w, h) <= long_side:
        return size
    s = long_side / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def test_library_accepts_the_odd_and_refuses_the_invalid(corpus, hub_cache):
    model = fast.load_style(weights=hub_cache / HUB_FILES[0])
    for name, (path, outcome, size) in corpus.items():
        if outcome == VALID:
            image = load_image(path, max_side=512)
            assert image.mode == "RGB" and image.size == _scaled(size, 512), name
            assert fast.stylize(image, model).size == image.size, name
        else:
            with pytest.raises(ImageError):
                load_image(path, max_side=512)


def test_exif_rotation_and_transparency_come_out_right(corpus):
    upright = load_image(corpus["exif_rotate90.jpg"][0])
    assert upright.size == (64, 96)
    r, g, b = load_image(corpus["half_alpha.png"][0]).getpixel((0, 0))
    original = synthetic(96, 64).getpixel((0, 0))
    assert all(abs(c - (o + 255) / 2) <= 2 for c, o in zip((r, g, b), original, strict=True)), (
        "50% over white"
    )


@pytest.mark.slow  # a process of its own, whose peak memory is measured
@pytest.mark.parametrize("name", ["large_48mp.jpg", "bomb_40000x40000.png"])
def test_large_photo_and_bomb_stay_small_in_memory(corpus, name):
    # VmHWM is this process's own peak; ru_maxrss would carry the forking test runner's peak over exec.
    script = textwrap.dedent(f"""
        from nst.base.images import ImageError, load_image
        def peak_mb():
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) // 1024
        before = peak_mb()
        try:
            print(load_image({str(corpus[name][0])!r}, max_side=1536).size)
        except ImageError as err:
            print("refused:", err)
        print(peak_mb() - before)
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    result, grew_mb = out.stdout.strip().splitlines()
    assert int(grew_mb) < 64, f"{name}: {result}, peak RSS grew {grew_mb} MB"  # decoding it whole is 144 MB
    assert result == "(1536, 1152)" if name.startswith("large") else result.startswith("refused")


def test_cli_batch_reports_each_bad_file_and_goes_on(corpus, hub_cache, tmp_path, capsys):
    paths = [str(path) for path, _, _ in corpus.values()]
    weights = str(hub_cache / HUB_FILES[0])
    status = main(["fast", *paths, "-o", str(tmp_path), "--weights", weights, "--max-side", "512"])
    out = SimpleNamespace(returncode=status, stderr=capsys.readouterr().err)
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    refused = [name for name, (_, outcome, _) in corpus.items() if outcome == REFUSED]
    assert len(errors) == len(refused) + 1  # one line per bad file, then the summary
    for name in refused:
        assert any(name in line for line in errors), name
    for name, (path, outcome, size) in corpus.items():
        if outcome == VALID:
            assert Image.open(tmp_path / f"{path.stem}.png").size == _scaled(size, 512), name


def test_app_survives_the_corpus_with_readable_answers(corpus, client):
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    before_mb = _status_mb("VmRSS")
    for name, (path, outcome, size) in corpus.items():
        if outcome == VALID:
            result = client.predict(content=handle_file(str(path)), style="mosaic", api_name="/stylize_fast")
            assert Image.open(result).size == _scaled(size, 1536), name
        else:
            with pytest.raises(Exception) as caught:
                client.predict(content=handle_file(str(path)), style="mosaic", api_name="/stylize_fast")
            message = str(caught.value)
            assert (name in message or "image" in message) and "upstream" not in message, (name, message)
    sliver = client.predict(
        content=handle_file(str(corpus["sliver_12000x8.png"][0])),
        style_image=handle_file(str(corpus["cmyk.jpg"][0])),
        steps=2,
        size=128,
        api_name="/stylize_gatys",
    )
    assert Image.open(sliver).size == (128, 1)
    grown_mb = _status_mb("VmHWM") - before_mb
    # 0.7–1.1 GB here (alone, or after the rest of the quick tier); a bomb decoded would be 4.8 GB.
    assert grown_mb < 1500, f"the corpus raised the peak RSS of the tests and their server by {grown_mb} MB"


def _status_mb(field: str) -> int:
    return int(Path("/proc/self/status").read_text().split(f"{field}:")[1].split()[0]) // 1024


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"api_name": "/stylize_gatys", "steps": -5}, "minimum"),
        ({"api_name": "/stylize_gatys", "size": 100000}, "maximum"),
        ({"api_name": "/stylize_gatys", "size": 0}, "minimum"),
        ({"api_name": "/stylize_fast", "style": "../../etc/passwd"}, "not in the list"),
    ],
)
def test_out_of_range_parameters_are_refused_readably(client, corpus, kwargs, message):
    content = handle_file(str(corpus["cmyk.jpg"][0]))
    args = (
        {"content": content, "style": "mosaic"}
        if kwargs["api_name"] == "/stylize_fast"
        else {
            "content": content,
            "style_image": handle_file(str(corpus["grey.png"][0])),
            "steps": 2,
            "size": 64,
        }
    )
    with pytest.raises(Exception, match=message):
        client.predict(**(args | kwargs))


def request_data(server: str, api: str, **named: object) -> list:
    """The positional ``data`` of a raw request to ``/api``, built by parameter name from the
    server's ``view_api()``: every parameter must be named, so that a parameter the endpoint gains
    fails here instead of making Gradio refuse the request for its length."""
    listed = Client(server, verbose=False).view_api(print_info=False, return_format="dict")
    names = [p["parameter_name"] for p in listed["named_endpoints"][f"/{api}"]["parameters"]]
    if sorted(names) != sorted(named):
        raise TypeError(f"/{api} takes {names}; the request names {sorted(named)}")
    return [named[name] for name in names]


def _raw_call(server: str, api: str, **named: object) -> str:
    """POST the ``named`` values to an endpoint as a hand-written client would; the events it answers."""
    base = f"{server}gradio_api"
    data = json.dumps({"data": request_data(server, api, **named)})
    posted = httpx.post(f"{base}/call/{api}", content=data, headers={"Content-Type": "application/json"})
    return httpx.get(f"{base}/call/{api}/{posted.json()['event_id']}", timeout=60).text


def test_a_raw_request_must_name_every_parameter(server):
    with pytest.raises(TypeError, match="working_side"):
        request_data(server, "stylize_fast", content=None, style="builtin_01")


def _upload(server: str, path: Path) -> dict:
    """Upload ``path`` as the page does; the file reference a request then names."""
    with path.open("rb") as f:
        uploaded = httpx.post(f"{server}gradio_api/upload", files={"files": (path.name, f)}).json()[0]
    return {"path": uploaded, "meta": {"_type": "gradio.FileData"}}


ONE_PASS = {"strength": 1.0, "preserve_color": False, "second_style_share": 0.5, "working_side": 384}
ONE_PASS |= {"colours": None}
NO_MASKS = {"mask": None, "second_mask": None}
GATYS = {"steps": 2, "size": 64, "style_weight": None, "preserve_color": False, "optimizer": "lbfgs"}
GATYS |= {"seed": 0, "second_style_image": None, "second_style_share": 0.5, **NO_MASKS, "seconds": 25}
GATYS |= {"loss_network": None, "colours": None}


def test_nan_weights_sent_as_raw_json_are_refused_readably(server, corpus):
    # gradio_client will not encode NaN, but a hand-written request can.
    image = _upload(server, corpus["cmyk.jpg"][0])
    fast_call = {**ONE_PASS, **NO_MASKS, "content": image, "style": "mosaic", "second_style": ""}
    events = _raw_call(server, "stylize_fast", **(fast_call | {"strength": NaN}))
    assert "event: error" in events and "strength must be between 0 and 1, not nan" in events
    gatys_call = {**GATYS, "content": image, "style_image": image, "style_weight": NaN}
    events = _raw_call(server, "stylize_gatys", **gatys_call)
    assert "event: error" in events and "style_weight must be a finite" in events


@pytest.mark.parametrize(
    "api, style",
    [
        ("stylize_fast", {"style": "builtin_01", "second_style": ""}),
        ("stylize_arbitrary", {"style_image": "IMAGE", "second_style_image": None}),
    ],
)
def test_no_endpoint_reads_server_paths(server, tmp_path, api, style):
    """A request naming a picture on the server's disk, outside Gradio's upload folder, is refused.

    gradio_client uploads local paths from the client side, so only a raw request names a
    server path; the picture is a valid image, so reading it would give a result.
    """
    secret = tmp_path / "secret.png"
    Image.new("RGB", (40, 30), (200, 30, 30)).save(secret)
    image = {"path": str(secret), "meta": {"_type": "gradio.FileData"}}
    style = {k: image if v == "IMAGE" else v for k, v in style.items()}
    events = _raw_call(server, api, content=image, **style, **ONE_PASS, **NO_MASKS)
    assert "event: error" in events and "event: complete" not in events, events


def test_an_upload_the_server_has_since_removed_is_asked_for_again(server, tmp_path):
    """A page left open past Gradio's cache cleaning sends the path of an upload that is gone."""
    Image.new("RGB", (40, 30), (12, 34, 56)).save(tmp_path / "gone.png")
    image = _upload(server, tmp_path / "gone.png")
    Path(image["path"]).unlink()
    call = {"content": image, "style": "builtin_01", "second_style": "", **ONE_PASS, **NO_MASKS}
    events = _raw_call(server, "stylize_fast", **call)
    assert "event: error" in events and "no longer on the server" in events, events


def test_a_burst_of_twelve_fast_requests_all_complete_each_with_its_own_style(wide_server, corpus):
    path = str(corpus["cmyk.jpg"][0])
    styles = ["scream", "builtin_03", "mosaic"] * 4

    def call(style: str) -> bytes:
        result = Client(wide_server, verbose=False).predict(
            content=handle_file(path), style=style, api_name="/stylize_fast"
        )
        image = Image.open(result)
        assert image.size == (96, 64)
        return image.convert("RGB").tobytes()

    with ThreadPoolExecutor(12) as pool:
        pictures = list(pool.map(call, styles))
    by_style = {style: {p for s, p in zip(styles, pictures, strict=True) if s == style} for style in styles}
    assert all(len(same) == 1 for same in by_style.values()), "one style, one picture, whatever ran beside it"
    assert len({next(iter(same)) for same in by_style.values()}) == 3


def _abandon(server: str, client: Client, api: str, **named: object) -> None:
    """Start a run as a client would, the endpoint's defaults for what ``named`` leaves out; read its
    events until the first picture, and hang up without a word."""
    listed = client.view_api(print_info=False, return_format="dict")["named_endpoints"][f"/{api}"]
    data = [named.get(p["parameter_name"], p["parameter_default"]) for p in listed["parameters"]]
    base = f"{server}gradio_api"
    posted = httpx.post(f"{base}/call/{api}", json={"data": data})
    with httpx.stream("GET", f"{base}/call/{api}/{posted.json()['event_id']}", timeout=120) as events:
        assert "event: generating" in events.iter_lines()


def test_an_abandoned_gatys_run_stops_using_the_worker(server, corpus, client):
    content, style = _upload(server, corpus["cmyk.jpg"][0]), _upload(server, corpus["grey.png"][0])
    _abandon(server, client, "stylize_gatys", content=content, style_image=style, steps=400, size=256)
    start = time.monotonic()
    quick = client.predict(
        content=handle_file(str(corpus["cmyk.jpg"][0])),
        style_image=handle_file(str(corpus["grey.png"][0])),
        steps=2,
        size=64,
        api_name="/stylize_gatys",
    )
    assert Image.open(quick).size == (64, 43)
    # Left going, the abandoned run would hold the worker to the end of its 25 s (the endpoint's default).
    assert time.monotonic() - start < 10, "the abandoned run kept the Gatys worker busy"
