"""End to end: the app built from settings and served in this process against the stand-in caches,
called through gradio_client, and ``python app.py`` itself once."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import httpx
import pytest
import torch
from gradio_client import Client, handle_file
from PIL import Image

from nst.base.images import to_tensor
from nst.base.recipes import read_recipe
from nst.base.settings import current
from nst.methods import arbitrary, fast, video
from nst.methods.catalogue import load_catalogue
from nst.space.results import Results
from tests.support.browser import CHROMIUM, needs_chromium
from tests.support.clips import pan, read_frames, static_scene, write_clip
from tests.support.pictures import synthetic
from tests.support.server import launch, stop
from tests.support.standins import random_vgg19_features


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("images")
    paths = {"content": folder / "content.jpg", "style": folder / "style.png", "text": folder / "text.png"}
    paths["grey"] = folder / "grey.png"
    synthetic(150, 100).save(paths["content"])
    Image.fromarray((torch.rand(96, 96) * 255).to(torch.uint8).numpy(), "L").convert("RGB").save(
        paths["grey"]
    )
    synthetic(64, 64, seed=1).save(paths["style"])
    paths["text"].write_text("I am not a picture")
    return {k: str(v) for k, v in paths.items()}


def test_only_the_six_endpoints_are_public(client):
    assert sorted(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == [
        "/contact_sheet",
        "/stylize_arbitrary",
        "/stylize_batch",
        "/stylize_fast",
        "/stylize_gatys",
        "/stylize_video",
    ]


def test_the_endpoints_name_their_parameters_alike(client):
    """A catalogue name is ``style``, an image ``style_image``, a second share ``second_style_share``."""
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    names = {api: [p["parameter_name"] for p in end["parameters"]] for api, end in endpoints.items()}
    one_pass = ["strength", "preserve_color"]
    regions = ["mask", "second_mask"]
    assert names["/stylize_fast"] == [
        *("content", "style", *one_pass, "second_style", "second_style_share", "working_side", *regions),
        "colours",
    ]
    assert names["/stylize_arbitrary"] == [
        *("content", "style_image", *one_pass, "second_style_image", "second_style_share"),
        *("working_side", *regions, "colours"),
    ]
    assert names["/stylize_gatys"][:2] == ["content", "style_image"]
    assert names["/stylize_gatys"][-7:] == [
        *("second_style_image", "second_style_share", *regions, "seconds", "loss_network", "colours")
    ]
    assert names["/stylize_video"] == [
        "clip",
        "style",
        "style_image",
        *one_pass,
        "steady",
        "working_side",
        "flow",
        "colours",
    ]


def test_video_endpoint_keeps_frames_rate_and_sound_and_refuses_long_clips(client, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", static_scene(96, 64, 24), fps=12)
    out = client.predict(clip=handle_file(str(clip)), style="builtin_03", api_name="/stylize_video")
    info = video.probe(out["video"] if isinstance(out, dict) else out)
    assert (info.frames, info.fps, info.audio, info.width) == (24, 12, "aac", 96)
    long = write_clip(tmp_path / "long.mp4", static_scene(64, 48, 60), fps=12)  # 5 s; the app takes 3
    with pytest.raises(Exception, match="NST_VIDEO_MAX_SECONDS"):
        client.predict(clip=handle_file(str(long)), style="builtin_03", api_name="/stylize_video")
    (tmp_path / "text.mp4").write_text("not a clip")
    with pytest.raises(Exception, match="not a video we can read"):
        client.predict(
            clip=handle_file(str(tmp_path / "text.mp4")),
            style="builtin_03",
            api_name="/stylize_video",
        )


def test_a_clip_stylised_meanwhile_leaves_every_other_picture_alone(wide_server, images, tmp_path):
    """With room for several jobs at once, video runs beside the other tabs on the same cached networks."""
    server, client = wide_server, Client(wide_server, verbose=False)
    clip = write_clip(tmp_path / "clip.mp4", pan(640, 480, 36), fps=12)  # 3 s: the test server's limit
    content = handle_file(images["content"])
    calls = {
        "built-in": {"content": content, "style": "builtin_05", "api_name": "/stylize_fast"},
        "hub": {"content": content, "style": "mosaic", "api_name": "/stylize_fast"},
        "any style": {
            "content": content,
            "style_image": handle_file(images["style"]),
            "api_name": "/stylize_arbitrary",
        },
    }
    alone = {name: Image.open(client.predict(**call)) for name, call in calls.items()}
    job = Client(server, verbose=False).submit(
        clip=handle_file(str(clip)), style="builtin_00", api_name="/stylize_video"
    )
    deadline = time.monotonic() + 60
    running = ("PROCESSING", "PROGRESS", "ITERATING")
    while job.status().code.name not in running and time.monotonic() < deadline:
        time.sleep(0.05)
    meanwhile = {name: Image.open(client.predict(**call)) for name, call in calls.items()}
    assert not job.done(), "the clip ended before the other requests: nothing overlapped"
    job.result(timeout=120)
    for name, picture in meanwhile.items():
        difference = to_tensor(picture, scale=1) - to_tensor(alone[name], scale=1)
        assert difference.abs().max() <= 1, name


def _mean_rgb(path: str) -> torch.Tensor:
    return to_tensor(Image.open(path).convert("RGB"), scale=1).mean(dim=(0, 2, 3))


def test_fast_endpoint_by_keyword_keeps_the_size_and_the_hub_styles_colours(client, images):
    out = client.predict(content=handle_file(images["content"]), style="mosaic", api_name="/stylize_fast")
    assert Image.open(out).size == (150, 100) and Image.open(out).format == "PNG"
    faint = client.predict(
        content=handle_file(images["content"]), style="scream", strength=0.0, api_name="/stylize_fast"
    )
    assert Image.open(faint).tobytes() == Image.open(images["content"]).tobytes()
    # The Hub files are BGR networks (conftest): read right, each paints in its painting's colours.
    for style in ("starry_night", "scream"):
        out = client.predict(content=handle_file(images["grey"]), style=style, api_name="/stylize_fast")
        painting = torch.tensor(load_catalogue()[style].mean_rgb)
        assert (_mean_rgb(out) - painting).abs().max() < 10, style


def test_built_in_styles_and_their_blend_through_the_api(client, images):
    kwargs = {"content": handle_file(images["content"]), "api_name": "/stylize_fast"}
    one = client.predict(style="builtin_04", **kwargs)
    blend = client.predict(style="builtin_04", second_style="builtin_20", second_style_share=0.5, **kwargs)
    assert Image.open(one).size == Image.open(blend).size == (150, 100)
    assert Image.open(one).tobytes() != Image.open(blend).tobytes()
    with pytest.raises(Exception, match="only styles of one multi-style network blend"):
        client.predict(style="mosaic", second_style="builtin_20", **kwargs)


def test_a_trained_set_in_the_weights_folder_is_in_the_apps_catalogue(client, server, images, weights_folder):
    """The server's weights folder holds a trained three-style network (conftest): its styles are
    in the style list, paint as the library does, and blend with each other, not with others."""
    kwargs = {"content": handle_file(images["content"]), "api_name": "/stylize_fast"}
    listed = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/stylize_fast"]
    style = next(p for p in listed["parameters"] if p["parameter_name"] == "style")
    assert {"set_00", "set_01", "set_02"} <= set(style["python_type"]["type"].split("'")[1::2])
    content = Image.open(images["content"]).convert("RGB")
    assert current().weights_dir == str(weights_folder)  # the server's settings, installed
    painted = fast.stylize(content, "set_01")
    blended = fast.stylize(content, ["set_01", "set_02"], style_blend=(0.7, 0.3))
    assert Image.open(client.predict(style="set_01", **kwargs)).tobytes() == painted.tobytes()
    both = client.predict(style="set_01", second_style="set_02", second_style_share=0.3, **kwargs)
    assert Image.open(both).tobytes() == blended.tobytes()
    with pytest.raises(Exception, match="styles of different networks"):
        client.predict(style="set_01", second_style="builtin_20", **kwargs)


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ({}, "none"),
        ({"preserve_color": True}, "luminance"),
        ({"colours": "histogram"}, "histogram"),
        ({"colours": "histogram", "preserve_color": True}, "histogram"),
    ],
)
def test_the_colour_choice_and_the_older_flag_reach_the_recipe(client, images, asked, kept):
    out = client.predict(
        content=handle_file(images["content"]), style="builtin_03", api_name="/stylize_fast", **asked
    )
    assert read_recipe(out).recipe.options["preserve_color"] == kept


def test_any_style_endpoint(client, images):
    out = client.predict(
        content=handle_file(images["content"]),
        style_image=handle_file(images["style"]),
        strength=0.8,
        second_style_image=handle_file(images["content"]),
        second_style_share=0.25,
        api_name="/stylize_arbitrary",
    )
    content, style = Image.open(images["content"]), Image.open(images["style"])
    asked = arbitrary.stylize(content, [style, content], strength=0.8, style_blend=(0.75, 0.25))
    plain = arbitrary.stylize(content, [style])
    served = to_tensor(Image.open(out).convert("RGB"), scale=1)
    assert (served - to_tensor(asked, scale=1)).abs().max() <= 2  # what was asked: both styles, 0.8
    assert (served - to_tensor(plain, scale=1)).abs().mean() > 3


def test_gatys_endpoint_streams_previews_then_the_pastiche(client, images):
    job = client.submit(
        content=handle_file(images["content"]),
        style_image=handle_file(images["style"]),
        steps=16,
        size=96,
        api_name="/stylize_gatys",
    )
    final = job.result(timeout=240)
    outputs = job.outputs()
    assert len(outputs) >= 3, outputs
    assert Image.open(final).size == (96, 64)


def test_on_a_cpu_one_lane_queues_other_methods_with_place_and_eta_and_stop_frees_it(client, server, images):
    """One job at a time on a CPU: a picture asked for during a Gatys run waits in the queue,
    told its place and an estimate, and runs as soon as Stop ends the Gatys run."""
    content, style = handle_file(images["content"]), handle_file(images["style"])
    # One finished run of each, so that the queue has durations to estimate from.
    client.predict(content=content, style_image=style, steps=2, size=64, api_name="/stylize_gatys")
    client.predict(content=content, style="builtin_03", api_name="/stylize_fast")
    job = client.submit(content=content, style_image=style, steps=400, size=256, api_name="/stylize_gatys")
    deadline = time.monotonic() + 120
    while not job.outputs() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.outputs(), "no preview arrived"
    waiting = Client(server, verbose=False).submit(
        content=content, style="builtin_03", api_name="/stylize_fast"
    )
    deadline = time.monotonic() + 10
    while waiting.status().code.name != "IN_QUEUE" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # the queue's estimates go out every second
    status = waiting.status()
    assert status.code.name == "IN_QUEUE" and not waiting.done(), "the picture ran beside the Gatys run"
    assert status.rank == 0 and status.eta is not None and status.eta > 0, status
    job.cancel()
    start = time.monotonic()
    assert Image.open(waiting.result(timeout=60)).size == (150, 100)
    assert time.monotonic() - start < 30, "the cancelled run kept the lane busy"


@pytest.mark.parametrize(
    "call, message",
    [
        ({"content": "text", "style": "mosaic", "api_name": "/stylize_fast"}, "not an image"),
        ({"content": "content", "style": "nope", "api_name": "/stylize_fast"}, "nope"),
        (
            {"content": "content", "style_image": "style", "steps": 0, "api_name": "/stylize_gatys"},
            "minimum value 1",
        ),
        ({"content": "content", "style_image": "text", "api_name": "/stylize_gatys"}, "not an image"),
    ],
)
def test_errors_are_readable(client, images, call, message):
    kwargs = {k: handle_file(images[v]) if v in images and k != "api_name" else v for k, v in call.items()}
    with pytest.raises(Exception, match=message):
        client.predict(**kwargs)


@pytest.mark.slow
def test_without_weights_the_ui_starts_says_what_is_missing_and_gatys_runs_on_mobilenet(tmp_path, images):
    truncated = tmp_path / "torch" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    truncated.parent.mkdir(parents=True)
    torch.save(random_vgg19_features(), truncated)
    truncated.write_bytes(truncated.read_bytes()[:4096])
    proc, url = launch({"TORCH_HOME": str(tmp_path / "torch"), "HF_HUB_CACHE": str(tmp_path / "hub")})
    try:
        config = httpx.get(url + "config", timeout=10).json()
        page = json.dumps(config)
        assert "Gatys is unavailable" not in page and "Fast is partly available" in page
        texts = [c["props"].get("value") for c in config["components"] if c.get("type") == "markdown"]
        [line] = [t for t in texts if str(t).startswith("Runs on **MobileNetV2**")]
        assert line == "Runs on **MobileNetV2**: VGG-19's weights are not installed.", "one line, no error"
        assert [t for t in texts if "vgg19-dcbb9e9d.pth is not a readable weights file" in str(t)]
        accordions = [c["props"]["label"] for c in config["components"] if c.get("type") == "accordion"]
        assert "Details: VGG-19 gives the paper's results" in accordions  # the error, one click away
        assert "maze/FastStyleTransfer: Mosaic_512.pth" in page and page.count("Mosaic_512.pth") == 1
        client = Client(url, verbose=False)
        with pytest.raises(Exception, match=r"Mosaic_512\.pth.*maze/FastStyleTransfer"):
            client.predict(content=handle_file(images["content"]), style="mosaic", api_name="/stylize_fast")
        out = client.predict(
            content=handle_file(images["content"]),
            style_image=handle_file(images["style"]),
            steps=4,
            size=96,
            api_name="/stylize_gatys",
        )
        assert Image.open(out).size == (96, 64)
        out = client.predict(
            content=handle_file(images["content"]), style="builtin_01", api_name="/stylize_fast"
        )
        assert Image.open(out).size == (150, 100)
    finally:
        stop(proc)


@needs_chromium
def test_browser_upload_click_and_see_the_result(server, images, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server)
        page.get_by_text("Neural style transfer").first.wait_for(timeout=60_000)
        page.locator("input[type=file]").first.set_input_files(images["content"])
        result = page.locator("#nst-compare img").nth(1)  # the slider's after: the result
        expect(result).to_have_count(0)
        page.get_by_role("button", name="Stylise").first.click()
        expect(page.locator("#nst-caption")).to_contain_text("150 × 100 px", timeout=60_000)
        page.locator("#nst-compare").scroll_into_view_if_needed()  # its pictures load lazily, in view
        page.wait_for_function("document.querySelectorAll('#nst-compare img')[1].naturalWidth > 0")
        size = result.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert size == [150, 100]
        page.screenshot(path=tmp_path / "fast.png", full_page=True)
        browser.close()


@needs_chromium
def test_browser_paints_a_region_and_only_it_is_stylised(server, images, tmp_path):
    """Strokes on the editor's first layer (read by their alpha) place the style; the rest stays the photo."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(server)
        page.get_by_text("Neural style transfer").first.wait_for(timeout=60_000)
        page.locator("input[type=file]").first.set_input_files(images["content"])
        page.get_by_text("Regions: paint where each style goes").first.click()
        canvas = page.locator("canvas").first
        expect(canvas).to_be_visible(timeout=20_000)
        page.locator("button[aria-label=Brush]").first.click()
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        for column in (0.47, 0.5, 0.53):  # the middle of the photo, top to bottom
            x = box["x"] + box["width"] * column
            page.mouse.move(x, box["y"] + box["height"] * 0.2)
            page.mouse.down()
            page.mouse.move(x, box["y"] + box["height"] * 0.8, steps=4)
            page.mouse.up()
        page.get_by_role("button", name="Stylise").first.click()
        result = page.locator("#nst-compare img").nth(1)
        expect(page.locator("#nst-caption")).to_contain_text("px", timeout=60_000)
        url = result.get_attribute("src")
        page.screenshot(path=tmp_path / "regions.png", full_page=True)
        browser.close()
    picture = to_tensor(Image.open(io.BytesIO(httpx.get(url, timeout=10).content)).convert("RGB"), scale=1)
    photo = to_tensor(Image.open(images["content"]).convert("RGB"), scale=1)
    styled = to_tensor(fast.stylize(Image.open(images["content"]).convert("RGB"), "builtin_00"), scale=1)
    assert picture.shape == photo.shape
    for side in (slice(0, 8), slice(-8, None)):  # unpainted: the photo
        assert (picture[..., side] - photo[..., side]).abs().max() <= 2
    middle = (..., slice(30, 70), slice(70, 80))  # painted solid: the full style, not a blend with the photo
    assert (picture[middle] - styled[middle]).abs().mean() <= 3
    assert (styled[middle] - photo[middle]).abs().mean() > 20


def test_video_with_a_style_image_and_strength_is_what_the_library_paints(client, images, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", static_scene(96, 64, 12), fps=12)
    style = handle_file(images["style"])
    out = client.predict(
        clip=handle_file(str(clip)), style_image=style, strength=0.6, api_name="/stylize_video"
    )
    served = read_frames(out["video"] if isinstance(out, dict) else out).astype(float)
    list(video.stylize_video(clip, tmp_path / "lib.mp4", [Image.open(images["style"])], strength=0.6))
    assert abs(served - read_frames(tmp_path / "lib.mp4")).mean() < 1.5  # the image, at 0.6
    list(video.stylize_video(clip, tmp_path / "full.mp4", [Image.open(images["style"])]))
    assert abs(served - read_frames(tmp_path / "full.mp4")).mean() > 3


def test_gatys_second_style_through_the_app(client, images):
    def pastiche(style: str, **second) -> torch.Tensor:
        out = client.predict(
            content=handle_file(images["content"]),
            style_image=handle_file(images[style]),
            steps=3,
            size=64,
            api_name="/stylize_gatys",
            **second,
        )
        return to_tensor(Image.open(out).convert("RGB"), scale=1)

    grey = pastiche("grey")
    all_grey = pastiche("style", second_style_image=handle_file(images["grey"]), second_style_share=1.0)
    half = pastiche("style", second_style_image=handle_file(images["grey"]), second_style_share=0.5)
    assert (all_grey - grey).abs().max() <= 1  # a share of 1 is the second style alone
    assert (half - grey).abs().mean() > 1 and (half - pastiche("style")).abs().mean() > 1


def test_uploads_have_a_video_cap_and_images_their_own(server, client, tmp_path):
    """The server takes files up to NST_MAX_VIDEO_UPLOAD_MB (100); images stop at NST_MAX_UPLOAD_MB (20)."""
    huge = b"\0" * (101 * 2**20)
    response = httpx.post(
        f"{server}gradio_api/upload", files={"files": ("big.mp4", huge, "video/mp4")}, timeout=60
    )
    assert response.status_code == 413, response.text
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (21 * 2**20))
    with pytest.raises(Exception, match=r"21 MB; this app takes images up to 20 MB \(NST_MAX_UPLOAD_MB\)"):
        client.predict(content=handle_file(str(big)), style="builtin_03", api_name="/stylize_fast")


def test_mcp_clients_list_the_six_tools_get_a_picture_back_and_a_refused_url_in_one_line(server, images):
    """An agent's view: the MCP server at /gradio_api/mcp/ (streamable HTTP), as an MCP client sees it."""
    import asyncio
    import base64
    import io

    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    photo = "data:image/jpeg;base64," + base64.b64encode(Path(images["content"]).read_bytes()).decode()

    async def session() -> tuple[dict, list]:
        url = f"{server}gradio_api/mcp/"
        async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as mcp:
            await mcp.initialize()
            tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
            called = await mcp.call_tool("stylize_fast", {"content": photo, "style": "builtin_03"})
            assert not called.isError, called.content
            loopback = {"content": "http://127.0.0.1:9/photo.png", "style": "builtin_03"}
            refused = await mcp.call_tool("stylize_fast", loopback)
            return tools, called.content, refused

    tools, content, refused = asyncio.run(session())
    said = " ".join(c.text for c in refused.content if c.type == "text")
    assert refused.isError and "only from public addresses" in said and "\n" not in said.strip(), said
    tools_listed = ["contact_sheet", "stylize_arbitrary", "stylize_batch", "stylize_fast", "stylize_gatys"]
    tools_listed += ["stylize_video"]
    assert sorted(tools) == tools_listed
    for tool in tools.values():  # each parameter described, from the function's Args: lines
        assert all(p.get("description") for p in tool.inputSchema["properties"].values()), tool.name
    fast_tool = tools["stylize_fast"]
    assert fast_tool.description.startswith("Paint a photo in a catalogue style")
    assert "builtin_00" in fast_tool.inputSchema["properties"]["style"]["description"]
    [picture] = [c for c in content if c.type == "image"]
    served = Image.open(io.BytesIO(base64.b64decode(picture.data))).convert("RGB")
    expected = fast.stylize(Image.open(images["content"]).convert("RGB"), "builtin_03")
    assert (to_tensor(served, scale=1) - to_tensor(expected, scale=1)).abs().max() <= 1


def test_ui_helpers_skip_the_queue_and_the_methods_use_it(server):
    """The gallery pick, the result view and the tabs' panes answer at once, not behind queued
    pictures; every painting (a button's, a contact-sheet tile's, the Live stream's) is queued."""
    dependencies = httpx.get(f"{server}config", timeout=10).json()["dependencies"]
    helpers = [d for d in dependencies if str(d.get("api_name")).startswith(("pick", "show_"))]
    methods = [d for d in dependencies if str(d.get("api_name", "")).startswith("stylize_")]
    assert len(helpers) >= 7 and all(d["queue"] is False for d in helpers), helpers
    assert len(methods) == 7 and all(d["queue"] is not False for d in methods)


def test_building_the_app_does_no_cuda_work_and_gives_each_method_its_lane_on_a_gpu(monkeypatch, settings):
    """The app built as on ZeroGPU, where CUDA looks available but no GPU is attached while the
    app is built: any tensor sent to CUDA then fails here (this machine has no GPU). With a GPU,
    each method queues in its own lane; on the CPU they share one."""
    from nst.space.layout import build

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    demo = build(settings(device="cuda"))
    lanes = {fn.api_name: fn.concurrency_id for fn in demo.fns.values()}
    assert [lanes[f"stylize_{m}"] for m in ("fast", "arbitrary", "gatys", "video")] == [
        *("fast", "arbitrary", "gatys", "video")
    ]
    demo = build(settings(device="cpu"))
    lanes = {fn.api_name: fn.concurrency_id for fn in demo.fns.values()}
    assert {lanes[f"stylize_{m}"] for m in ("fast", "arbitrary", "gatys", "video")} == {"cpu"}


def test_old_results_are_cleaned_and_the_before_after_pane_closes_what_it_reads(tmp_path, monkeypatch):
    """A new result file removes those over ten minutes old, passing over one that another request
    removed first, and the before/after pane reads a result without leaving it open."""
    import gc
    import pathlib
    import warnings

    results = Results(tmp_path)
    old, fresh, gone = tmp_path / "old.png", tmp_path / "fresh.png", tmp_path / "gone.png"
    for path in (old, fresh, gone):
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 601, time.time() - 601))
    stat = pathlib.Path.stat

    def raced(path, **kwargs):  # another request, finishing too, removes it just after this one listed it
        if path == gone:
            path.unlink()
        return stat(path, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", raced)
    made = results.fresh(".png")
    monkeypatch.undo()
    assert (old.exists(), fresh.exists(), made.parent, made.suffix) == (False, True, tmp_path, ".png")
    content = Image.new("RGB", (40, 30), "red")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        pair = results.before_after(results.png(content, content))
        gc.collect()
    assert pair[0].size == (40, 30)
    assert not [w for w in caught if "unclosed file" in str(w.message)], (
        "the before/after pane left a file open"
    )


def test_each_method_tab_has_examples_that_run_through_its_own_function(server):
    """Fast, Any style, Gatys and Video each show our examples with their own inputs; clicking one
    runs that tab's function (cached on its first use), out of the API, into its result pane."""
    config = httpx.get(f"{server}config", timeout=10).json()
    datasets = [c for c in config["components"] if c.get("type") == "dataset"]
    assert len(datasets) == 4 and len({tuple(d["props"]["component_ids"]) for d in datasets}) == 4
    panes = [
        c["id"]
        for c in config["components"]
        if c["props"].get("elem_id") in ("nst-result", "nst-clip-result")
    ]
    runs = [d for d in config["dependencies"] if str(d.get("api_name")).startswith("load_example")]
    painting = [d for d in runs if set(panes) & set(d["outputs"]) and d["api_visibility"] == "private"]
    assert len(painting) == 4, runs  # each example click paints into its tab's result pane


def test_the_loss_network_asked_for_runs_with_its_optimiser_and_is_in_the_recipe(client, images):
    def recipe(**asked) -> dict:
        out = client.predict(
            content=handle_file(images["content"]),
            style_image=handle_file(images["style"]),
            steps=2,
            api_name="/stylize_gatys",
            **asked,
        )
        return read_recipe(out).recipe.options

    mobilenet = recipe(size=96, loss_network="mobilenet")
    assert (mobilenet["loss_network"], mobilenet["optimizer"], mobilenet["size"]) == ("mobilenet", "adam", 96)
    vgg = recipe(size=96, loss_network="vgg19")
    assert (vgg["loss_network"], vgg["optimizer"]) == ("vgg19", "lbfgs")
    assert recipe()["loss_network"] == "vgg19", "VGG-19 when its weights are there"
    assert recipe(size=1024, loss_network="mobilenet")["size"] == 1024
    with pytest.raises(Exception, match="Size 544 is over 512, the largest on VGG-19 here"):
        recipe(size=544, loss_network="vgg19")
