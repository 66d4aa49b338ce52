"""What a trained network leaves behind: its weights, ``config.json`` and a model card (:func:`export`),
and their upload to the Hub (:func:`push`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from huggingface_hub import HfApi
from safetensors.torch import save_file
from torch import nn

from nst.methods.train.options import CHECKPOINT
from nst.networks import loss_network
from nst.networks.dumoulin import MultiStyleNet


def export(model: nn.Module, output: Path, name: str, config: dict) -> Path:
    """Write ``<name>.safetensors``, ``config.json`` and ``README.md`` (a model card); return the weights.

    A multi-style network's metadata lists its styles' titles (``styles``, JSON), which the
    catalogue shows (:func:`~nst.methods.catalogue.local_styles`).
    """
    weights = output / f"{name}.safetensors"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if isinstance(model, MultiStyleNet):
        metadata = {"format": "nst-multistyle", "styles": json.dumps(config["style_titles"])}
    else:
        metadata = {"upsample": model.upsample, "format": "nst-transformer"}
    save_file(state, weights, metadata=metadata)
    (output / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (output / "README.md").write_text(_model_card(name, config))
    return weights


def _model_card(name: str, config: dict) -> str:
    c = config
    layers = ", ".join(f"`{x}`" for x in c["style_layers"])
    network = loss_network.TITLES[c["loss_network"]]
    if c["architecture"] == "MultiStyleNet":
        titles = c["style_titles"]
        sizes = ", ".join(f"{t} {w}×{h}" for t, (w, h) in zip(titles, c["style_image_size"], strict=True))
        start = (
            "the built-in 26-style network's convolutions (Magenta, Apache-2.0), frozen; new γ/β only"
            if c["finetune"]
            else "trained from scratch"
        )
        about = f"""A multi-style network (Dumoulin et al., 2017): shared convolutions and, per style, the
scale γ and shift β of every conditional instance norm, {len(titles)} styles in all, trained
with this project's `python -m nst train`. Use style k with
`python -m nst fast photo.jpg -o out.png --weights {name}.safetensors --style-index k`
(several indices blend inside the network), or drop the file into the app's `weights/`
folder, where its styles appear as `{name}_00`, `{name}_01`, …"""
        rows = f"""| styles | {sizes} px, Gram targets at {c["style_size"]} px |
| start | {start} |"""
        tag, io = "dumoulin-et-al", "[0, 1]"
    else:
        style_w, style_h = c["style_image_size"]
        about = f"""A feed-forward image transformation network (Johnson et al., 2016) trained for one
style with this project's `python -m nst train`. Use it with
`python -m nst fast photo.jpg -o out.png --weights {name}.safetensors`, or drop the
file into the app's `weights/` folder."""
        rows = f"| style image | {style_w}×{style_h} px, Gram targets at {c['style_size']} px |"
        tag, io = "johnson-et-al", "[0, 255]"
    return f"""---
library_name: pytorch
tags: [style-transfer, neural-style-transfer, {tag}]
pipeline_tag: image-to-image
---

# {name}: a fast neural style transfer network

{about}

| | |
|---|---|
{rows}
| training images | {c["training_images"]}, {c["image_size"]}² crops, batch {c["batch_size"]} |
| steps | {c["steps"]} (Adam, lr {c["lr"]}) |
| content loss | {network} `{c["content_layer"]}`, weight {c["content_weight"]} |
| style loss | {network} Gram matrices at {layers}, weight {c["style_weight"]} |
| total variation | weight {c["tv_weight"]} |
| upsampling | {c["upsample"]} ×2, then 3×3 convolution |

Input and output are RGB in {io}. Weights: `{name}.safetensors`; settings: `config.json`.
"""


def push(folder: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload a trained model's folder (minus the resume checkpoint) to a Hub model repo; returns its URL."""
    folder = Path(folder)
    if not any(folder.glob("*.safetensors")):
        raise ValueError(f"{folder} holds no .safetensors model; train one first with `python -m nst train`.")
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id,
        folder_path=folder,
        repo_type="model",
        ignore_patterns=[CHECKPOINT, CHECKPOINT + ".tmp"],
        commit_message="Upload fast style transfer model",
    )
    return commit.commit_url
