#!/usr/bin/env python3
"""Generates tests/reference/scatternet_reference.json: 2-D scattering transforms by kymatio.

Reference implementation: kymatio 0.3.0, `kymatio.torch.Scattering2D(J, shape, L)` (Morlet
wavelets, max_order 2, reflect padding), the extractor of Tramer & Boneh (ICLR 2021). Each
case records its inputs (float32, exactly representable with 9 significant digits) and
kymatio's output, N x C x K x H/2^J x W/2^J, flattened in C order; dpsgd's Scattering2d
flattens C x K into C*K channels in the same order.

kymatio 0.3.0 imports `scipy.special.sph_harm` (for its 3-D module only), which SciPy 1.15
removed; we give `scipy.special` a placeholder before importing kymatio.torch.

Usage (from the repository root; torch from any recent CPU build):
    python3 -m venv /tmp/kyvenv
    /tmp/kyvenv/bin/pip install kymatio==0.3.0 torch numpy scipy
    /tmp/kyvenv/bin/python scripts/gen_scatternet_reference.py \
        > tests/reference/scatternet_reference.json
"""
import importlib.metadata
import json
import sys

import numpy as np
import scipy.special

if not hasattr(scipy.special, "sph_harm"):
    scipy.special.sph_harm = None  # placeholder: only kymatio.scattering3d calls it

import torch  # noqa: E402
from kymatio.torch import Scattering2D  # noqa: E402


def round9(values):
    return [float(f"{v:.9g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def mnist_like_images():
    """Three 28x28 images: seeded noise, a smooth blob pattern, oriented stripes with an edge."""
    rng = np.random.default_rng(20210101)
    noise = rng.random((28, 28))
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float64)
    smooth = np.exp(-((yy - 12.0) ** 2 + (xx - 15.0) ** 2) / 40.0) + 0.5 * np.sin(xx / 4.0) * np.cos(
        yy / 5.0)
    stripes = 0.5 + 0.5 * np.sign(np.sin(0.6 * xx + 0.3 * yy))
    stripes[:, :10] = 0.0  # a vertical edge next to the oriented stripes
    return np.stack([noise, smooth, stripes])[:, None]  # N x 1 x 28 x 28


def cases():
    rng = np.random.default_rng(14)
    yield "mnist_like_J2_L8", 2, 8, mnist_like_images()
    two_channel = rng.standard_normal((1, 2, 16, 24))
    yield "two_channel_16x24_J2_L8", 2, 8, two_channel
    yield "square_32x32_J3_L6", 3, 6, rng.random((1, 1, 32, 32))


def run_case(name, J, L, images):
    x = np.asarray(images, dtype=np.float32)
    N, C, H, W = x.shape
    scattering = Scattering2D(J=J, shape=(H, W), L=L)
    with torch.no_grad():
        out = scattering(torch.from_numpy(x)).numpy()
    return {
        "name": name,
        "J": J,
        "L": L,
        "input_shape": [N, C, H, W],
        "input": round9(x),
        "output_shape": list(out.shape),
        "output": round9(out),
    }


def main():
    reference = {
        "generator": "scripts/gen_scatternet_reference.py",
        "command": "python scripts/gen_scatternet_reference.py > "
        "tests/reference/scatternet_reference.json",
        "kymatio_version": importlib.metadata.version("kymatio"),
        "torch_version": torch.__version__,
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "layout": "input N x C x H x W; output N x C x K x H/2^J x W/2^J (kymatio order); "
        "both flattened in C order, 9 significant digits",
        "cases": [run_case(*case) for case in cases()],
    }
    json.dump(reference, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
