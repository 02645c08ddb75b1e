#!/usr/bin/env python3
"""Generates tests/reference/rdp_reference.json: reference epsilons for the RDP accountant.

Reference implementation: Opacus' RDP analysis (opacus/accountants/analysis/rdp.py,
itself the TF Privacy rdp_accountant): compute_rdp() for the Poisson-subsampled Gaussian
mechanism and get_privacy_spent() with the Balle et al. 2020 (Thm 21) conversion,
over Opacus' default orders. For each point we also record Google dp_accounting's
RdpAccountant epsilon on the same orders, as an independent cross-check (it bounds the
fractional-order series by the sum of absolute values and clamps epsilon at 0, so it can
differ from Opacus in the last digits).

Usage (from the repository root):
    pip install opacus dp_accounting
    python3 scripts/gen_rdp_reference.py > tests/reference/rdp_reference.json
"""
import importlib.metadata
import json
import sys
import warnings

import numpy as np

import dp_accounting
from opacus.accountants.analysis import rdp as opacus_rdp

# Same list and same float construction as Opacus' RDPAccountant.DEFAULT_ALPHAS.
ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))

# (q, sigma, steps, delta): ~20 points covering q = 1, tiny q, sigma 0.5..10,
# steps 1..100000 and several deltas.
POINTS = [
    (1.0, 1.0, 1, 1e-5),
    (1.0, 5.0, 10, 1e-5),
    (1.0, 10.0, 100, 1e-6),
    (0.5, 2.0, 100, 1e-5),
    (0.5, 10.0, 1000, 1e-5),
    (0.1, 1.0, 1000, 1e-5),
    (0.1, 3.0, 10000, 1e-3),
    (0.01, 0.5, 1, 1e-5),
    (0.01, 0.5, 1000, 1e-5),
    (0.01, 1.0, 10000, 1e-5),
    (0.01, 2.0, 100000, 1e-8),
    (256 / 60000, 1.1, 14062, 1e-5),
    (256 / 60000, 0.7, 10546, 1e-5),
    (2048 / 60000, 2.0, 1172, 1e-5),
    (2048 / 60000, 2.5, 1172, 1e-5),
    (1e-3, 0.8, 100000, 1e-5),
    (1e-3, 5.0, 100000, 1e-6),
    (1e-4, 0.5, 100, 1e-5),
    (1e-4, 1.0, 100000, 1e-5),
    (1e-4, 10.0, 100000, 1e-5),
    (0.02, 1.5, 50000, 1e-7),
    (0.25, 0.8, 10, 1e-2),
]

# Per-order RDP values of one step, to test compute_rdp() on its own
# (integer and fractional orders, including the extremes of the default list).
RDP_POINTS = [
    (q, sigma, alpha)
    for (q, sigma) in [(0.01, 1.0), (256 / 60000, 1.1), (0.5, 2.0), (1e-4, 0.5), (0.1, 5.0)]
    for alpha in [1.1, 1.5, 2.0, 2.7, 8.8, 10.9, 12, 32, 63]
]

# Mixed histories (segments of (q, sigma, steps)) composed by summing RDP curves.
HISTORIES = [
    ([(0.01, 1.0, 500), (0.01, 2.0, 1500), (0.02, 1.0, 250)], 1e-5),
    ([(256 / 60000, 1.1, 7031), (256 / 60000, 0.7, 5273)], 1e-5),
]


def opacus_eps(segments, delta):
    rdp = sum(
        np.asarray(opacus_rdp.compute_rdp(q=q, noise_multiplier=s, steps=n, orders=ORDERS))
        for (q, s, n) in segments
    )
    eps, order = opacus_rdp.get_privacy_spent(orders=ORDERS, rdp=rdp, delta=delta)
    return float(eps), float(order)


def dp_accounting_eps(segments, delta):
    acc = dp_accounting.rdp.RdpAccountant(ORDERS)
    for q, s, n in segments:
        acc.compose(
            dp_accounting.SelfComposedDpEvent(
                dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(s)), n
            )
        )
    return float(acc.get_epsilon(delta))


def main():
    warnings.simplefilter("ignore")  # Opacus warns when the best order is an end of the list
    out = {
        "generator": "scripts/gen_rdp_reference.py",
        "command": "python3 scripts/gen_rdp_reference.py > tests/reference/rdp_reference.json",
        "opacus_version": importlib.metadata.version("opacus"),
        "dp_accounting_version": importlib.metadata.version("dp_accounting"),
        "numpy_version": np.__version__,
        "orders": "opacus default: [1 + x/10 for x in 1..99] + [12..63]",
        "conversion": "improved (Balle et al. 2020 Thm 21, opacus get_privacy_spent)",
        "points": [],
        "rdp_points": [],
        "histories": [],
    }
    for q, sigma, steps, delta in POINTS:
        eps, order = opacus_eps([(q, sigma, steps)], delta)
        out["points"].append({
            "q": q, "sigma": sigma, "steps": steps, "delta": delta,
            "epsilon": eps, "best_order": order,
            "epsilon_dp_accounting": dp_accounting_eps([(q, sigma, steps)], delta),
        })
    for q, sigma, alpha in RDP_POINTS:
        rdp = float(opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=[alpha])[0])
        out["rdp_points"].append({"q": q, "sigma": sigma, "alpha": alpha, "rdp": rdp})
    for segments, delta in HISTORIES:
        eps, order = opacus_eps(segments, delta)
        out["histories"].append({
            "segments": [{"q": q, "sigma": s, "steps": n} for (q, s, n) in segments],
            "delta": delta, "epsilon": eps, "best_order": order,
        })
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
