"""Gatys with region masks (Gatys et al. 2017, spatial control): each style over its own region.

Runs on the session's stand-in VGG-19 (random weights, see conftest), small and short.
"""

import pytest
import torch
from PIL import Image

from nst.base.images import region_weights, to_tensor
from nst.base.losses import GuidedStyleLoss, StyleLoss, gram_matrix, guided_style_terms, style_terms
from nst.methods import gatys
from nst.methods.gatys import targets
from nst.networks.vgg import VGGFeatures
from tests.support.pictures import synthetic

W, H = 96, 64


def _final(content: Image.Image, styles: list[Image.Image], masks=None, **options) -> torch.Tensor:
    options = {"size": W, "steps": 12, "multiscale": False} | options
    *_, last = gatys.stylize(content, styles, masks=masks, **options)
    return to_tensor(last.image)


def _halves(left: int = 255) -> list[Image.Image]:
    """Two masks splitting a W×H picture into its left and right halves."""
    a = Image.new("L", (W, H), 0)
    a.paste(left, (0, 0, W // 2, H))
    b = Image.new("L", (W, H), 255)
    b.paste(0, (0, 0, W // 2, H))
    return [a, b]


def _striped(a: tuple[int, int, int], b: tuple[int, int, int], side: int = 64) -> Image.Image:
    """Vertical stripes of two colours, 4 px wide."""
    img = Image.new("RGB", (side, side), a)
    for x in range(0, side, 8):
        img.paste(b, (x, 0, x + 4, side))
    return img


RED = _striped((220, 40, 40), (160, 20, 30))
BLUE = _striped((40, 60, 220), (20, 30, 150))


def test_an_all_ones_mask_is_the_plain_style_loss():
    torch.manual_seed(0)
    target, features = gram_matrix(torch.rand(1, 8, 6, 5)), torch.rand(2, 8, 6, 5)
    plain, guided = StyleLoss(target)(features), GuidedStyleLoss(target, torch.ones(1, 1, 6, 5))(features)
    assert guided.item() == plain.item()
    # over a region, the Gram matrix is the region's own, normalised by the mask's energy
    m = torch.zeros(1, 1, 6, 5)
    m[..., :3, :] = 0.5
    region = GuidedStyleLoss(target, m)(features)
    torch.testing.assert_close(region, StyleLoss(target)(features[..., :3, :]))


def test_regions_that_tile_the_image_weigh_as_much_as_the_whole():
    """Each region's term counts by its share: on a picture whose two halves are alike, two half masks
    of one style give the unmasked loss (not twice it)."""
    torch.manual_seed(1)
    half = torch.rand(1, 8, 6, 5)
    features = {"a": torch.cat([half, half], dim=-1)}
    target = {"a": gram_matrix(torch.rand(1, 8, 7, 7))}
    masks = torch.zeros(2, 1, 6, 10)
    masks[0, ..., :5], masks[1, ..., 5:] = 1, 1
    total = lambda terms: sum(term(features, None) for term in terms)  # noqa: E731
    guided = total(guided_style_terms([target, target], {"a": masks}, {"a": 0.5}, 3.0))
    torch.testing.assert_close(guided, total(style_terms(target, {"a": 0.5}, 3.0)))


def test_every_style_layer_sees_the_masks_share_of_the_image():
    """The weights are area-pooled to each layer's resolution: a soft mask keeps its share at every depth."""
    ramp = Image.fromarray(torch.linspace(0, 255, W).round().to(torch.uint8).expand(H, W).numpy(), "L")
    options = gatys.resolve(gatys.GatysOptions(loss_network="vgg19"))
    layers = gatys.LAYERS["vgg19"]
    net = VGGFeatures((layers.content, *layers.style), pooling="avg")
    content = to_tensor(synthetic(W, H))
    grams = targets._style_targets(net, layers, [RED], [1.0], W, content, "none")
    regions = region_weights([ramp], (W, H))
    loss = targets._loss(net, content, [grams], options, regions)
    terms, features = loss.groups["style"], net(content)
    assert [t.term.layer for t in terms] == list(layers.style)
    for t in terms:
        share = t.weight / (options.style_weight * layers.style_weights[t.term.layer])
        assert share == pytest.approx(regions.mean().item(), abs=1e-3)
        assert t.term.loss.weights.shape == (1, 1, *features[t.term.layer].shape[-2:])


def test_one_all_white_mask_gives_the_same_pastiche_as_none():
    content, style = synthetic(120, 80), synthetic(48, 48, seed=1)
    white = Image.new("L", (30, 50), 255)  # any size: stretched to the content
    plain = _final(content, [style], multiscale=True, min_scale=48, init="noise", seed=2)
    masked = _final(content, [style], [white], multiscale=True, min_scale=48, init="noise", seed=2)
    assert torch.equal(plain, masked)


def _colours(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean colour of the left and right halves, 8 px away from the seam."""
    return out[..., : W // 2 - 8].mean(dim=(0, 2, 3)), out[..., W // 2 + 8 :].mean(dim=(0, 2, 3))


def test_two_styles_each_paint_their_own_half_at_every_scale():
    out = _final(synthetic(W, H), [RED, BLUE], _halves(), steps=30, multiscale=True, min_scale=48)
    left, right = _colours(out)
    red, blue = to_tensor(RED).mean(dim=(0, 2, 3)), to_tensor(BLUE).mean(dim=(0, 2, 3))
    assert (left - red).norm() < 0.15 < (left - blue).norm(), (left, red, blue)
    assert (right - blue).norm() < 0.15 < (right - red).norm(), (right, red, blue)


def test_where_no_mask_is_white_the_photo_shows_through():
    content = synthetic(W, H)
    out = _final(content, [RED], _halves()[:1], steps=30)
    left, right = _colours(out)
    photo_left, photo_right = _colours(to_tensor(content))
    assert (left - to_tensor(RED).mean(dim=(0, 2, 3))).norm() < 0.15, left
    assert (right - photo_right).norm() < 0.05 < (left - photo_left).norm() - 0.3, (right, photo_right)


def test_a_black_mask_leaves_the_photo():
    content = synthetic(W, H)
    black = Image.new("L", (W, H), 0)
    out = _final(content, [RED], [black])
    styled = _final(content, [RED])
    photo = to_tensor(content)
    assert (out - photo).abs().mean() < 0.01
    assert (styled - photo).abs().mean() > 0.05, "without the mask the style does act"


@pytest.mark.parametrize("masks", [[], [Image.new("L", (4, 4), 255)] * 3])
def test_a_mask_per_style_or_refused(masks, monkeypatch):
    def work(*args, **kwargs):
        raise AssertionError("the loss network was chosen or loaded before the masks were checked")

    monkeypatch.setattr(gatys.loss_network, "choose", work)
    with pytest.raises(ValueError, match="one mask per style"):
        gatys.stylize(synthetic(W, H), [RED, BLUE], masks=masks, size=W, steps=1)
