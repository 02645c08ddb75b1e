#!/usr/bin/env python3
"""Builds tests/data/tiny_backbone.pt and tests/data/tiny_backbone_reference.json.

The TorchScript feature extractor (lib/dpsgd/features/torchscript_extractor.hpp) is
tested against this tiny, seeded, scripted module:
    features = Conv2d(3, 4, 3) + ReLU + AdaptiveAvgPool2d(2)   (N x 4 x 2 x 2)
    head     = Linear(16, 3)
    forward(x) = head(features(x).flatten(1))                    (N x 3)
    pair       = a child whose forward returns a tuple (x, x), not a tensor, for the
                 extractor's error on such an output; forward does not use it
The adaptive pool makes it accept any image size, so resized inputs run too.
The reference JSON holds fixed inputs and the outputs Python computes (float32, CPU):
  * "inputs" (N x 3 x 8 x 8) with "forward" and "features" outputs;
  * "preprocessed": grey inputs (N x 1 x 6 x 6), repeated to 3 channels, resized
    bilinearly (align_corners=False, no antialias) to 8 x 8 and normalised per channel by
    (x - mean) / std, then run through forward: what the extractor must reproduce with
    repeat_channels = 3, resize = 8 and that mean / std.
Every tensor is stored as {"shape": [...], "values": [row-major floats]}.

Usage (from the repository root, any Python with torch):
    python3 scripts/make_tiny_torchscript.py
The .pt file's bytes differ from run to run (torch.jit.save writes a random
serialization id), so regenerating it changes its content hash, not its outputs.
"""
import json
import pathlib
import sys
from typing import Tuple

import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "data" / "tiny_backbone.pt"
REFERENCE = ROOT / "tests" / "data" / "tiny_backbone_reference.json"
MEAN = [0.25, 0.5, 0.75]
STD = [0.5, 1.0, 2.0]
RESIZE = 8


class Pair(torch.nn.Module):
    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        return x, x


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2))
        self.head = torch.nn.Linear(16, 3)
        self.pair = Pair()

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "values": [float(v) for v in t.flatten().tolist()]}


def main():
    torch.manual_seed(20261201)
    model = Tiny().eval()
    scripted = torch.jit.script(model)
    torch.jit.save(scripted, str(MODEL))
    inputs = torch.randn(3, 3, 8, 8)
    grey = torch.rand(2, 1, 6, 6)
    with torch.no_grad():
        prepared = F.interpolate(grey.repeat(1, 3, 1, 1), size=(RESIZE, RESIZE),
                                 mode="bilinear", align_corners=False)
        prepared = (prepared - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(
            1, 3, 1, 1)
        out = {
            "generator": "scripts/make_tiny_torchscript.py",
            "command": "python3 scripts/make_tiny_torchscript.py",
            "torch_version": torch.__version__,
            "python_version": sys.version.split()[0],
            "model": MODEL.name,
            "inputs": tensor_json(inputs),
            "forward": tensor_json(model(inputs)),
            "features": tensor_json(model.features(inputs)),
            "preprocessed": {
                "inputs": tensor_json(grey),
                "repeat_channels": 3,
                "resize": RESIZE,
                "mean": MEAN,
                "std": STD,
                "forward": tensor_json(model(prepared)),
            },
        }
    REFERENCE.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
