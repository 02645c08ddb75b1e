#!/usr/bin/env python3
"""Generates tests/reference/mixed_reference.json: reference epsilons for mixed pipelines.

A private pipeline on fixed features composes full-batch Gaussian mechanisms (q = 1:
a DP least-squares Gram matrix and class sums, private normalisation moments, full-batch
gradient steps) with Poisson-subsampled DP-SGD steps. Each case below is a list of
segments (sigma, q, steps) and is composed here with Google's dp_accounting, an
implementation independent of dpsgd's, as dp_accounting events:
  q = 1:  SelfComposedDpEvent(GaussianDpEvent(sigma), steps)
  q < 1:  SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), steps)
all inside one ComposedDpEvent (add/remove-one neighbours, dp_accounting's default).

Recorded per case and delta:
  rdp_integer: dp_accounting RdpAccountant on the integer orders 2..128. At integer
      orders both dp_accounting and dpsgd evaluate the exact finite binomial sum for
      A_alpha (Mironov, Talwar, Zhang 2019, Sec. 3.3) and alpha / (2 sigma^2) at q = 1,
      and both convert with Balle et al. 2020 Thm 21, so the two must agree to rounding.
  rdp_default: dp_accounting RdpAccountant on dpsgd's default orders (Opacus' list:
      1 + x/10 for x = 1..99, then 12..63). At fractional orders dp_accounting sums the
      series of |terms| (an upper bound), dpsgd the signed series (exact), so
      dp_accounting's epsilon is >= dpsgd's, by up to a few percent once q >= 0.1; at
      q = 1 both are exact.
  pld: dp_accounting PLDAccountant (value_discretization_interval 1e-4, pessimistic
      estimate, both add and remove directions): an upper bound close to the exact
      epsilon, against which dpsgd's PRV bracket [lower, upper] is checked.

Usage (from the repository root; dp_accounting pulls numpy and scipy):
    python3 -m venv venv && venv/bin/pip install dp-accounting==0.6.0
    venv/bin/python scripts/gen_mixed_reference.py > tests/reference/mixed_reference.json
"""
import importlib.metadata
import json
import sys
import warnings

import numpy as np
import scipy

import dp_accounting
from dp_accounting.pld import pld_privacy_accountant
from dp_accounting.rdp import rdp_privacy_accountant

INTEGER_ORDERS = list(range(2, 129))
# dpsgd's default_rdp_orders() (rdp_accountant.hpp), built with the same floats.
DEFAULT_ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
PLD_INTERVAL = 1e-4
DELTAS = [1e-3, 1e-5, 1e-6]


def shared(sigma, share):
    """sigma / sqrt(share), as dpsgd's share_noise_multiplier()."""
    return sigma / share ** 0.5


# name -> segments (sigma, q, steps), in the order a pipeline would run them.
CASES = {
    # DP least squares: Gram matrix and class sums at a 0.7 / 0.3 split of sigma 2.
    "dp_ls_split": [(shared(2.0, 0.7), 1.0, 1), (shared(2.0, 0.3), 1.0, 1)],
    # DP least squares with the brief's free multipliers s1, s2.
    "dp_ls_free": [(4.0, 1.0, 1), (1.5, 1.0, 1)],
    # Full-batch DP-FC: a noisy normaliser, then 200 full-batch gradient steps.
    "dp_fc": [(6.0, 1.0, 1), (25.0, 1.0, 200)],
    # Private normalisation (mean and second moment) then DP-SGD at q = 0.1.
    "norm_then_dpsgd": [(8.0, 1.0, 1), (10.0, 1.0, 1), (2.5, 0.1, 1000)],
    # One normalisation release, then two DP-SGD phases with different (sigma, q).
    "norm_then_two_phases": [(12.0, 1.0, 1), (1.5, 0.05, 1500), (3.0, 0.1, 500)],
}


def event(sigma, q, steps):
    gaussian = dp_accounting.GaussianDpEvent(sigma)
    inner = gaussian if q == 1.0 else dp_accounting.PoissonSampledDpEvent(q, gaussian)
    return dp_accounting.SelfComposedDpEvent(inner, steps)


def composed(segments):
    return dp_accounting.ComposedDpEvent([event(*s) for s in segments])


def rdp_eps(segments, orders, delta):
    acc = rdp_privacy_accountant.RdpAccountant(orders)
    acc.compose(composed(segments))
    return float(acc.get_epsilon(delta))


def pld_eps(segments, delta):
    acc = pld_privacy_accountant.PLDAccountant(value_discretization_interval=PLD_INTERVAL)
    acc.compose(composed(segments))
    return float(acc.get_epsilon(delta))


def main():
    warnings.simplefilter("ignore")
    out = {
        "generator": "scripts/gen_mixed_reference.py",
        "command": "venv/bin/python scripts/gen_mixed_reference.py > "
                   "tests/reference/mixed_reference.json",
        "dp_accounting_version": importlib.metadata.version("dp_accounting"),
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": sys.version.split()[0],
        "neighbouring_relation": "add or remove one",
        "rdp_conversion": "improved (Balle et al. 2020 Thm 21)",
        "integer_orders": INTEGER_ORDERS,
        "default_orders": "dpsgd default_rdp_orders(): [1 + x/10 for x in 1..99] + [12..63]",
        "pld_value_discretization_interval": PLD_INTERVAL,
        "cases": [],
    }
    for name, segments in CASES.items():
        case = {
            "name": name,
            "segments": [{"sigma": s, "q": q, "steps": n} for (s, q, n) in segments],
            "values": [],
        }
        for delta in DELTAS:
            case["values"].append({
                "delta": delta,
                "rdp_integer": rdp_eps(segments, INTEGER_ORDERS, delta),
                "rdp_default": rdp_eps(segments, DEFAULT_ORDERS, delta),
                "pld": pld_eps(segments, delta),
            })
        out["cases"].append(case)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
