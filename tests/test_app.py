"""End to end: ``python app.py`` in a subprocess against the stand-in caches, called through gradio_client."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from conftest import launch, stop, synthetic


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("images")
    paths = {"content": folder / "content.jpg", "style": folder / "style.png", "text": folder / "text.png"}
    synthetic(150, 100).save(paths["content"])
    synthetic(64, 64, seed=1).save(paths["style"])
    paths["text"].write_text("I am not a picture")
    return {k: str(v) for k, v in paths.items()}


def test_only_the_two_endpoints_are_public(client):
    assert sorted(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == [
        "/stylize_fast",
        "/stylize_gatys",
    ]


def test_fast_endpoint_by_keyword_keeps_the_size(client, images):
    out = client.predict(content=handle_file(images["content"]), style="mosaic", api_name="/stylize_fast")
    assert Image.open(out).size == (150, 100) and Image.open(out).format == "PNG"
    faint = client.predict(
        content=handle_file(images["content"]), style="scream", strength=0.0, api_name="/stylize_fast"
    )
    assert Image.open(faint).tobytes() == Image.open(images["content"]).tobytes()


def test_gatys_endpoint_streams_previews_then_the_pastiche(client, images):
    job = client.submit(
        content=handle_file(images["content"]),
        style=handle_file(images["style"]),
        steps=16,
        size=96,
        api_name="/stylize_gatys",
    )
    final = job.result(timeout=240)
    outputs = job.outputs()
    assert len(outputs) >= 3, outputs
    assert Image.open(final).size == (96, 64)


def test_stop_ends_the_run_and_frees_the_worker(client, images):
    job = client.submit(
        content=handle_file(images["content"]),
        style=handle_file(images["style"]),
        steps=400,
        size=256,  # 400 steps here take minutes
        api_name="/stylize_gatys",
    )
    deadline = time.monotonic() + 120
    while not job.outputs() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.outputs(), "no preview arrived"
    job.cancel()
    start = time.monotonic()
    quick = client.predict(
        content=handle_file(images["content"]),
        style=handle_file(images["style"]),
        steps=2,
        size=64,
        api_name="/stylize_gatys",
    )
    assert Image.open(quick).size == (64, 43)
    assert time.monotonic() - start < 30, "the cancelled run kept the Gatys worker busy"


@pytest.mark.parametrize(
    "call, message",
    [
        ({"content": "text", "style": "mosaic", "api_name": "/stylize_fast"}, "not an image"),
        ({"content": "content", "style": "nope", "api_name": "/stylize_fast"}, "nope"),
        (
            {"content": "content", "style": "style", "steps": 0, "api_name": "/stylize_gatys"},
            "minimum value 1",
        ),
        ({"content": "content", "style": "text", "api_name": "/stylize_gatys"}, "not an image"),
    ],
)
def test_errors_are_readable(client, images, call, message):
    kwargs = {k: handle_file(images[v]) if v in images and k != "api_name" else v for k, v in call.items()}
    with pytest.raises(Exception, match=message):
        client.predict(**kwargs)


def test_without_weights_the_ui_starts_and_says_what_is_missing(tmp_path, images):
    proc, url = launch({"TORCH_HOME": str(tmp_path / "torch"), "HF_HUB_CACHE": str(tmp_path / "hub")})
    try:
        page = httpx.get(url + "config", timeout=10).text
        assert "Gatys is unavailable" in page and "Fast is unavailable" in page
        assert "vgg19-dcbb9e9d.pth" in page and "maze/FastStyleTransfer" in page
        client = Client(url, verbose=False)
        with pytest.raises(Exception, match=r"Mosaic_512\.pth.*maze/FastStyleTransfer"):
            client.predict(content=handle_file(images["content"]), style="mosaic", api_name="/stylize_fast")
    finally:
        stop(proc)


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)
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
        page.get_by_role("button", name="Stylise").click()
        result = page.locator("img[src*='image.png']").first
        expect(result).to_be_visible(timeout=60_000)
        page.screenshot(path=tmp_path / "fast.png", full_page=True)
        browser.close()
