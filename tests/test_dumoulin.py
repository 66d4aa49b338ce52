"""The 26-style network of Dumoulin et al. against onnxruntime running the same file, and its blending."""

import numpy as np
import pytest
import torch
from PIL import Image

from nst.base.device import memory_format
from nst.base.images import to_tensor
from nst.base.weights import PACKAGE, PACKAGE_FILES, package_file
from nst.methods import fast
from nst.methods.catalogue import load_catalogue
from nst.networks.dumoulin import STYLES, builtin_network
from tests.support.device import CUDA, full_float32
from tests.support.pictures import synthetic

ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def session():
    relative, sha = PACKAGE_FILES["multistyle26"]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(package_file(PACKAGE, relative, sha)), options)


def _blend(shares: dict[int, float]) -> torch.Tensor:
    blend = torch.zeros(STYLES)
    for index, share in shares.items():
        blend[index] = share
    return blend


@pytest.mark.parametrize(
    "size, shares",
    [((96, 64), {7: 1.0}), ((256, 192), {19: 1.0}), ((128, 128), {3: 0.5, 12: 0.3, 25: 0.2})],
)
def test_the_port_matches_onnxruntime(session, size, shares):
    net = builtin_network()
    image = to_tensor(synthetic(*size, seed=3))
    blend = _blend(shares)
    expected = session.run(None, {"image": image.numpy(), "style_weights": blend.numpy()})[0]
    device = next(net.parameters()).device
    with torch.inference_mode(), full_float32():
        ours = net(image.to(device, memory_format=memory_format(device)), blend).cpu().numpy()
    assert np.abs(ours - expected).max() <= (1e-3 if CUDA else 1e-4)  # CUDA's kernels sum in other orders


def test_blending_happens_inside_the_network():
    net = builtin_network()
    image = to_tensor(synthetic(64, 64, seed=4), next(net.parameters()).device)
    with torch.inference_mode():
        a, b = net(image, _blend({2: 1.0})), net(image, _blend({9: 1.0}))
        mixed = net(image, _blend({2: 0.5, 9: 0.5}))
    assert (a - b).abs().mean() > 0.05, "two different styles"
    assert (mixed - (a + b) / 2).abs().mean() > 0.01, "not a fade of the two pictures"
    assert (mixed - a).abs().mean() < (b - a).abs().mean()


def test_builtin_styles_by_name_and_blend():
    img = synthetic(80, 60)
    one = fast.stylize(img, "builtin_05")
    also = fast.stylize(img, ["builtin_05", "builtin_06"], style_blend=(1, 0))
    assert one.tobytes() == also.tobytes()
    assert fast.stylize(img, ["builtin_05", "builtin_06"]).tobytes() != one.tobytes()
    with pytest.raises(ValueError, match="only styles of one multi-style network blend"):
        fast.load_style(["builtin_05", "mosaic"])


def test_each_builtin_style_has_a_title_of_its_own_and_keeps_its_name():
    catalogue = load_catalogue()
    builtins = [catalogue[f"builtin_{i:02d}"] for i in range(26)]
    titles = [style.title for style in builtins]
    assert len(set(titles)) == 26 and not any(any(c.isdigit() for c in t) for t in titles), titles
    assert titles[13] == "Stained glass" and builtins[13].index == 13


def test_thumbnails_are_rendered_once_by_the_network(monkeypatch, tmp_path):
    synthetic(128, 128, seed=6).save(tmp_path / "photo.png")
    path = fast.thumbnail("builtin_11", photo=tmp_path / "photo.png")
    painted = fast.stylize(synthetic(128, 128, seed=6), "builtin_11")
    assert Image.open(path).convert("RGB").tobytes() == painted.tobytes()  # the network's picture
    assert painted.tobytes() != synthetic(128, 128, seed=6).tobytes()
    monkeypatch.setattr(fast, "stylize", lambda *a, **k: pytest.fail("rendered again"))
    assert fast.thumbnail("builtin_11", photo=tmp_path / "photo.png") == path
