"""The Space as a visitor uses it, in Chromium: a layout per task, a result at its own size, and a
history of one's own; and the history's bounds, without a browser."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from nst import cli
from nst.base.recipes import file_digest, read_recipe
from nst.base.settings import current
from nst.methods import again, fast, video
from nst.space import reuse, view
from nst.space.presets import ARBITRARY, FAST, GATYS
from nst.space.view import History
from tests.support.browser import CHROMIUM, needs_chromium
from tests.support.clips import static_scene, write_clip
from tests.support.device import LEVELS
from tests.support.pictures import synthetic


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("visitor") / "photo.png"
    synthetic(150, 100).save(path)
    return str(path)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


def _open(browser: object, url: str) -> object:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(url)
    page.locator("#nst-content").wait_for(timeout=60_000)
    return page


def _stylise(page: object, photo: str | None, results: int) -> None:
    """Upload ``photo`` (unless None), click the Fast tab's Stylise, and wait for the history to hold
    ``results`` pictures."""
    from playwright.sync_api import expect

    if photo is not None:
        page.locator("#nst-content input[type=file]").set_input_files(photo)
    page.get_by_role("button", name="Stylise", exact=True).first.click()
    expect(page.locator("#nst-history .thumbnail-item")).to_have_count(results, timeout=20_000)


@needs_chromium
def test_the_video_and_live_tabs_show_no_photo_or_result_pane(server):
    from playwright.sync_api import expect

    with chromium() as browser:
        page = _open(browser, server)
        shared = [page.locator("#nst-content"), page.locator("#nst-compare")]
        tour = (("Video", False), ("Live", False), ("Gatys", True), ("Live", False), ("Fast", True))
        for tab, seen in tour:
            page.get_by_role("tab", name=tab).click()
            for pane in shared:
                (expect(pane).to_be_visible if seen else expect(pane).to_be_hidden)(timeout=10_000)
        page.get_by_role("tab", name="Video").click()
        expect(page.locator("#nst-clip")).to_be_visible()


@needs_chromium
def test_a_result_is_shown_at_its_own_size_never_stretched_and_says_it(server, photo):
    from playwright.sync_api import expect

    with chromium() as browser:
        page = _open(browser, server)
        _stylise(page, photo, 1)
        expect(page.locator("#nst-caption")).to_contain_text("150 × 100 px")
        after = page.locator("#nst-compare img").nth(1)
        shown = after.evaluate("img => [img.naturalWidth, img.getBoundingClientRect().width]")
    assert shown == [150, 150], "the column is 600 px wide: a 150 px picture must not fill it"


@needs_chromium
@pytest.mark.parametrize(
    ("width", "height", "beside"), [(1366, 768, True), (390, 844, False)], ids=["laptop", "phone"]
)
def test_after_a_click_on_stylise_the_result_is_in_sight(server, photo, width, height, beside):
    """The button sits below the styles. On a laptop the result view stays beside the controls (the
    button stays in sight too); on a phone it stands under them and the page brings it into sight."""
    with chromium() as browser:
        page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        page.goto(server)
        page.locator("#nst-content").wait_for(timeout=60_000)
        button = page.get_by_role("button", name="Stylise", exact=True).first
        assert button.bounding_box()["y"] > height, "the button starts out of sight: the page scrolls to it"
        page.locator("#nst-content input[type=file]").set_input_files(photo)
        page.locator("#nst-content img").wait_for()  # the page's length settled
        button.scroll_into_view_if_needed()
        clicked_at = page.evaluate("window.scrollY")
        _stylise(page, None, 1)
        page.wait_for_timeout(1000)  # a smooth scroll's time
        box, pressed = page.locator("#nst-compare img").nth(1).bounding_box(), button.bounding_box()
        scrolled = page.evaluate("window.scrollY") > clicked_at
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box
    assert (0 <= pressed["y"] <= height) == beside, pressed
    assert scrolled != beside, "on a phone the click scrolls to the result; beside it, nothing moves"


@needs_chromium
def test_the_video_tab_picks_styles_by_picture_and_its_example_paints_a_clip(server, tmp_path):
    from playwright.sync_api import expect

    with chromium() as browser:
        page = _open(browser, server)
        fast_tiles = page.locator("#nst-gallery .thumbnail-item")  # the Fast tab's, built alike
        expect(fast_tiles.nth(25)).to_be_visible(timeout=10_000)
        shown = fast_tiles.count()
        page.get_by_role("tab", name="Video").click()
        tiles = page.locator("#nst-video-gallery .thumbnail-item")
        expect(tiles).to_have_count(shown, timeout=10_000)
        assert shown >= 26, "every built-in style at least"
        tiles.nth(3).click()
        style = page.locator(".tabitem:visible").get_by_label("Style", exact=True).first
        expect(style).to_have_value(list(fast.ready_styles().values())[3].title)
        page.locator(".tabitem:visible tr.tr-body").first.click()  # the example
        painted = page.locator("#nst-clip-result video")
        expect(painted).to_have_attribute("src", re.compile(r"\.mp4"), timeout=120_000)
        (tmp_path / "painted.mp4").write_bytes(httpx.get(painted.get_attribute("src"), timeout=10).content)
    info = video.probe(tmp_path / "painted.mp4")
    assert info.frames >= 30 and (info.width, info.height) == (360, 240), info


@needs_chromium
def test_two_sessions_histories_stay_apart(server, photo):
    """Each browser session sees only its own results, newest first."""
    with chromium() as browser:
        first, second = _open(browser, server), _open(browser, server)
        _stylise(first, photo, 1)
        _stylise(second, photo, 1)
        _stylise(first, None, 2)
        time.sleep(1)  # any leak from the first would have reached the second by now
        seen = [page.locator("#nst-history .thumbnail-item").count() for page in (first, second)]
    assert seen == [2, 1]


def _file(tmp_path, name: str, size: int = 1000, age: float = 0) -> str:
    path = tmp_path / name
    path.write_bytes(b"x" * size)
    os.utime(path, (time.time() - age, time.time() - age))
    return str(path)


def test_a_history_keeps_the_newest_within_its_bounds_and_drops_cleaned_results(tmp_path, monkeypatch):
    history = History()
    for i in range(view.HISTORY_COUNT + 3):
        history = history.remember(_file(tmp_path, f"{i}.png"), f"result {i}")
    assert [e.caption for e in history.entries] == [f"result {i}" for i in range(14, 2, -1)]
    os.unlink(history.entries[1].path)  # cleaned with the results
    history = history.remember(_file(tmp_path, "new.png"), "new")
    assert [e.caption for e in history.entries][:3] == ["new", "result 14", "result 12"]
    monkeypatch.setattr(view, "HISTORY_MB", 3 / 1024)  # 3 KB: three of these 1 KB files
    history = history.remember(_file(tmp_path, "last.png"), "last")
    assert [e.caption for e in history.entries] == ["last", "new", "result 14"]
    assert history.gallery()[0] == (str(tmp_path / "last.png"), "last")


def _after(page: object) -> np.ndarray:
    """The picture the result view shows, as the server sent it."""
    src = page.locator("#nst-compare img").nth(1).get_attribute("src")
    return np.asarray(Image.open(io.BytesIO(httpx.get(src, timeout=10).content)).convert("RGB"))


@needs_chromium
def test_a_contact_sheet_click_selects_the_style_and_paints_it(server, photo):
    from playwright.sync_api import expect

    ready = fast.ready_styles()
    with chromium() as browser:
        page = _open(browser, server)
        page.locator("#nst-content input[type=file]").set_input_files(photo)
        page.get_by_role("button", name="Paint every style on my photo").click()
        tiles = page.locator("#nst-sheet .thumbnail-item")
        expect(tiles).to_have_count(len(ready), timeout=60_000)
        name = list(ready)[5]
        expect(tiles.nth(5)).to_contain_text(name)
        tiles.nth(5).click()
        expect(page.locator("#nst-history .thumbnail-item")).to_have_count(1, timeout=60_000)
        chosen = page.get_by_label("Style", exact=True).first.input_value()
        painted = _after(page)
    assert chosen == ready[name].title
    expected = np.asarray(fast.stylize(Image.open(photo).convert("RGB"), name, FAST))
    assert np.abs(painted.astype(int) - expected).max() <= LEVELS


@needs_chromium
def test_a_result_dropped_back_restores_its_controls_and_paints_the_same_picture(server, photo, tmp_path):
    from playwright.sync_api import expect

    with chromium() as browser:
        page = _open(browser, server)
        page.locator("#nst-content input[type=file]").set_input_files(photo)
        page.locator("#nst-gallery .thumbnail-item").nth(7).click()
        strength = page.get_by_label("number input for Strength").first
        strength.fill("0.6")
        strength.press("Enter")
        _stylise(page, None, 1)
        first = _after(page)
        Image.fromarray(first).save(tmp_path / "plain.png")  # the same pixels, without the recipe
        src = page.locator("#nst-compare img").nth(1).get_attribute("src")
        (tmp_path / "result.png").write_bytes(httpx.get(src, timeout=10).content)
        page.locator("#nst-gallery .thumbnail-item").nth(2).click()  # the controls move on
        strength.fill("1")
        strength.press("Enter")
        page.locator("#nst-reuse input[type=file]").set_input_files(str(tmp_path / "plain.png"))
        expect(page.get_by_text("carries no recipe")).to_be_visible(timeout=10_000)
        page.locator("#nst-reuse input[type=file]").set_input_files(str(tmp_path / "result.png"))
        expect(strength).to_have_value("0.6", timeout=10_000)
        style = page.get_by_label("Style", exact=True).first.input_value()
        _stylise(page, None, 2)
        again = _after(page)
    assert style == fast.ready_styles()[list(fast.ready_styles())[7]].title
    assert np.array_equal(first, again)


def test_every_methods_result_through_gradio_client_carries_its_recipe_and_paints_again(
    server, photo, tmp_path
):
    """A result downloaded through the API names its method, styles and options; the library and
    ``python -m nst again`` paint the same picture from the PNG (plus the style image) alone."""
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    style = tmp_path / "style.png"
    synthetic(64, 64, seed=1).save(style)
    calls = {
        "fast": {"api_name": "/stylize_fast", "style": "builtin_03", "strength": 0.7},
        "arbitrary": {"api_name": "/stylize_arbitrary", "style_image": handle_file(str(style))},
        "gatys": {
            "api_name": "/stylize_gatys",
            "style_image": handle_file(str(style)),
            "steps": 4,
            "size": 64,
        },
    }
    for method, call in calls.items():
        out = client.predict(content=handle_file(photo), **call)
        painted = read_recipe(out)
        assert (painted.recipe.method, painted.content.size) == (method, (150, 100))
        served = np.asarray(Image.open(out).convert("RGB"))
        library = again.paint_again(painted.recipe, painted.content, {file_digest(style): str(style)})
        assert np.array_equal(served, np.asarray(library)), method
        assert (
            cli.main(["again", out, "-o", str(tmp_path / f"{method}.png"), "--style-image", str(style)]) == 0
        )
        assert np.array_equal(served, np.asarray(Image.open(tmp_path / f"{method}.png").convert("RGB")))
    clip = write_clip(tmp_path / "clip.mp4", static_scene(64, 48, 4), fps=4)
    out = client.predict(
        clip=handle_file(str(clip)), style_image=handle_file(str(style)), api_name="/stylize_video"
    )
    recipe = video.read_recipe(out)
    expected = ("video", (file_digest(style),), current().arbitrary_side)  # as the app decoded it
    assert (recipe.method, recipe.styles, recipe.style_side) == expected


def test_reuse_settings_takes_a_style_image_from_the_session_and_asks_in_one_line_for_one_gone(tmp_path):
    style = tmp_path / "style.png"
    synthetic(64, 64, seed=1).save(style)
    digest = file_digest(style)
    made = again.recipe("arbitrary", [digest, "sha256:" + "0" * 64], ARBITRARY, style_side=1536)
    history = History().remember(str(style), "a result", [str(style)])  # the visitor used it
    assert history.styles == {digest: str(style)}
    values = reuse.controls(made, history.styles)
    assert (values["style_image"], values["second_style_image"]) == (str(style), None)
    line = reuse.missing_line(made, history.styles)
    assert "sha256:000000000000…" in line and "\n" not in line and digest[:19] not in line
    style.unlink()  # cleaned away: the session no longer has it
    assert not history.remember(str(tmp_path / "gone.png"), "x").styles


def test_reuse_settings_puts_back_a_gatys_runs_loss_network_with_its_size_and_weights():
    options = dataclasses.replace(GATYS, loss_network="mobilenet", size=1024)
    made = again.recipe("gatys", ["sha256:" + "1" * 64], options, style_side=2048)
    values = reuse.controls(made, {})
    assert (values["loss_network"], values["size"]) == ("mobilenet", 1024)
    assert (values["optimizer"], values["style_weight"]) == ("adam", 7.5), "the network's own, as it ran"


def test_the_contact_sheet_endpoint_gives_every_ready_style_by_name_and_a_bad_photo_one_line(server, photo):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    sheet = client.predict(content=handle_file(photo), api_name="/contact_sheet")
    ready = fast.ready_styles()
    assert [tile["caption"] for tile in sheet] == [f"{style.title} ({name})" for name, style in ready.items()]
    assert {Image.open(tile["image"]).size for tile in sheet} == {(150, 100)}
    with pytest.raises(Exception, match="only from public addresses"):
        client.predict(content=handle_file("http://127.0.0.1:9/photo.png"), api_name="/contact_sheet")
