"""How to train a style (:class:`TrainOptions`), where training reads each loss network (:data:`LAYERS`),
and what a run reports (:class:`TrainProgress`).
"""

from __future__ import annotations

from dataclasses import dataclass

from nst.base.losses import LossLayers
from nst.base.options import check_choice, check_non_negative, check_positive, option
from nst.networks import loss_network

LAYERS = {
    "vgg19": LossLayers("relu2_2", ("relu1_2", "relu2_2", "relu3_3", "relu4_3")),
    # A shallow content layer, as Johnson et al.'s relu2_2 (block 2 is at ¼ resolution), and
    # the style layers that Gatys reads on this network.
    "mobilenet": LossLayers("block2", ("conv", "block0", "block2", "block5", "block9", "block12")),
}
"""Where training reads each loss network: VGG-19's are Johnson et al.'s."""
CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class TrainProgress:
    step: int
    total: int
    losses: dict[str, float]
    elapsed: float
    unreadable: int = 0  # training photos skipped so far, on every rank: files that are not images


@dataclass(frozen=True)
class TrainOptions:
    """How to train a style, checked when made; the CLI takes its defaults here.

    ``L = α·L_content + β·L_style + γ·L_tv`` between each batch and the network's output
    (:class:`~nst.base.losses.PerceptualLoss`, every term relative to its target). Johnson et
    al.'s layers on VGG-19: content at relu2_2, style at relu1_2, relu2_2, relu3_3, relu4_3 with
    equal shares; on MobileNetV2 those of :data:`LAYERS`. ``loss_network`` is resolved as for
    Gatys (:func:`nst.networks.loss_network.choose`). ``style_size`` (default ``image_size``)
    sizes the style image's long side for its Gram targets.
    """

    name: str | None = option(None, "model name (default: the style file's name, else 'style')")
    steps: int = option(40_000, "training steps")
    image_size: int = option(256, "training photos are cropped to this square side")
    batch_size: int = option(4, "photos per step, in all (several processes each take a share)")
    lr: float = option(1e-3, "Adam's learning rate")
    content_weight: float = option(1.0, "α, the content term's weight")
    style_weight: float = option(10.0, "β, the style term's weight")
    tv_weight: float = option(0.0, "γ, the total variation term's weight")
    style_size: int | None = option(
        None, "the style image's long side for its Gram targets (default: image_size)"
    )
    loss_network: loss_network.Choice = option(
        "auto", "the network the losses read (auto: VGG-19 when its weights can be had, else MobileNetV2)"
    )
    finetune: bool = option(
        False,
        "train only new γ/β per style on the built-in 26-style network's frozen convolutions",
        flag="--finetune",
    )
    style_titles: tuple[str, ...] | None = option(
        None, "the styles' titles in a multi-style network (default: Style 0, Style 1, …)", cli=False
    )
    checkpoint_every: int = option(1000, "steps between checkpoints")
    resume: bool = option(True, "ignore an existing checkpoint", flag="--no-resume")
    seed: int = option(0, "seed of the data order and the network's start")

    def __post_init__(self) -> None:
        for label in ("steps", "image_size", "batch_size", "checkpoint_every", "lr"):
            check_positive(label, getattr(self, label))
        for label in ("content_weight", "style_weight", "tv_weight"):
            check_non_negative(label, getattr(self, label))
        if self.style_size is not None:
            check_positive("style_size", self.style_size)
        check_choice("loss_network", self.loss_network, loss_network.CHOICES)
