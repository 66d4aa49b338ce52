import pytest
import torch

from nst.losses import PerceptualLoss, content_loss, gram_matrix, style_loss, tv_loss
from nst.vgg import LAYER_NAMES, VGGFeatures


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


def test_content_loss_zero_and_proportional_to_squared_norm():
    a = torch.randn(1, 16, 4, 4)
    assert content_loss(a, a).item() == 0.0
    for scale in (0.5, 2.0):
        b = a + scale * torch.randn_like(a)
        ratio = content_loss(b, a) / (b - a).square().sum()
        torch.testing.assert_close(ratio, torch.tensor(1 / a.numel()))


def test_style_loss_sums_weighted_layers_and_batches():
    torch.manual_seed(1)
    feats = {"a": torch.rand(3, 4, 5, 5), "b": torch.rand(3, 6, 3, 3)}
    targets = {"a": torch.rand(1, 4, 4), "b": torch.rand(1, 6, 6)}
    loss = style_loss(feats, targets, {"a": 0.25, "b": 2.0})
    expected = sum(
        w * (gram_matrix(feats[k]) - targets[k]).square().sum(dim=(1, 2)).mean()
        for k, w in {"a": 0.25, "b": 2.0}.items()
    )
    torch.testing.assert_close(loss, expected)
    same = {k: gram_matrix(v) for k, v in feats.items()}
    assert style_loss(feats, same, {"a": 1.0, "b": 1.0}).item() == pytest.approx(0.0, abs=1e-12)


def test_tv_loss_zero_on_flat_and_positive_on_edges():
    assert tv_loss(torch.full((1, 3, 8, 8), 0.3)).item() == 0.0
    edge = torch.zeros(1, 3, 8, 8)
    edge[..., 4:] = 1.0
    assert tv_loss(edge).item() == pytest.approx(1 / 7)


def test_vgg_names_truncation_and_gradients_to_pixels():
    assert LAYER_NAMES[1] == "relu1_1" and LAYER_NAMES[22] == "relu4_2" and LAYER_NAMES[29] == "relu5_1"
    vgg = VGGFeatures(["relu2_1", "conv1_1"])
    assert len(vgg.layers) == LAYER_NAMES.index("relu2_1") + 1
    x = torch.rand(2, 3, 20, 24, requires_grad=True)
    out = vgg(x)
    assert out["relu2_1"].shape == (2, 128, 10, 12)
    assert (out["conv1_1"] < 0).any(), "conv outputs must not be clipped by the in-place ReLU"
    loss = PerceptualLoss(
        vgg, "relu2_1", {"relu2_1": 1.0}, {"relu2_1": torch.zeros(1, 128, 128)}, 1.0, 1.0, 1.0
    )
    target = loss.content_target(torch.rand(2, 3, 20, 24))
    loss(x, target)["total"].backward()
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
