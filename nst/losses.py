"""Perceptual losses of Gatys et al. (2016), shared by the optimiser and by training.

Notation: ``F_l`` is the [C, H·W] matrix of a layer's activations (one row per
feature map). Every function is batched over a leading B dimension and
differentiable.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
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


def content_loss(pastiche: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """``‖A(P) − A(C)‖² / (C·H·W)``, averaged over the batch: the mean squared error.

    Proportional to the squared Frobenius norm of the activation difference
    (Gatys et al.'s ``½ Σ (F − P)²`` up to a constant); zero when they agree.
    """
    return F.mse_loss(pastiche, content)


def style_loss(
    pastiche: Mapping[str, torch.Tensor],
    targets: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
) -> torch.Tensor:
    """``Σ_l w_l ‖G_l(S) − G_l(P)‖²``, averaged over the batch.

    ``pastiche`` holds the pastiche's activations by layer, ``targets`` the style
    Gram matrices ([1, C, C] broadcast over the batch, or [B, C, C]).
    """
    total = 0.0
    for layer, weight in layer_weights.items():
        diff = gram_matrix(pastiche[layer]) - targets[layer]
        total = total + weight * diff.square().sum(dim=(1, 2)).mean()
    return total


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation ``mean((x[i+1,j] − x[i,j])²) + mean((x[i,j+1] − x[i,j])²)``, a smoothness prior."""
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.square().mean() + dx.square().mean()


class PerceptualLoss(nn.Module):
    """``L = α·L_content + β·L_style + γ·L_tv`` on a VGG network's activations.

    ``vgg`` maps an image to ``{layer: activations}`` and must expose
    ``content_layer`` and every key of ``layer_weights``. The style targets are
    fixed at construction; the content target is passed per call, so the same
    module serves Gatys' single image and a training batch.
    """

    def __init__(
        self,
        vgg: nn.Module,
        content_layer: str,
        layer_weights: Mapping[str, float],
        style_targets: Mapping[str, torch.Tensor],
        content_weight: float,
        style_weight: float,
        tv_weight: float,
    ) -> None:
        super().__init__()
        self.vgg = vgg
        self.content_layer = content_layer
        self.layer_weights = dict(layer_weights)
        self.style_targets = dict(style_targets)
        self.weights = {"content": content_weight, "style": style_weight, "tv": tv_weight}

    @torch.no_grad()
    def content_target(self, content: torch.Tensor) -> torch.Tensor:
        """The content activations ``A(C)`` that :meth:`forward` compares against."""
        return self.vgg(content)[self.content_layer]

    def forward(self, pastiche: torch.Tensor, content_target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Weighted terms ``{"content", "style", "tv", "total"}`` for the pastiche."""
        features = self.vgg(pastiche)
        terms = {
            "content": self.weights["content"] * content_loss(features[self.content_layer], content_target),
            "style": self.weights["style"] * style_loss(features, self.style_targets, self.layer_weights),
            "tv": self.weights["tv"] * tv_loss(pastiche) if self.weights["tv"] else pastiche.new_zeros(()),
        }
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms
