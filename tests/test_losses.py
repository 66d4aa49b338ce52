import pytest
import torch

from nst.base.losses import (
    ContentLoss,
    LayerApply,
    PerceptualLoss,
    Scale,
    StyleLoss,
    TVLoss,
    content_terms,
    gram_matrix,
    style_terms,
)
from nst.networks.vgg import LAYER_NAMES, VGGFeatures


def test_gram_is_symmetric_psd_and_normalised():
    torch.manual_seed(0)
    f = torch.randn(2, 8, 5, 7)
    g = gram_matrix(f)
    assert g.shape == (2, 8, 8)
    torch.testing.assert_close(g, g.transpose(1, 2))
    assert torch.linalg.eigvalsh(g).min() > -1e-6
    flat = f.reshape(2, 8, 35)
    torch.testing.assert_close(g[1, 2, 3], flat[1, 2] @ flat[1, 3] / (8 * 5 * 7))


def test_gram_constant_multiple_scales_by_square():
    f = torch.rand(1, 4, 6, 6)
    torch.testing.assert_close(gram_matrix(3.0 * f), 9.0 * gram_matrix(f))


def test_content_loss_is_the_squared_norm_relative_to_the_target():
    a = torch.randn(1, 16, 4, 4)
    assert ContentLoss(a)(a).item() == 0.0
    for scale in (0.5, 2.0):
        b = a + scale * torch.randn_like(a)
        torch.testing.assert_close(ContentLoss(a)(b), (b - a).square().sum() / a.square().sum())


def test_style_loss_is_relative_and_batched():
    torch.manual_seed(1)
    feats, target = torch.rand(3, 4, 5, 5), torch.rand(1, 4, 4)
    per_item = (gram_matrix(feats) - target).square().sum(dim=(1, 2)) / target.square().sum()
    torch.testing.assert_close(StyleLoss(target)(feats), per_item.mean())
    assert StyleLoss(gram_matrix(feats[:1]))(feats[:1]).item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("c", [1e-3, 0.37, 50.0])
def test_every_term_is_free_of_the_activations_scale(c):
    torch.manual_seed(2)
    f, g = torch.rand(2, 6, 5, 5), torch.rand(2, 6, 5, 5)
    torch.testing.assert_close(ContentLoss(c * g)(c * f), ContentLoss(g)(f))
    torch.testing.assert_close(StyleLoss(gram_matrix(c * g[:1]))(c * f), StyleLoss(gram_matrix(g[:1]))(f))


def test_tv_loss_is_the_gradients_mean_length():
    assert TVLoss()(torch.full((1, 3, 8, 8), 0.3)).item() < 2e-4  # √ε
    edge = torch.zeros(1, 3, 8, 8)
    edge[..., 4:] = 0.5  # one step of 0.5 in each of 7 rows of 7 gradients
    assert TVLoss()(edge).item() == pytest.approx(0.5 / 7, abs=1e-3)


@pytest.mark.parametrize("angle", [30, 45, 60, 90])
def test_tv_loss_charges_a_slope_alike_at_every_angle(angle):
    """A ramp of slope 0.01 a pixel costs 0.01 whichever way it runs: no angle is cheaper."""
    i, j = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    theta = torch.deg2rad(torch.tensor(float(angle)))
    ramp = 0.01 * (j * theta.cos() + i * theta.sin())
    assert TVLoss()(ramp.expand(1, 3, 16, 16)).item() == pytest.approx(0.01, rel=1e-3)


def test_terms_compose_and_sum_by_group():
    torch.manual_seed(3)
    features = {"a": torch.rand(1, 4, 5, 5), "b": torch.rand(1, 6, 3, 3)}
    image = torch.rand(1, 3, 8, 8)
    grams = {"a": torch.rand(1, 4, 4), "b": torch.rand(1, 6, 6)}
    terms = style_terms(grams, {"a": 0.25, "b": 2.0}, 3.0)
    expected = 3.0 * (
        0.25 * StyleLoss(grams["a"])(features["a"]) + 2.0 * StyleLoss(grams["b"])(features["b"])
    )
    torch.testing.assert_close(sum(t(features, image) for t in terms), expected)
    tv = Scale(LayerApply(TVLoss(), None), 0.5)
    torch.testing.assert_close(tv(features, image), 0.5 * TVLoss()(image))
    loss = PerceptualLoss(lambda _: features, {"style": terms, "tv": [tv], "none": []})
    sums = loss(image)
    assert set(sums) == {"style", "tv", "none", "total"} and sums["none"].item() == 0.0
    torch.testing.assert_close(sums["total"], sums["style"] + sums["tv"])


def test_vgg_names_truncation_and_gradients_to_pixels():
    assert LAYER_NAMES[1] == "relu1_1" and LAYER_NAMES[22] == "relu4_2" and LAYER_NAMES[29] == "relu5_1"
    vgg = VGGFeatures(["relu2_1", "conv1_1"])
    assert len(vgg.layers) == LAYER_NAMES.index("relu2_1") + 1
    x = torch.rand(2, 3, 20, 24, requires_grad=True)
    out = vgg(x)
    assert out["relu2_1"].shape == (2, 128, 10, 12)
    assert (out["conv1_1"] < 0).any(), "conv outputs must not be clipped by the in-place ReLU"
    with torch.no_grad():
        target = vgg(torch.rand(2, 3, 20, 24))["relu2_1"]
    loss = PerceptualLoss(vgg, {"content": content_terms({"relu2_1": target}, 1.0)})
    loss(x)["total"].backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_vgg_is_loaded_once_and_frozen():
    a, b = VGGFeatures(["relu1_1"]), VGGFeatures(["relu5_1"])
    assert a.layers[0] is b.layers[0]
    assert not any(p.requires_grad for p in b.parameters())


def test_vgg_pads_images_too_small_for_its_pools():
    out = VGGFeatures(["relu5_1"])(torch.rand(1, 3, 1, 40))
    assert out["relu5_1"].shape[-2:] == (1, 2)


def test_vgg_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="relu9_9"):
        VGGFeatures(["relu9_9"])


def test_gram_gradient_matches_autograd_of_the_plain_product():
    f = torch.randn(2, 5, 3, 4, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(gram_matrix, (f,))
    weights = torch.randn(2, 5, 5, dtype=torch.float64)
    (gram_matrix(f) * weights).sum().backward()
    ours = f.grad.clone()
    f.grad = None
    flat = f.reshape(2, 5, 12)
    ((flat @ flat.transpose(1, 2) / 60) * weights).sum().backward()
    torch.testing.assert_close(ours, f.grad)
