"""Train a one-pass network: Johnson et al.'s (2016) for one style, or Dumoulin et al.'s (2017) for several.

The loss is the same :class:`~nst.base.losses.PerceptualLoss` the Gatys optimiser
uses: content at relu2_2 and Gram style losses at relu1_2, relu2_2, relu3_3,
relu4_3 (Johnson et al.'s layers), with Adam on the network's weights; options
in one :class:`TrainOptions`. Several styles train one
:class:`~nst.networks.dumoulin.MultiStyleNet`: shared convolutions and a γ/β pair per style
(conditional instance norm), style ``t mod N`` at step t; ``finetune`` trains only new γ/β
on the built-in network's frozen convolutions.
Writes ``<name>.safetensors``, ``config.json`` and a model card, with
``checkpoint.pt`` along the way so that a run can resume.
"""

from nst.methods.train.data import batches, crop
from nst.methods.train.loop import network, train
from nst.methods.train.options import CHECKPOINT, LAYERS, TrainOptions, TrainProgress
from nst.methods.train.publish import export, push

__all__ = [
    "CHECKPOINT",
    "LAYERS",
    "TrainOptions",
    "TrainProgress",
    "batches",
    "crop",
    "export",
    "network",
    "push",
    "train",
]
