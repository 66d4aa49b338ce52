import json
import subprocess
import sys

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from conftest import HUB_FILES, examples_state, random_transformer, synthetic
from nst import catalogue, fast, train
from nst.images import to_image, to_tensor
from nst.vgg import WeightsNotFoundError


def _forward(net, img: Image.Image) -> Image.Image:
    with torch.inference_mode():
        return to_image(net(to_tensor(img) * 255) / 255)


def test_both_public_layouts_and_safetensors_load_to_the_same_network(tmp_path):
    net = random_transformer("nearest", seed=5)
    torch.save(examples_state(net), tmp_path / "examples.pth")
    save_file(net.state_dict(), tmp_path / "ours.safetensors", metadata={"upsample": "nearest"})
    img = synthetic(45, 31)
    expected = _forward(net, img).tobytes()
    for name in ("examples.pth", "ours.safetensors"):
        model = fast.load_model(tmp_path / name)
        assert model.upsample == "nearest"
        assert fast.stylize(img, model).tobytes() == expected, name


def test_hub_layout_file_loads_strictly(tmp_path):
    net = random_transformer("deconv", seed=2)
    torch.save(net.state_dict(), tmp_path / "hub.pth")
    assert fast.load_model(tmp_path / "hub.pth").upsample == "deconv"
    broken = net.state_dict()
    broken.pop("DeconvBlock.4.conv_layer.bias")
    broken["extra.weight"] = torch.zeros(1)
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(WeightsNotFoundError, match="does not fit"):
        fast.load_model(tmp_path / "broken.pth")


class _Exploit:
    def __reduce__(self):
        return (exec, ("open(__import__('os').environ['NST_PWNED'], 'w').write('pwned')",))


def test_a_malicious_pickle_is_refused_and_not_executed(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("NST_PWNED", str(marker))
    torch.save({"ConvBlock.0.conv_layer.weight": _Exploit()}, tmp_path / "evil.pth")
    with pytest.raises(WeightsNotFoundError, match="not a loadable weights file"):
        fast.load_model(tmp_path / "evil.pth")
    assert not marker.exists()


@pytest.mark.parametrize("size", [(37, 23), (1, 1), (5, 300), (64, 64)])
def test_output_has_the_input_size(size):
    model = fast.load_model(catalogue.load_catalogue()["mosaic"].fetch())
    assert fast.stylize(synthetic(*size), model).size == size


def test_tiled_matches_untiled():
    model = random_transformer("deconv", seed=1)
    img = synthetic(301, 263)
    whole = torch.tensor(list(fast.stylize(img, model).tobytes()), dtype=torch.int16)
    tiled = torch.tensor(
        list(fast.stylize(img, model, max_pixels=160 * 160, tile_pixels=160 * 160).tobytes()),
        dtype=torch.int16,
    )
    assert (whole - tiled).abs().max() <= 1


def test_strength_zero_is_the_content_and_colour_can_be_kept():
    model = random_transformer("nearest")
    img = synthetic(40, 30)
    assert fast.stylize(img, model, strength=0.0).tobytes() == img.tobytes()
    half = fast.stylize(img, model, strength=0.5)
    assert half.tobytes() not in (img.tobytes(), fast.stylize(img, model).tobytes())

    def chroma_error(out: Image.Image) -> float:
        # Mean |ΔCb|+|ΔCr|; not a max, as out-of-gamut pixels clip on the way back to RGB.
        chroma = torch.tensor(list(out.convert("YCbCr").tobytes())).view(-1, 3)[:, 1:]
        content = torch.tensor(list(img.convert("YCbCr").tobytes())).view(-1, 3)[:, 1:]
        return (chroma - content).abs().float().mean().item()

    kept, free = (
        chroma_error(fast.stylize(img, model, preserve_color=True)),
        chroma_error(fast.stylize(img, model)),
    )
    assert kept < 1.5 and free > 10 * kept
    with pytest.raises(ValueError):
        fast.stylize(img, model, strength=float("nan"))


def test_catalogue_fetches_from_the_hub_cache(hub_cache):
    styles = catalogue.load_catalogue()
    assert list(styles)[:4] == ["mosaic", "rain_princess", "scream", "starry_night"]
    for style, filename in zip(list(styles.values())[:4], HUB_FILES, strict=True):
        assert style.fetch() == hub_cache / filename


def test_catalogue_extras_local_files_and_bad_entries(tmp_path, monkeypatch):
    weights = tmp_path / "weights"
    weights.mkdir()
    save_file(random_transformer("nearest").state_dict(), weights / "my_style.safetensors")
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps(
            {
                "styles": [
                    {
                        "name": "mine",
                        "title": "Mine",
                        "repo_id": "someone/styles",
                        "filename": "mine.safetensors",
                        "layout": "nst",
                    }
                ]
            }
        )
    )
    monkeypatch.setenv("NST_WEIGHTS_DIR", str(weights))
    monkeypatch.setenv("NST_CATALOGUE", str(extra))
    styles = catalogue.load_catalogue()
    assert styles["my_style"].fetch() == weights / "my_style.safetensors"
    with pytest.raises(WeightsNotFoundError, match=r"mine\.safetensors.*someone/styles"):
        styles["mine"].fetch()
    for bad in ("../../etc/passwd", "/etc/passwd", ""):
        with pytest.raises(ValueError, match="relative path"):
            catalogue.Style("x", "X", bad, "hub", repo_id="a/b")
    with pytest.raises(ValueError, match="layout"):
        catalogue.Style("x", "X", "f.pth", "onnx")


def test_cli_fast_is_exactly_the_forward_pass(tmp_path, hub_cache):
    img = synthetic(67, 41)
    img.save(tmp_path / "photo.png")
    net = random_transformer("deconv", seed=0)  # the mosaic stand-in
    expected = _forward(net, img).tobytes()
    run = [sys.executable, "-m", "nst", "fast", str(tmp_path / "photo.png")]
    result = subprocess.run(
        [*run, "-o", str(tmp_path / "a.png"), "--style", "mosaic"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "a.png").tobytes() == expected
    result = subprocess.run(
        [*run, "-o", str(tmp_path / "b.png"), "--weights", str(hub_cache / HUB_FILES[0])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "b.png").tobytes() == expected
    result = subprocess.run(
        [*run, "-o", str(tmp_path / "c.png"), "--style", "nope"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1 and "mosaic" in result.stderr


def test_missing_hub_file_offline_names_repo_and_file(tmp_path, monkeypatch):
    style = catalogue.Style("ghost", "Ghost", "Ghost_512.pth", "hub", repo_id="maze/FastStyleTransfer")
    with pytest.raises(WeightsNotFoundError, match=r"Ghost_512\.pth.*maze/FastStyleTransfer"):
        style.fetch()


def test_training_lowers_the_loss_exports_and_resumes(tmp_path):
    data = tmp_path / "photos" / "nested"
    data.mkdir(parents=True)
    for seed in range(3):
        synthetic(48, 40, seed=seed).save(data / f"{seed}.jpg")
    out = tmp_path / "model"
    style = synthetic(64, 64, seed=9)
    events = list(
        train.train(
            style,
            tmp_path / "photos",
            out,
            name="mine",
            steps=12,
            image_size=32,
            batch_size=3,
            lr=1e-2,
            checkpoint_every=4,
        )
    )
    assert [e.step for e in events] == list(range(1, 13))
    assert events[-1].losses["total"] < events[0].losses["total"]
    model = fast.load_model(out / "mine.safetensors")
    assert fast.stylize(synthetic(20, 10), model).size == (20, 10)
    config = json.loads((out / "config.json").read_text())
    assert config["steps"] == 12 and config["content_layer"] == "relu2_2"
    assert "mine" in (out / "README.md").read_text()
    resumed = list(
        train.train(style, tmp_path / "photos", out, name="mine", steps=14, image_size=32, batch_size=3)
    )
    assert [e.step for e in resumed] == [13, 14]


def test_push_uploads_the_folder_without_the_checkpoint(tmp_path, monkeypatch):
    calls = []

    class FakeCommit:
        commit_url = "https://huggingface.co/me/style/commit/abc"

    monkeypatch.setattr(train.HfApi, "create_repo", lambda self, *a, **k: calls.append(("create", a, k)))
    monkeypatch.setattr(
        train.HfApi, "upload_folder", lambda self, **k: calls.append(("upload", k)) or FakeCommit()
    )
    with pytest.raises(ValueError, match=r"no \.safetensors"):
        train.push(tmp_path, "me/style")
    (tmp_path / "s.safetensors").write_bytes(b"x")
    assert train.push(tmp_path, "me/style") == FakeCommit.commit_url
    create, upload = calls
    assert create[1] == ("me/style",) and create[2]["exist_ok"] is True
    assert upload[1]["repo_id"] == "me/style" and upload[1]["folder_path"] == tmp_path
    assert "checkpoint.pt" in upload[1]["ignore_patterns"]
