import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from nst.base.images import ImageError, load_image, resize_long_side, save_image, to_image, to_tensor


def _encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _modes() -> dict[str, bytes]:
    grad = np.linspace(0, 1, 32 * 24, dtype=np.float32).reshape(24, 32)
    rgba = Image.new("RGBA", (32, 24), (255, 0, 0, 0))
    palette = Image.new("P", (32, 24), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.info["transparency"] = 0
    frames = [Image.new("RGB", (32, 24), c) for c in ((0, 0, 255), (255, 0, 0))]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    return {
        "L": _encode(Image.new("L", (32, 24), 90), "PNG"),
        "LA": _encode(Image.new("LA", (32, 24), (0, 0)), "PNG"),
        "P+transparency": _encode(palette, "PNG"),
        "CMYK": _encode(Image.new("CMYK", (32, 24), (0, 255, 255, 0)), "JPEG"),
        "I;16": _encode(Image.fromarray((grad * 65535).astype(np.uint16)), "PNG"),
        "F": _encode(Image.fromarray(grad, "F"), "TIFF"),
        "RGBA": _encode(rgba, "PNG"),
        "GIF": gif.getvalue(),
    }


@pytest.mark.parametrize("name", list(_modes()))
def test_every_mode_decodes_to_rgb(name):
    img = load_image(_modes()[name])
    assert img.mode == "RGB" and img.size == (32, 24)


def test_alpha_is_composited_on_white_and_deep_greys_are_scaled():
    modes = _modes()
    assert load_image(modes["RGBA"]).getpixel((0, 0)) == (255, 255, 255)
    assert load_image(modes["P+transparency"]).getpixel((0, 0)) == (255, 255, 255)
    deep = load_image(modes["I;16"])
    assert deep.getpixel((0, 0))[0] == 0 and deep.getpixel((31, 23))[0] == 255
    assert load_image(modes["F"]).getpixel((31, 23))[0] == 255
    assert load_image(modes["GIF"]).getpixel((0, 0)) == (0, 0, 255), "first frame"
    r, g, b = load_image(modes["CMYK"]).getpixel((0, 0))
    assert r > 200 and g < 60 and b < 60


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 20, 20))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = load_image(_encode(img, "JPEG", exif=exif, quality=95))
    assert out.size == (20, 40)
    assert out.getpixel((10, 2))[2] > 200, "the blue half is on top once upright"


@pytest.mark.parametrize("payload", [b"", b"hello, I am text", b"\x89PNG\r\n\x1a\n" + b"\0" * 20])
def test_non_images_are_refused(payload):
    with pytest.raises(ImageError):
        load_image(payload)


def test_truncated_file_is_refused():
    data = _encode(Image.effect_noise((64, 64), 50).convert("RGB"), "PNG")
    with pytest.raises(ImageError, match="complete"):
        load_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding(settings):
    settings(max_image_pixels=1000)
    with pytest.raises(ImageError, match="megapixels"):
        load_image(_encode(Image.new("L", (100, 100)), "PNG"))


def test_resize_keeps_aspect_and_draft_shrinks_jpeg(monkeypatch):
    img = Image.new("RGB", (300, 100))
    assert resize_long_side(img, 96).size == (96, 32)
    assert resize_long_side(Image.new("RGB", (12000, 8)), 512).size == (512, 1)
    decoded = []
    load = ImageFile.ImageFile.load

    def spy(self):
        out = load(self)
        decoded.append(self.size)  # the pixels actually decoded
        return out

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    assert load_image(_encode(Image.new("RGB", (800, 600)), "JPEG"), max_side=100).size == (100, 75)
    assert decoded and max(max(size) for size in decoded) <= 200, decoded


def test_tensor_round_trip_and_png_default(tmp_path):
    img = Image.effect_noise((17, 9), 60).convert("RGB")
    t = to_tensor(img)
    assert t.shape == (1, 3, 9, 17) and t.is_contiguous()
    assert to_image(t).tobytes() == img.tobytes()
    save_image(img, tmp_path / "out")
    assert Image.open(tmp_path / "out").format == "PNG"
