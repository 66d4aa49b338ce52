"""Perceptual losses of Gatys et al. (2016) as small terms, summed; shared by the optimiser and training.

Notation: ``F_l`` is the [C, H·W] matrix of a layer's activations (one row per feature
map) and ``G_l = F_l F_lᵀ / (C·H·W)`` its Gram matrix. Each term is relative to its
target's own magnitude,

    content:  ‖F_l(P) − F_l(C)‖² / ‖F_l(C)‖²
    style:    ‖G_l(P) − G_l(S)‖² / ‖G_l(S)‖²

so rescaling a layer's activations by any c > 0 (which scales ``F`` by c and ``G`` by c²)
leaves every term, and so the whole optimisation, unchanged: the balance between layers
and between content and style belongs to the weights chosen here, not to the loss
network's activation magnitudes (which differ by orders of magnitude across VGG-19's
layers). Gatys et al. got the same independence by normalising their VGG so that every
filter's mean activation is 1.

With a region mask ``m`` (Gatys et al. 2017, spatial control), the pastiche's Gram matrix is
taken over the region only, ``G_l^m = (F_l ∘ m)(F_l ∘ m)ᵀ / (C·Σ_p m(p)²)``, and compared with
the whole style image's: an all-ones mask gives ``G_l`` (:class:`GuidedStyleLoss`).

A loss is built from terms in the pattern of crowsonkb/style-transfer-pytorch:
``Scale(LayerApply(StyleLoss(gram), "relu3_1"), w)``; a new term (a mask, a histogram
loss, another content layer) is one more entry. Every function is batched over a leading
B dimension and differentiable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn


class _Gram(torch.autograd.Function):
    """``Fᵀ F / n`` for ``F`` the [B, H·W, C] pixels-by-channels matrix, with a one-product backward.

    Taking F pixel-major is a view (no copy) of a channels-last tensor, which is
    how VGG runs here. Autograd would differentiate both factors of the product
    and add them; ``dF = F (dG + dGᵀ) / n`` is one product and no extra pass over
    F, which at relu1_1 is the largest tensor of the whole step.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, f: torch.Tensor, n: int) -> torch.Tensor:
        ctx.save_for_backward(f)
        ctx.n = n
        return torch.bmm(f.transpose(1, 2), f).div_(n)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (f,) = ctx.saved_tensors
        return torch.bmm(f, grad + grad.transpose(1, 2)).div_(ctx.n), None


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix of feature maps, [B, C, H, W] → [B, C, C].

    ``G_ij = <F_i, F_j> / (C·H·W)``: the inner product of feature maps i and j,
    divided by the layer's size so that a style target computed at one resolution
    serves at another. With this constant, ``‖G(S) − G(P)‖²`` is exactly
    4·E_l of Gatys et al., whose ``E_l = Σ_ij (G_ij − A_ij)² / (4 N_l² M_l²)``.
    """
    b, c, h, w = features.shape
    return _Gram.apply(features.permute(0, 2, 3, 1).reshape(b, h * w, c), c * h * w)


def guided_gram_matrix(features: torch.Tensor, weights: torch.Tensor, energy: float) -> torch.Tensor:
    """Gram matrix of feature maps over a soft region, [B, C, H, W] and [1 or B, 1, H, W] → [B, C, C].

    ``G^m_ij = <F_i ∘ m, F_j ∘ m> / (C·Σ_p m(p)²)`` with ``energy = Σ_p m(p)²``: the
    region's own Gram matrix, normalised by the mask's energy as :func:`gram_matrix` is
    by the pixel count, so a region's Gram compares with a whole image's; with
    ``m = 1`` everywhere it is :func:`gram_matrix` to the bit. An all-zero mask gives 0.
    """
    b, c, h, w = features.shape
    guided = (features * weights).permute(0, 2, 3, 1).reshape(b, h * w, c)
    return _Gram.apply(guided, c * max(energy, torch.finfo(torch.float32).tiny))


def _squared_norm(target: torch.Tensor) -> torch.Tensor:
    """``‖T‖²`` per batch item; an all-zero target (say, relu5_1 of a black image) counts as 1."""
    norm = target.detach().square().flatten(1).sum(1)
    return torch.where(norm > 0, norm, torch.ones_like(norm))


def _relative(diff: torch.Tensor, target_norm: torch.Tensor) -> torch.Tensor:
    """``‖d‖² / ‖T‖²`` per batch item (all but the first dimension summed), averaged over the batch."""
    return (diff.square().flatten(1).sum(1) / target_norm).mean()


class ContentLoss(nn.Module):
    """``‖F(P) − F(C)‖² / ‖F(C)‖²``: the squared Frobenius norm of the activation difference, relative.

    ``target`` is ``F(C)``, [1 or B, C, H, W].
    """

    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("target", target.detach())
        self.register_buffer("norm", _squared_norm(target))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return _relative(features - self.target, self.norm)


class StyleLoss(nn.Module):
    """``‖G(P) − G(S)‖² / ‖G(S)‖²`` for a target Gram matrix ``G(S)`` ([1 or B, C, C])."""

    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("target", target.detach())
        self.register_buffer("norm", _squared_norm(target))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return _relative(gram_matrix(features) - self.target, self.norm)


class GuidedStyleLoss(nn.Module):
    """``‖G^m(P) − G(S)‖² / ‖G(S)‖²``: :class:`StyleLoss` over the region ``m`` of the pastiche.

    ``target`` is ``G(S)`` ([1 or B, C, C]), the whole style image's Gram matrix; ``weights``
    is ``m`` at this layer's resolution, [1, 1, H, W] in [0, 1] (shared by the batch), and the
    pastiche's Gram is :func:`guided_gram_matrix` over it. With ``m = 1`` this is
    :class:`StyleLoss` exactly.
    """

    def __init__(self, target: torch.Tensor, weights: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("target", target.detach())
        self.register_buffer("norm", _squared_norm(target))
        self.register_buffer("weights", weights.detach())
        self.energy = weights.detach().double().square().sum().item()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return _relative(guided_gram_matrix(features, self.weights, self.energy) - self.target, self.norm)


class TVLoss(nn.Module):
    """Isotropic total variation ``mean √(Δ_y x² + Δ_x x² + ε)`` over pixels and channels, a smoothness prior.

    The gradient's length (not its square) damps pixel-level noise while letting edges stand, as
    in Rudin, Osher & Fatemi's denoising. The length, not ``|Δ_y x| + |Δ_x x|``, so that an edge
    costs the same at every angle: the anisotropic sum charges a diagonal edge √2 times a
    horizontal one, and paints flat, axis-aligned blocks. ``ε = 10⁻⁸`` keeps the gradient finite
    where the picture is flat.
    """

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        dy = image[..., 1:, :-1] - image[..., :-1, :-1]
        dx = image[..., :-1, 1:] - image[..., :-1, :-1]
        return (dy.square() + dx.square() + 1e-8).sqrt().mean()


class LayerApply(nn.Module):
    """``loss(features[layer])``; ``layer=None`` applies ``loss`` to the image itself (pixels)."""

    def __init__(self, loss: nn.Module, layer: str | None) -> None:
        super().__init__()
        self.loss, self.layer = loss, layer

    def forward(self, features: Mapping[str, torch.Tensor], image: torch.Tensor) -> torch.Tensor:
        return self.loss(image if self.layer is None else features[self.layer])


class Scale(nn.Module):
    """``weight · term(...)``."""

    def __init__(self, term: nn.Module, weight: float) -> None:
        super().__init__()
        self.term, self.weight = term, weight

    def forward(self, features: Mapping[str, torch.Tensor], image: torch.Tensor) -> torch.Tensor:
        return self.weight * self.term(features, image)


def content_terms(targets: Mapping[str, torch.Tensor], weight: float) -> list[nn.Module]:
    """``α · Σ_l ContentLoss`` over the given layers (equal shares), as terms."""
    return [Scale(LayerApply(ContentLoss(t), layer), weight / len(targets)) for layer, t in targets.items()]


def style_terms(
    grams: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float], weight: float
) -> list[nn.Module]:
    """``β · Σ_l w_l StyleLoss(G_l(S))``, as terms."""
    return [
        Scale(LayerApply(StyleLoss(grams[layer]), layer), weight * w) for layer, w in layer_weights.items()
    ]


def guided_style_terms(
    grams: Sequence[Mapping[str, torch.Tensor]],
    regions: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
    weight: float,
) -> list[nn.Module]:
    """``β · Σ_l w_l Σ_k mean(m_k) · GuidedStyleLoss(G_l(S_k), m_k)``, as terms: style k over region k.

    ``grams[k]`` holds style k's Gram matrices by layer; ``regions[layer]`` the K masks at
    that layer's resolution, [K, 1, H, W]. Each region's term is weighted by its share of
    the image, ``mean(m_k)``, so that masks which tile the image give a total comparable with
    :func:`style_terms`'s (one all-ones mask gives the same terms). A region that is
    empty at a layer has no term there.
    """
    terms: list[nn.Module] = []
    for layer, w in layer_weights.items():
        for k, style in enumerate(grams):
            m = regions[layer][k : k + 1]
            share = m.mean().item()
            if share > 0:
                terms.append(Scale(LayerApply(GuidedStyleLoss(style[layer], m), layer), weight * w * share))
    return terms


@dataclass(frozen=True)
class LossLayers:
    """Where a method reads a loss network: a content layer, and style layers weighted ``w_l = 1/L``."""

    content: str
    style: tuple[str, ...]

    @property
    def style_weights(self) -> dict[str, float]:
        return {layer: 1 / len(self.style) for layer in self.style}


class PerceptualLoss(nn.Module):
    """``L = Σ_groups Σ_terms``, every term on one pass of the loss network; the one loss of every method.

    ``vgg`` maps an image to ``{layer: activations}`` for every layer the terms read.
    ``groups`` names the sums reported apart (e.g. ``content``, ``style``, ``tv``);
    :meth:`forward` returns each group's sum and their ``total``.
    """

    def __init__(self, vgg: nn.Module, groups: Mapping[str, Sequence[nn.Module]]) -> None:
        super().__init__()
        self.vgg = vgg
        self.groups = nn.ModuleDict({name: nn.ModuleList(terms) for name, terms in groups.items()})

    def forward(self, pastiche: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.vgg(pastiche)
        sums = {
            name: sum((term(features, pastiche) for term in terms), pastiche.new_zeros(()))
            for name, terms in self.groups.items()
        }
        sums["total"] = sum(sums.values(), pastiche.new_zeros(()))
        return sums
