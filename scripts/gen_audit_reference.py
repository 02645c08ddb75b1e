#!/usr/bin/env python3
"""Generates tests/reference/audit_reference.json: reference values for the audit and
tuning statistics (lib/dpsgd/audit, lib/dpsgd/tuning), computed independently with scipy.

- one_run: the p-value of Steinke, Nasr, Jagielski 2023 ("Privacy auditing with one (1)
  training run", Prop. 5.2 / Appendix D): with q = e^eps / (1 + e^eps), B ~ Binomial(r, q),
  p = P[B >= v] + 2 m delta max_{i=1..v} P[v-i <= B < v] / i (scipy.stats.binom), and the
  lower bound: the largest eps with p < 1 - confidence, by scipy.optimize.brentq on
  p(eps) - (1 - confidence) (to 1e-12), 0 when p(0) is not below it.
- clopper_pearson: the one-sided upper bound scipy.stats.beta.ppf(1 - level, k + 1, n - k).
- tnb: the truncated negative binomial of Papernot and Steinke 2022 from scipy.stats.nbinom
  (n = eta, p = gamma) conditioned on K >= 1: pmf(k) = nbinom.pmf(k) / (1 - gamma^eta),
  mean = nbinom.mean() / (1 - gamma^eta). scipy needs eta > 0; for eta in (-1, 0) the pmf is
  Papernot and Steinke's product formula, evaluated here term by term with fractions.Fraction
  for the product (exact) and the mean summed to 10^5 terms.

Usage (from the repository root, seconds):
    python3 scripts/gen_audit_reference.py > tests/reference/audit_reference.json
"""
import json
import math
import platform
from fractions import Fraction

import scipy
from scipy import optimize, stats


def p_value(m, r, v, eps, delta):
    q = 1.0 / (1.0 + math.exp(-eps))
    beta = float(stats.binom.sf(v - 1, r, q))
    alpha = 0.0
    for i in range(1, v + 1):
        below = float(stats.binom.cdf(v - 1, r, q) - stats.binom.cdf(v - i - 1, r, q))
        alpha = max(alpha, below / i)
    return min(1.0, beta + 2 * m * delta * alpha)


def lower_bound(m, r, v, delta, confidence):
    level = 1.0 - confidence
    f = lambda e: p_value(m, r, v, e, delta) - level
    if f(0.0) >= 0:
        return 0.0
    hi = 1.0
    while f(hi) < 0:
        hi *= 2
    return optimize.brentq(f, 0.0, hi, xtol=1e-12)


ONE_RUN_P = [  # (m, r, v, eps, delta)
    (1000, 100, 80, 1.0, 0.0), (1000, 100, 80, 1.0, 1e-5), (1000, 100, 100, 2.0, 1e-5),
    (1000, 1000, 600, 0.5, 1e-5), (200, 20, 0, 1.0, 1e-5), (200, 20, 20, 0.0, 1e-5),
    (5000, 500, 400, 1.5, 1e-6), (10, 10, 7, 0.3, 0.01),
]
ONE_RUN_BOUND = [  # (m, r, v, delta, confidence)
    (1000, 100, 100, 1e-5, 0.95), (1000, 100, 80, 1e-5, 0.95), (1000, 1000, 1000, 1e-5, 0.95),
    (1000, 1000, 600, 1e-5, 0.95), (1000, 50, 25, 1e-5, 0.95), (1000, 0, 0, 1e-5, 0.95),
    (500, 200, 150, 0.0, 0.99), (100000, 1000, 900, 1e-5, 0.95),
]
CLOPPER_PEARSON = [(0, 10, 0.025), (3, 10, 0.025), (50, 500, 0.05), (9, 10, 0.01), (0, 500, 0.025)]
TNB = [(1.0, 0.1), (0.5, 0.05), (2.0, 0.2), (0.25, 0.01)]
TNB_NEGATIVE = [(-0.5, 0.3), (-0.25, 0.1)]


def tnb_negative(eta, gamma, kmax):
    """P[K = k] = (1-gamma)^k / (gamma^-eta - 1) * prod_{l<k} (l + eta) / (l + 1), k >= 1."""
    out = []
    prod = Fraction(1)
    e = Fraction(eta)
    for k in range(1, kmax + 1):
        prod *= (k - 1 + e) / k
        out.append(float(prod) * (1 - gamma) ** k / (gamma ** (-eta) - 1))
    return out


def main():
    out = {
        "generator": "scripts/gen_audit_reference.py",
        "command": "python3 scripts/gen_audit_reference.py > tests/reference/audit_reference.json",
        "scipy": scipy.__version__,
        "python": platform.python_version(),
        "one_run_p_value": [
            {"m": m, "r": r, "v": v, "eps": e, "delta": d, "p": p_value(m, r, v, e, d)}
            for (m, r, v, e, d) in ONE_RUN_P
        ],
        "one_run_lower_bound": [
            {"m": m, "r": r, "v": v, "delta": d, "confidence": c,
             "eps": lower_bound(m, r, v, d, c)}
            for (m, r, v, d, c) in ONE_RUN_BOUND
        ],
        "clopper_pearson_upper": [
            {"k": k, "n": n, "level": lv,
             "upper": 1.0 if k == n else float(stats.beta.ppf(1 - lv, k + 1, n - k))}
            for (k, n, lv) in CLOPPER_PEARSON
        ],
        "truncated_negative_binomial": [
            {"eta": eta, "gamma": g,
             "mean": float(stats.nbinom.mean(eta, g)) / (1 - g ** eta),
             "pmf": [float(stats.nbinom.pmf(k, eta, g)) / (1 - g ** eta) for k in range(1, 8)]}
            for (eta, g) in TNB
        ] + [
            {"eta": eta, "gamma": g,
             "mean": sum(k * p for k, p in enumerate(tnb_negative(eta, g, 100000), start=1)),
             "pmf": tnb_negative(eta, g, 7)}
            for (eta, g) in TNB_NEGATIVE
        ],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
