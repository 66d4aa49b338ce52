"""Many photos at once through the Space's batch endpoint: a gallery and a ZIP of every good photo,
one line for a bad one, progress by photo, and single pictures served beside it."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from nst.base.recipes import read_recipe
from nst.methods import fast
from nst.space.batches import entry_names
from tests.support.pictures import synthetic


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server, verbose=False)


def _pixels(source: str | bytes) -> np.ndarray:
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
        return np.asarray(img.convert("RGB"))


def test_a_batch_gives_every_good_photo_a_picture_and_a_zip_entry_and_the_bad_one_a_line(client, tmp_path):
    (tmp_path / "again").mkdir()
    photos = [
        tmp_path / "beach.jpg",
        tmp_path / "notes.png",
        tmp_path / "again" / "beach.png",
        tmp_path / "cat.png",
    ]
    synthetic(96, 64).save(photos[0])
    photos[1].write_text("not a picture")
    synthetic(80, 60, seed=2).save(photos[2])
    synthetic(64, 64, seed=3).save(photos[3])
    job = client.submit(
        photos=[handle_file(str(p)) for p in photos], style="builtin_03", api_name="/stylize_batch"
    )
    gallery, archive, report = job.result(timeout=120)
    assert [item["caption"] for item in gallery] == ["beach.png", "beach-2.png", "cat.png"]
    assert Path(archive).name.startswith("stylised-photos-")  # what the visitor downloads
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.namelist() == ["beach.png", "beach-2.png", "cat.png"]
        for item, photo in zip(gallery, [photos[0], photos[2], photos[3]], strict=True):
            single = fast.stylize(Image.open(photo).convert("RGB"), "builtin_03")
            np.testing.assert_array_equal(_pixels(zipped.read(item["caption"])), np.asarray(single))
            np.testing.assert_array_equal(_pixels(item["image"]), np.asarray(single))
    failed = [line for line in report.splitlines() if line.startswith("- ")]
    assert (
        len(failed) == 1
        and failed[0].startswith("- notes.png is not an image")
        and "3 of 4 painted" in report
    )
    assert any("painting cat.png" in shown[2] for shown in job.outputs()), job.outputs()
    assert read_recipe(gallery[0]["image"]).recipe.styles == ("builtin_03",)


def test_a_batch_with_a_style_image_paints_with_any_style_and_too_many_photos_are_refused(client, tmp_path):
    synthetic(64, 48).save(tmp_path / "photo.png")
    synthetic(64, 64, seed=4).save(tmp_path / "painting.png")
    photo = handle_file(str(tmp_path / "photo.png"))
    gallery, _, _ = client.predict(
        photos=[photo], style_image=handle_file(str(tmp_path / "painting.png")), api_name="/stylize_batch"
    )
    assert read_recipe(gallery[0]["image"]).recipe.method == "arbitrary"
    with pytest.raises(Exception, match="paints up to 20 at once"):
        client.predict(photos=[photo] * 21, style="builtin_03", api_name="/stylize_batch")


def test_a_single_picture_is_served_while_a_batch_paints(client, tmp_path):
    """The batch has a lane of its own: a Fast call made while it paints ends before it does."""
    for k in range(16):
        synthetic(800, 600, seed=k).save(tmp_path / f"{k}.jpg")
    synthetic(96, 64).save(tmp_path / "single.png")
    batch = client.submit(
        photos=[handle_file(str(tmp_path / f"{k}.jpg")) for k in range(16)],
        style="builtin_05",
        working_side=0,
        api_name="/stylize_batch",
    )
    deadline = time.monotonic() + 60
    while len(batch.outputs()) < 2 and time.monotonic() < deadline:  # its first photo painted
        time.sleep(0.05)
    single = client.predict(
        content=handle_file(str(tmp_path / "single.png")), style="builtin_03", api_name="/stylize_fast"
    )
    # A report comes before each photo: behind the batch, the single would wait for all 16 reports
    # (the one at the end may reach this client after the single's answer).
    shown = len(batch.outputs())
    assert Path(single).is_file() and shown <= 12, shown
    batch.result(timeout=240)


def test_each_photo_is_named_after_itself_and_a_name_used_twice_is_numbered():
    assert entry_names(["a/x.jpg", "b/x.png", "c/x.webp", "y.tif"]) == [
        "x.png",
        "x-2.png",
        "x-3.png",
        "y.png",
    ]
