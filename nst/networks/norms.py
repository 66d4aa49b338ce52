"""What every one-pass network here shares: instance norm with holdable statistics, and sub-pixel layers.

**Instance norm** ``y = γ · (x − μ) / √(σ² + ε) + β``, μ and σ² per image and channel over
H×W. A call may replace a norm's observed ``(μ, σ²)`` with held ones (a :data:`Held`): tiles
of one image then share the whole image's statistics, and frames of one clip a running
estimate, which is what keeps instance-norm networks from flickering.

**Held statistics belong to the call, never to the network.** Networks are cached and
shared by every request and thread, so a norm module keeps no state of its own: a call
states what it holds with :func:`holding`, a per-call context (a :class:`~contextvars.ContextVar`,
so each thread sees only its own), and each norm has :func:`normalise` apply it.

**Regions.** K styles of one conditional network can paint one image, each in its region
(Dumoulin et al.'s and Ghiasi et al.'s networks condition every norm on the style). Each
style's own pass over the whole image records, per norm, the affine map its normalisation
is, ``y = a_k·x + b_k`` with ``a_k = γ_k / √(σ_k² + ε)`` and ``b_k = β_k − a_k·μ_k`` (its own
statistics held for its region). Then one pass applies, per pixel, the maps mixed by the
region weights at that norm's resolution, ``y(p) = Σ_k m_k(p)·(a_k·x(p) + b_k)``. Away from
the seams each region is what its style alone paints; at a seam the styles meet inside the
network.

**Sub-pixel phases.** A layer whose output is at ×2 resolution can compute it as a
"phase" tensor [B, 4·C, H/2, W/2] whose channel ``4c + 2a + b`` holds pixels
``(2i + a, 2j + b)`` of channel c; :func:`torch.nn.functional.pixel_shuffle` makes the
image. Convolutions over more channels and fewer pixels run faster on CPUs; the two
foldings of a kernel below make this exact up to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

Held = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""``held(μ, σ²) → (μ', σ²')``: given an input's observed statistics ([B, C] each), the ones to
normalise with ([C] or [B, C])."""


def instance_norm(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    eps: float = 1e-5,
    held: Held | None = None,
    phases: int = 1,
) -> torch.Tensor:
    """``γ · (x − μ) / √(σ² + ε) + β`` per image and channel; ``weight``/``bias`` are [C] or [B, C].

    With ``phases`` = 4, each run of four consecutive channels of ``x`` holds the sub-pixel
    phases of one channel, which share its μ, σ², γ and β (``weight`` has C/4 entries).
    ``x`` must be a temporary (a convolution's output): it may be overwritten.
    """
    b, c = x.shape[:2]
    groups = c // phases
    if held is None and phases == 1 and b == 1 and weight.dim() == 1:
        # Batch norm's training-mode normalisation of one image is instance norm, and
        # (unlike instance_norm) runs on channels-last tensors without copying them.
        return F.batch_norm(x, None, None, weight, bias, True, 0.0, eps)
    mean = x.mean((2, 3)).view(b, groups, phases).mean(2)
    # Centred first, so that group norm's E[x²] − E[x]² loses no precision on flat images.
    x = x.sub_(mean.repeat_interleave(phases, 1)[..., None, None])
    if held is None:
        if weight.dim() == 1 or weight.shape[0] == 1:
            w, s = weight.reshape(-1).repeat_interleave(phases), bias.reshape(-1).repeat_interleave(phases)
            return F.group_norm(x, groups, w, s, eps)
        scale, shift = weight.repeat_interleave(phases, 1), bias.repeat_interleave(phases, 1)
        return F.group_norm(x, groups, eps=eps).mul_(scale[..., None, None]).add_(shift[..., None, None])
    var = x.square().mean((2, 3)).view(b, groups, phases).mean(2)
    used_mean, used_var = held(mean, var)
    scale = weight * torch.rsqrt(used_var + eps)
    shift = bias + (mean - used_mean) * scale
    scale = scale.expand(b, groups).repeat_interleave(phases, 1)
    shift = shift.expand(b, groups).repeat_interleave(phases, 1)
    return x.mul_(scale[..., None, None]).add_(shift[..., None, None])


def padded_side(n: int) -> int:
    """The side a one-pass network works at for an image side of ``n``: a multiple of 4 (its two
    stride-2 layers), and at least 8 (so that its reflection pads fit)."""
    return max(8, -(-n // 4) * 4)


def pad_to_strides(x: torch.Tensor) -> torch.Tensor:
    """``x`` edge-padded at the bottom and right to :func:`padded_side`; the caller crops back."""
    h, w = x.shape[-2:]
    pad_h, pad_w = padded_side(h) - h, padded_side(w) - w
    return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x


def phase_outputs(w: torch.Tensor) -> torch.Tensor:
    """A stride-1 k×k convolution's four output phases: a stride-2 (k+1)×(k+1) one with 4·O outputs."""
    shifted = [F.pad(w, (b, 1 - b, a, 1 - a)) for a in (0, 1) for b in (0, 1)]
    return torch.stack(shifted, 1).flatten(0, 1).contiguous(memory_format=torch.channels_last)


# Nearest ×2 upsampling, then a 3×3 kernel over reflection padding by 1: output row 2i + a
# reads input rows i − 1, i, i + 1 of the edge-padded input with weights _UP[a] @ kernel rows.
_UP = torch.tensor([[[1.0, 0, 0], [0, 1, 1], [0, 0, 0]], [[0, 0, 0], [1, 1, 0], [0, 0, 1]]])


def upsampled_phase_outputs(w: torch.Tensor) -> torch.Tensor:
    """Nearest ×2 upsampling then a 3×3 convolution (reflection padded): one 3×3 convolution of the
    edge-padded input, with 4·O outputs, at the input's size."""
    up = _UP.to(w)
    folded = torch.einsum("ayk,bxl,oikl->oabiyx", up, up, w).flatten(0, 2)
    return folded.contiguous(memory_format=torch.channels_last)


class Fixed:
    """Held statistics given in advance, e.g. a whole image's, for each of its tiles."""

    def __init__(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        self.stats = (mean, var)

    def __call__(self, mean: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.stats


class Running:
    """A running estimate with a short memory: ``μ'_t = ρ·μ'_{t−1} + (1 − ρ)·μ_t``, likewise σ².

    Frames of a batch update it in order. ``ρ`` = ``momentum``; the memory is about
    ``1 / (1 − ρ)`` frames, so the estimate follows a scene cut within a few frames, and
    :meth:`reset` starts it afresh at once.
    """

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self.stats: tuple[torch.Tensor, torch.Tensor] | None = None

    def reset(self) -> None:
        self.stats = None

    def __call__(self, mean: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        means, variances = [], []
        for m, v in zip(mean, var, strict=True):
            if self.stats is not None:
                m = torch.lerp(m, self.stats[0], self.momentum)
                v = torch.lerp(v, self.stats[1], self.momentum)
            self.stats = (m, v)
            means.append(m)
            variances.append(v)
        return torch.stack(means), torch.stack(variances)


class HoldableNorm:
    """Marks a module whose instance norm takes held statistics (:func:`normalise`); holds none itself."""


Tap = Callable[[nn.Module, torch.Tensor, int], None]
"""``tap(norm, x, phases)``: shown each norm's input before it is normalised (it may raise to stop)."""


Affine = tuple[torch.Tensor, torch.Tensor]
"""A norm's normalisation as ``y = a·x + b``: (a, b), each [B, C] (C: the channels without phases)."""


@dataclass(frozen=True)
class Regions:
    """K styles in their regions: ``weights`` [K, 1, H, W] (Σ_k = 1) at the network's padded input
    size, and each style's :data:`Affine` per norm, recorded by its own pass (:attr:`NormCall.record`)."""

    weights: torch.Tensor
    affines: Sequence[Mapping[nn.Module, Affine]]


@dataclass(frozen=True)
class NormCall:
    """What one call asks of the norms: held statistics by norm module, a tap to watch their inputs,
    a dict to ``record`` each norm's :data:`Affine` into, and ``regions`` to paint."""

    held: Mapping[nn.Module, Held] = field(default_factory=dict)
    tap: Tap | None = None
    record: dict[nn.Module, Affine] | None = None
    regions: Regions | None = None


_CALL: ContextVar[NormCall | None] = ContextVar("nst_norm_call", default=None)


def norms(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` whose statistics can be held, in registration order."""
    return [m for m in model.modules() if isinstance(m, HoldableNorm)]


@contextmanager
def holding(call: NormCall) -> Iterator[None]:
    """Within the block, in this thread (or task) only, norms follow ``call``.

    Keep the block free of ``yield``: a generator shares its caller's context.
    """
    token = _CALL.set(call)
    try:
        yield
    finally:
        _CALL.reset(token)


def normalise(
    norm: nn.Module,
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    eps: float = 1e-5,
    phases: int = 1,
) -> torch.Tensor:
    """``norm``'s instance norm of ``x`` (:func:`instance_norm`) as the current call asks: shown to
    its tap, with its held statistics, its affine map recorded, or painted by regions."""
    call = _CALL.get()
    if call is None:
        return instance_norm(x, weight, bias, eps, None, phases)
    if call.tap is not None:
        call.tap(norm, x, phases)
    if call.regions is not None:  # in float32, as autocast runs norms
        affines = [affines[norm] for affines in call.regions.affines]
        return _regional(x.float(), call.regions, affines, phases).to(x.dtype)
    held = call.held.get(norm)
    if call.record is not None:
        call.record[norm] = _affine(x.float(), weight.float(), bias.float(), eps, held, phases)
    return instance_norm(x, weight, bias, eps, held, phases)


def _affine(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float, held: Held | None, phases: int
) -> Affine:
    """(a, b) such that :func:`instance_norm` of ``x`` is ``a·x + b`` per image and channel."""
    b, c = x.shape[:2]
    mean = x.mean((2, 3)).view(b, c // phases, phases).mean(2)
    centred = x - mean.repeat_interleave(phases, 1)[..., None, None]
    var = centred.square().mean((2, 3)).view(b, c // phases, phases).mean(2)
    if held is not None:
        mean, var = held(mean, var)
    scale = (weight * torch.rsqrt(var + eps)).expand(b, c // phases)
    return scale, (bias - mean * scale).expand(b, c // phases)


def _regional(x: torch.Tensor, regions: Regions, affines: Sequence[Affine], phases: int) -> torch.Tensor:
    """``Σ_k m_k(p)·(a_k·x(p) + b_k)``, with the region weights pooled to ``x``'s pixels."""
    h, w = x.shape[-2:]
    side = 2 if phases == 4 else 1
    m = F.adaptive_avg_pool2d(regions.weights.to(x.dtype), (h * side, w * side))
    if side == 2:
        m = F.pixel_unshuffle(m, 2)  # [K, 4, h, w]: channel 4c + q holds phase q
    scale = torch.stack([a for a, _ in affines]).to(x.dtype)  # [K, B, C]
    shift = torch.stack([b for _, b in affines]).to(x.dtype)
    a = torch.einsum("kqhw,kbc->bcqhw", m, scale).reshape(x.shape)
    b = torch.einsum("kqhw,kbc->bcqhw", m, shift).reshape(x.shape)
    return x * a + b
