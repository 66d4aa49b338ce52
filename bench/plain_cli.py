"""The plain way to stylise one image with a Hub checkpoint: ``python bench/plain_cli.py IN OUT WEIGHTS``."""

import sys

import torch
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor, to_pil_image

sys.path.insert(0, ".")
from tests.support.plain import PlainTransformerNet

source, target, weights = sys.argv[1:4]
model = PlainTransformerNet().eval()
model.load_state_dict(torch.load(weights, weights_only=True))
x = pil_to_tensor(Image.open(source).convert("RGB")).float().unsqueeze(0)
with torch.no_grad():
    y = model(x)
to_pil_image(y[0].div(255)).save(target)
