import itertools
import json
import os
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from nst.base.images import to_image, to_tensor
from nst.base.weights import WeightsError
from nst.methods import catalogue, fast, train
from nst.methods.engine import NetworkStyle
from nst.methods.train import publish
from nst.networks.transformer import TransformerNet, load_model
from tests.support.device import LEVELS, full_float32
from tests.support.pictures import frechet, synthetic
from tests.support.plain import PlainTransformerNet
from tests.support.standins import (
    HUB_FILES,
    card_names,
    examples_state,
    hub_dataset,
    hub_standin,
    painted_transformer,
    random_transformer,
)


def _forward(net, img: Image.Image) -> Image.Image:
    with torch.inference_mode():
        return to_image(net.eval()(to_tensor(img) * 255) / 255)


def _levels_apart(a: Image.Image, b: Image.Image) -> int:
    return int((to_tensor(a, scale=1) - to_tensor(b, scale=1)).abs().max())


def test_every_key_naming_loads_to_the_same_network(tmp_path):
    img = synthetic(45, 31)
    deconv = random_transformer("deconv", seed=5)
    nearest = random_transformer("nearest", seed=6)
    files = {
        "rrmina.pth": (deconv.state_dict(), deconv),
        "card.pth": (card_names(deconv.state_dict()), deconv),
        "anonymous.pth": ({f"t{i}": v for i, v in enumerate(deconv.state_dict().values())}, deconv),
        "examples.pth": (examples_state(nearest), nearest),
        "ours.safetensors": (nearest.state_dict(), nearest),
    }
    outputs = {}
    for name, (state, net) in files.items():
        if name.endswith(".pth"):
            torch.save(state, tmp_path / name)
        else:
            save_file(state, tmp_path / name)
        model = load_model(tmp_path / name)
        assert model.upsample == net.upsample, name
        outputs[name] = fast.stylize(img, NetworkStyle(model))
        assert _levels_apart(outputs[name], _forward(net, img)) <= 1, name  # NCHW there: other kernels
    assert len({outputs[n].tobytes() for n in ("rrmina.pth", "card.pth", "anonymous.pth")}) == 1
    assert outputs["examples.pth"].tobytes() == outputs["ours.safetensors"].tobytes()


def test_a_mismatch_names_the_first_tensor_that_does_not_fit(tmp_path):
    state = random_transformer("deconv", seed=2).state_dict()
    keys = list(state)
    state[keys[6]] = torch.zeros(64, 31, 3, 3)  # ConvBlock.2's convolution, one input channel short
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(WeightsError, match=rf"broken\.pth .*tensor 6 \({keys[6]}\)") as err:
        load_model(tmp_path / "broken.pth")
    assert "\n" not in str(err.value)
    torch.save(dict(list(state.items())[:5]), tmp_path / "short.pth")
    with pytest.raises(WeightsError, match="5 tensors"):
        load_model(tmp_path / "short.pth")


class _Exploit:
    def __reduce__(self):
        return (exec, ("open(__import__('os').environ['NST_PWNED'], 'w').write('pwned')",))


def test_a_malicious_pickle_is_refused_and_not_executed(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("NST_PWNED", str(marker))
    torch.save({"ConvBlock.0.conv_layer.weight": _Exploit()}, tmp_path / "evil.pth")
    with pytest.raises(WeightsError, match="not a readable weights file") as err:
        load_model(tmp_path / "evil.pth")
    assert not marker.exists()
    assert "weights_only" not in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("damage", ["truncated", "text"])
def test_a_damaged_style_file_is_one_line(tmp_path, damage):
    path = tmp_path / "style.pth"
    torch.save(random_transformer("deconv").state_dict(), path)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100_000])
    else:
        path.write_text("not weights")
    with pytest.raises(WeightsError, match=r"style\.pth is not a readable weights file") as err:
        load_model(path)
    assert "\n" not in str(err.value)


def _lay_repo(repo_id: str, nets: dict[str, TransformerNet], declared: dict, tmp_path, settings) -> None:
    """A Hub repo of ``nets`` in the test Hub cache, and a catalogue file listing them."""
    repo = Path(os.environ["HF_HUB_CACHE"]) / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text("a" * 40)
    entries = []
    for name, net in nets.items():
        torch.save(net.state_dict(), snapshot / f"{name}.pth")
        mean = catalogue.load_catalogue()[name].mean_rgb
        entries.append(
            {"name": f"{repo_id}-{name}", "title": name, "repo_id": repo_id, "filename": f"{name}.pth"}
            | {"mean_rgb": list(mean)}
            | declared
        )
    (tmp_path / "extra.json").write_text(json.dumps({"styles": entries}))
    settings(catalogue=str(tmp_path / "extra.json"))


def _probe_mean(style: NetworkStyle) -> torch.Tensor:
    grey = (torch.full((1, 3, 64, 64), 128.0) + 40 * torch.randn(1, 1, 64, 64)).to(style.device)
    with torch.inference_mode():
        return style.network(grey).mean(dim=(0, 2, 3)).cpu()


def test_the_hub_repo_is_read_as_bgr_and_paints_in_the_paintings_colours():
    assert fast.reading("maze/FastStyleTransfer", "main") == ("bgr", "clamp")
    for name in ("mosaic", "starry_night"):
        model = fast.load_style(name)
        assert model.network.channels == "bgr"
        painting = torch.tensor(catalogue.load_catalogue()[name].mean_rgb)
        assert (_probe_mean(model) - painting).abs().max() < 8, name


@pytest.mark.parametrize(
    "trained, declared",
    [
        (("rgb", "tanh150"), {"channels": "rgb", "head": "clamp"}),
        (("bgr", "clamp"), {"channels": "rgb", "head": "clamp"}),
        (("rgb", "clamp"), {"channels": "rgb", "head": "clamp"}),
        (("rgb", "clamp"), {"channels": "bgr", "head": "tanh150"}),
    ],
)
def test_channel_order_and_head_are_checked_at_load(trained, declared, tmp_path, settings):
    channels, head = trained
    repo_id = f"test/{channels}-{head}-declared-{declared['channels']}-{declared['head']}"
    names = ("rain_princess", "scream", "starry_night")
    styles = catalogue.load_catalogue()
    nets = {
        name: painted_transformer(styles[name].mean_rgb, seed, channels, head)
        for seed, name in enumerate(names)
    }
    _lay_repo(repo_id, nets, declared, tmp_path, settings)
    assert fast.reading(repo_id, "main") == trained
    model = fast.load_style(f"{repo_id}-starry_night")
    mean = _probe_mean(model)
    assert mean[2] > mean[0], "Starry Night is blue"


@pytest.mark.parametrize("size", [(37, 23), (1, 1), (5, 300), (64, 64)])
@pytest.mark.parametrize("style", ["mosaic", "builtin_07"])
def test_output_has_the_input_size(size, style):
    assert fast.stylize(synthetic(*size), style).size == size


def test_tiled_matches_untiled():
    model = NetworkStyle(random_transformer("deconv", seed=1))
    img = synthetic(301, 263)
    whole = to_tensor(fast.stylize(img, model), scale=1)
    tiled = to_tensor(fast.stylize(img, model, max_pixels=160 * 160, tile_pixels=256 * 256), scale=1)
    assert (whole - tiled).abs().max() <= 1


def test_tiles_hold_exact_statistics_above_a_megapixel():
    """Tiles used to measure statistics on a copy shrunk to 1 MP; now every size is exact."""
    model = fast.load_style("builtin_09")
    img = synthetic(1216, 1000, seed=4)
    with full_float32():
        whole = to_tensor(fast.stylize(img, model, half=False), scale=1)
        tiled = to_tensor(fast.stylize(img, model, max_pixels=1, tile_pixels=640 * 640, half=False), scale=1)
    assert (whole - tiled).abs().max() <= LEVELS


def test_strength_zero_is_the_content_and_colour_can_be_kept():
    net = random_transformer("nearest")
    model = NetworkStyle(net)
    img = synthetic(40, 30)
    assert fast.stylize(img, NetworkStyle(net, 0.0)).tobytes() == img.tobytes()
    half = fast.stylize(img, NetworkStyle(net, 0.5))
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
    assert fast.stylize(img, model, preserve_color="luminance").tobytes() == (
        fast.stylize(img, model, preserve_color=True).tobytes()
    ), "True, from older recipes and callers, is luminance"
    with pytest.raises(ValueError):
        NetworkStyle(net, float("nan"))
    with pytest.raises(ValueError, match="carries its own strength"):
        fast.stylize(img, model, strength=0.5)


def test_catalogue_fetches_from_the_hub_cache(hub_cache):
    styles = catalogue.load_catalogue()
    assert list(styles)[:27] == [f"builtin_{i:02d}" for i in range(26)] + ["mosaic"]
    for style, filename in zip(list(styles.values())[26:30], HUB_FILES, strict=True):
        assert style.fetch() == hub_cache / filename


def test_catalogue_extras_local_files_and_bad_entries(tmp_path, settings):
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
                    }
                ]
            }
        )
    )
    settings(weights_dir=str(weights), catalogue=str(extra))
    styles = catalogue.load_catalogue()
    assert styles["my_style"].fetch() == weights / "my_style.safetensors"
    with pytest.raises(WeightsError, match=r"mine\.safetensors.*someone/styles"):
        styles["mine"].fetch()
    for bad in ("../../etc/passwd", "/etc/passwd", ""):
        with pytest.raises(ValueError, match="relative path"):
            catalogue.Style("x", "X", "hub", bad, repo_id="a/b")
    for field, value in (("kind", "onnx"), ("channels", "grb"), ("head", "tanh")):
        with pytest.raises(ValueError, match=field):
            catalogue.Style("x", "X", **{"kind": "hub", "filename": "f.pth", "repo_id": "a/b", field: value})


def test_cli_fast_is_exactly_the_forward_pass(tmp_path, hub_cache, nst):
    img = synthetic(67, 41)
    img.save(tmp_path / "photo.png")
    net = TransformerNet("deconv", channels="bgr")  # the mosaic stand-in, read as the probe decides
    net.load_state_dict(hub_standin(catalogue.load_catalogue()["mosaic"].mean_rgb, 0).state_dict())
    expected = _forward(net, img)
    run = ["fast", tmp_path / "photo.png"]
    result = nst(*run, "-o", tmp_path / "a.png", "--style", "mosaic")
    assert result.returncode == 0, result.stderr
    assert _levels_apart(Image.open(tmp_path / "a.png"), expected) <= 1  # other kernels: NCHW here
    result = nst(*run, "-o", tmp_path / "c.png", "--style", "nope")
    assert result.returncode == 1 and "mosaic" in result.stderr


def test_missing_hub_file_offline_names_repo_and_file(tmp_path, monkeypatch):
    style = catalogue.Style("ghost", "Ghost", "hub", "Ghost_512.pth", repo_id="maze/FastStyleTransfer")
    with pytest.raises(WeightsError, match=r"Ghost_512\.pth.*maze/FastStyleTransfer"):
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
    model = fast.load_style(weights=out / "mine.safetensors")
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

    monkeypatch.setattr(publish.HfApi, "create_repo", lambda self, *a, **k: calls.append(("create", a, k)))
    monkeypatch.setattr(
        publish.HfApi, "upload_folder", lambda self, **k: calls.append(("upload", k)) or FakeCommit()
    )
    with pytest.raises(ValueError, match=r"no \.safetensors"):
        train.push(tmp_path, "me/style")
    (tmp_path / "s.safetensors").write_bytes(b"x")
    assert train.push(tmp_path, "me/style") == FakeCommit.commit_url
    create, upload = calls
    assert create[1] == ("me/style",) and create[2]["exist_ok"] is True
    assert upload[1]["repo_id"] == "me/style" and upload[1]["folder_path"] == tmp_path
    assert "checkpoint.pt" in upload[1]["ignore_patterns"]


def test_transformer_net_matches_the_plain_nchw_network():
    net = random_transformer("deconv", seed=3)
    plain = PlainTransformerNet().eval()
    plain.load_state_dict(net.state_dict())
    x = torch.rand(1, 3, 64, 48) * 255
    with torch.inference_mode():
        ours = net.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))
        torch.testing.assert_close(ours, plain(x), atol=1e-3, rtol=1e-4)
        tiled_norms = net(torch.cat([x, x.flip(-1)]))  # a batch: stock instance norm, per image
        torch.testing.assert_close(tiled_norms[1:], plain(x.flip(-1)), atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("style", ["mosaic", "builtin_07"])
def test_a_batch_of_one_size_matches_one_at_a_time(style):
    images = [synthetic(64, 48, seed=s) for s in range(3)]
    batch = fast.stylize(images, style, strength=0.8, preserve_color=True)
    for image, out in zip(images, batch, strict=True):
        assert _levels_apart(out, fast.stylize(image, style, strength=0.8, preserve_color=True)) <= 1
    with pytest.raises(ValueError, match="one size"):
        fast.stylize([images[0], synthetic(10, 10)], style)


def test_training_on_mobilenet_lowers_the_loss_and_says_so_in_the_card(tmp_path):
    data = tmp_path / "photos"
    data.mkdir()
    for seed in range(2):
        synthetic(48, 40, seed=seed).save(data / f"{seed}.png")
    out = tmp_path / "model"
    events = list(
        train.train(
            synthetic(64, 64, seed=9),
            data,
            out,
            steps=8,
            image_size=32,
            batch_size=2,
            lr=1e-2,
            loss_network="mobilenet",
        )
    )
    assert events[-1].losses["total"] < events[0].losses["total"]
    config = json.loads((out / "config.json").read_text())
    assert (
        config["loss_network"] == "mobilenet" and config["content_layer"] == train.LAYERS["mobilenet"].content
    )
    card = (out / "README.md").read_text()
    assert "MobileNetV2 `block2`" in card and "VGG-19" not in card


def _train(tmp_path, out: str, **changes) -> list:
    data = tmp_path / "photos"
    if not data.exists():
        data.mkdir()
        for seed in range(3):
            synthetic(48, 40, seed=seed).save(data / f"{seed}.png")
    options = dict(steps=6, image_size=32, batch_size=2, lr=1e-2, checkpoint_every=3) | changes
    return list(train.train(synthetic(64, 64, seed=9), data, tmp_path / out, **options))


def _weights(tmp_path, out: str) -> dict:
    return load_file(tmp_path / out / "style.safetensors")


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    _train(tmp_path, "straight")
    assert [e.step for e in _train(tmp_path, "resumed", steps=3)] == [1, 2, 3]
    assert [e.step for e in _train(tmp_path, "resumed")] == [4, 5, 6]  # weights, Adam's moments, data order
    straight, resumed = _weights(tmp_path, "straight"), _weights(tmp_path, "resumed")
    for key, value in straight.items():
        torch.testing.assert_close(resumed[key], value, rtol=1e-5, atol=1e-6, msg=key)


def test_no_resume_starts_again_from_step_one(tmp_path):
    _train(tmp_path, "fresh")
    _train(tmp_path, "again", steps=3)
    assert [e.step for e in _train(tmp_path, "again", resume=False)] == list(range(1, 7))
    for key, value in _weights(tmp_path, "fresh").items():
        torch.testing.assert_close(_weights(tmp_path, "again")[key], value, msg=key)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"steps": 0}, "steps"),
        ({"lr": -1.0}, "lr"),
        ({"style_weight": -1.0}, "style_weight"),
        ({"style_size": 0}, "style_size"),
        ({"loss_network": "resnet"}, "loss_network"),
    ],
)
def test_train_options_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        train.TrainOptions(**changes)


def test_a_data_folder_without_images_is_one_readable_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no pictures here")
    with pytest.raises(ValueError, match="No images"):
        list(train.train(synthetic(32, 32), tmp_path, tmp_path / "out", steps=1))


def test_a_resumed_stream_sees_the_same_batches_and_each_epoch_its_own_order(tmp_path):
    from nst.base.distributed import Ranks
    from nst.base.photos import Streamed

    stream = Streamed.parse(hub_dataset(tmp_path, 7, 1))
    options, alone = train.TrainOptions(batch_size=3, image_size=16), Ranks(0, 1, torch.device("cpu"))
    whole = [b for b, _ in itertools.islice(train.batches(stream, options, 0, alone), 5)]
    resumed = [b for b, _ in itertools.islice(train.batches(stream, options, 2, alone), 3)]
    assert all(torch.equal(a, b) for a, b in zip(whole[2:], resumed, strict=True))
    assert not torch.equal(whole[0], whole[3]), "each epoch in its own order"


def test_the_histogram_choice_gives_the_result_the_photos_colour_statistics():
    """Mean and covariance of the pixels' RGB matched to the photo's: their Fréchet distance falls to
    a small part of the plain result's, while the strokes (luminance) stay the network's."""
    model, img = NetworkStyle(random_transformer("nearest")), synthetic(64, 48, seed=4)
    plain, matched = (fast.stylize(img, model, preserve_color=c) for c in ("none", "histogram"))
    photo = to_tensor(img)
    assert frechet(to_tensor(matched), photo) < 0.05 * frechet(to_tensor(plain), photo)
    strokes = torch.corrcoef(torch.stack([to_tensor(p).mean(1).flatten() for p in (plain, matched)]))
    assert strokes[0, 1] > 0.9
    with pytest.raises(ValueError, match="preserve_color"):
        fast.FastOptions(preserve_color="sepia")
