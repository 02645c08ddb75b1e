#!/usr/bin/env python3
"""Generates tests/reference/prv_reference.json: reference values for the PRV and GDP accountants.

PRV: Opacus' PRVAccountant (opacus/accountants/prv.py and analysis/prv/*, the algorithm of
Gopi, Lee, Wutschitz 2021) for the Poisson-subsampled Gaussian, with its defaults
eps_error = 0.01 and delta_error = delta / 1000 unless a point names others. For each
point we record (eps_lower, eps_estimate, eps_upper) from DiscretePRV.compute_epsilon,
Opacus' get_epsilon() (which returns eps_upper), the RDP epsilon (Opacus' RDPAccountant,
improved conversion, default orders) and the estimate for the "add" direction of the
neighbouring relation (Q = N(0, s^2) against P = (1-q) N(0, s^2) + q N(1, s^2), composed
with Opacus' own discretisation and composition code): Opacus, like the authors' code,
composes only the "remove" direction, and the C++ tests check that the remove direction
is the larger on every point here.

GDP: Opacus' GaussianAccountant(get_epsilon(delta, poisson=True)), i.e.
analysis/gdp.py compute_eps_poisson; for mixed histories (which Opacus' accountant
refuses) eps_from_mu(mu = sqrt(sum of per-segment mu^2)).

Usage (from the repository root; single-threaded, a few minutes):
    pip install opacus mpmath
    python3 scripts/gen_prv_reference.py > tests/reference/prv_reference.json
"""
import importlib.metadata
import json
import math
import platform
import sys
import warnings

import mpmath
import numpy as np
import scipy
from scipy.special import erfc

from opacus.accountants import GaussianAccountant, PRVAccountant, RDPAccountant
from opacus.accountants.analysis import gdp as opacus_gdp
from opacus.accountants.analysis.prv import (
    TruncatedPrivacyRandomVariable,
    compose_heterogeneous,
    discretize,
)

# (q, sigma, steps, delta): q = 1 to tiny q, sigma 0.5..10, steps 1..100000, several deltas.
POINTS = [
    (1.0, 1.0, 1, 1e-5),
    (1.0, 5.0, 10, 1e-5),
    (1.0, 2.0, 100, 1e-6),
    (0.5, 2.0, 100, 1e-5),
    (0.5, 10.0, 1000, 1e-5),
    (0.1, 1.0, 1000, 1e-5),
    (0.1, 3.0, 10000, 1e-3),
    (0.01, 0.8, 1, 1e-5),
    (0.01, 0.5, 100, 1e-5),
    (0.01, 1.0, 10000, 1e-5),
    (0.01, 2.0, 100000, 1e-8),
    (256 / 60000, 1.1, 14062, 1e-5),  # TF Privacy MNIST tutorial, 60 epochs
    (256 / 60000, 0.7, 10546, 1e-5),
    (256 / 60000, 1.1, 100000, 1e-5),
    (2048 / 60000, 2.0, 1172, 1e-5),
    (1e-3, 0.8, 100000, 1e-5),
    (1e-3, 5.0, 10000, 1e-6),
    (1e-4, 1.0, 100000, 1e-5),
    (0.02, 1.5, 50000, 1e-7),
    (0.25, 0.8, 10, 1e-2),
]

# (q, sigma, steps, delta, eps_error, delta_error): non-default errors.
POINTS_EXPLICIT = [
    (0.01, 1.0, 1000, 1e-5, 0.1, 1e-7),
    (0.05, 1.2, 200, 1e-6, 0.002, 1e-9),
]

# Mixed histories [(q, sigma, steps), ...], delta. The last one repeats a (sigma, q)
# pair non-consecutively (Opacus keeps three segments).
HISTORIES = [
    ([(0.01, 1.0, 500), (0.01, 2.0, 1500), (0.02, 1.0, 250)], 1e-5),
    ([(256 / 60000, 1.1, 7031), (256 / 60000, 0.7, 5273)], 1e-5),
    ([(0.01, 1.0, 300), (0.02, 2.0, 50), (0.01, 1.0, 200)], 1e-6),
]


class AddDirectionPRV:
    """PRV of the "add" direction: Y = -log(1 - q + q exp((2X - 1) / (2 s^2))), X ~ N(0, s^2).

    Y <= t  <=>  1 - q + q exp(...) >= e^{-t}  <=>  X >= s^2 z + 1/2,
    z = log((e^{-t} - (1 - q)) / q), for t < -log(1 - q) (else the CDF is 1).
    """

    def __init__(self, sample_rate, noise_multiplier):
        self.sample_rate = sample_rate
        self.noise_multiplier = noise_multiplier

    def cdf(self, t):
        q, s = self.sample_rate, self.noise_multiplier
        t = np.asarray(t, dtype=float)
        inside = t < -np.log1p(-q) if q < 1 else np.ones_like(t, dtype=bool)
        arg = np.where(inside, (np.exp(-t) - (1 - q)) / q, 1.0)
        z = np.log(np.maximum(arg, 1e-300))
        return np.where(inside, erfc((s * s * z + 0.5) / (s * math.sqrt(2))) / 2, 1.0)


def truncated_means(q, sigma, steps_total, delta, eps_error, delta_error, segments):
    """(Opacus' truncated mean, 40-digit mpmath truncated mean) of one (sigma, q) PRV on
    the domain Opacus uses for `segments`. Opacus' scipy.quad mean carries errors up to
    ~1e-10, which every step of the composition adds to epsilon; the C++ tests use the
    difference to separate that from the rest of the comparison."""
    acc = PRVAccountant()
    acc.history = [(s, qq, n) for (qq, s, n) in segments]
    from opacus.accountants.analysis.prv import PoissonSubsampledGaussianPRV
    prvs = [PoissonSubsampledGaussianPRV(qq, s) for (qq, s, n) in segments]
    domain = acc._get_domain(prvs=prvs, num_self_compositions=[n for (_, _, n) in segments],
                             eps_error=eps_error, delta_error=delta_error)
    opacus_mean = float(TruncatedPrivacyRandomVariable(
        PoissonSubsampledGaussianPRV(q, sigma), domain.t_min, domain.t_max).mean())
    mp = mpmath.mp
    mp.dps = 40
    Q, S = mp.mpf(q), mp.mpf(sigma)
    lo = mp.log1p(-Q) if q < 1 else mp.mpf(domain.t_min)

    def tails(t):  # (CDF, 1 - CDF) of Y at t
        t = mp.mpf(t)
        if t <= lo and q < 1:
            return mp.mpf(0), mp.mpf(1)
        # e^t - (1-q) = (1-q) expm1(t - log(1-q)): no cancellation next to the support's edge.
        z = t if q == 1 else mp.log((1 - Q) * mp.expm1(t - lo) / Q)
        a = (z * S * S - mp.mpf(1) / 2) / (S * mp.sqrt(2))
        b = (z * S * S + mp.mpf(1) / 2) / (S * mp.sqrt(2))
        return (Q * mp.erfc(-a) / 2 + (1 - Q) * mp.erfc(-b) / 2,
                Q * mp.erfc(a) / 2 + (1 - Q) * mp.erfc(b) / 2)

    t_min, t_max = mp.mpf(domain.t_min), mp.mpf(domain.t_max)
    f_min = tails(t_min)[0]
    s_max = tails(t_max)[1]
    mass = 1 - f_min - s_max
    # mass * mean = int_0^tmax (S - S(tmax)) - int_tmin^0 (F - F(tmin)), by parts.
    a0 = max(lo, t_min)
    left_pts = [a0] + [x for x in (-1e-1, -1e-2, -1e-3, -1e-4) if x > a0] + [0]
    right_pts = [0] + [x for x in (1e-4, 1e-3, 1e-2, 1e-1, 1, 3, 10) if x < t_max] + [t_max]
    left = mp.quad(lambda t: tails(t)[0] - f_min, left_pts)
    right = mp.quad(lambda t: tails(t)[1] - s_max, right_pts)
    return opacus_mean, float((right - left) / mass)


def prv_bounds(segments, delta, eps_error, delta_error):
    acc = PRVAccountant()
    acc.history = [(s, q, n) for (q, s, n) in segments]
    dprv = acc._get_dprv(eps_error=eps_error, delta_error=delta_error)
    lower, estimate, upper = dprv.compute_epsilon(delta, delta_error, eps_error)
    got = acc.get_epsilon(delta, eps_error=eps_error, delta_error=delta_error)
    assert got == upper
    return float(lower), float(estimate), float(upper), int(dprv.domain.size)


def add_direction_estimate(q, sigma, steps, delta, eps_error, delta_error):
    acc = PRVAccountant()
    acc.history = [(sigma, q, steps)]
    prv = AddDirectionPRV(q, sigma)
    domain = acc._get_domain(prvs=[prv], num_self_compositions=[steps], eps_error=eps_error,
                             delta_error=delta_error)
    tprv = TruncatedPrivacyRandomVariable(prv, domain.t_min, domain.t_max)
    dprv = compose_heterogeneous([discretize(tprv, domain)], [steps])
    return float(dprv.compute_epsilon(delta, delta_error, eps_error)[1])


def rdp_eps(segments, delta):
    acc = RDPAccountant()
    acc.history = [(s, q, n) for (q, s, n) in segments]
    return float(acc.get_epsilon(delta))


def gdp_eps(q, sigma, steps, delta):
    acc = GaussianAccountant()
    acc.history = [(sigma, q, steps)]
    return float(acc.get_epsilon(delta, poisson=True))


def main():
    warnings.simplefilter("ignore")
    out = {
        "generator": "scripts/gen_prv_reference.py",
        "command": "python3 scripts/gen_prv_reference.py > tests/reference/prv_reference.json",
        "opacus_version": importlib.metadata.version("opacus"),
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "prv_defaults": "eps_error 0.01, delta_error delta/1000 (Opacus PRVAccountant.get_epsilon)",
        "prv_fields": "epsilon_lower/estimate/upper from DiscretePRV.compute_epsilon; "
                      "opacus_mean / mpmath_mean = the truncated one-step PRV mean by Opacus' "
                      "scipy.quad / by 40-digit mpmath quadrature on Opacus' domain; "
                      "opacus_get_epsilon = PRVAccountant.get_epsilon (= upper); rdp_epsilon = "
                      "RDPAccountant.get_epsilon (improved conversion, default orders); "
                      "epsilon_add_direction = estimate for the add direction (see script)",
        "gdp": "GaussianAccountant.get_epsilon(delta, poisson=True); histories: "
               "analysis.gdp.eps_from_mu(sqrt(sum mu_s^2))",
        "prv_points": [],
        "prv_histories": [],
        "gdp_points": [],
        "gdp_histories": [],
    }
    for q, sigma, steps, delta in POINTS:
        de = delta / 1000
        lower, est, upper, size = prv_bounds([(q, sigma, steps)], delta, 0.01, de)
        out["prv_points"].append({
            "q": q, "sigma": sigma, "steps": steps, "delta": delta,
            "eps_error": 0.01, "delta_error": de, "grid_points": size,
            "epsilon_lower": lower, "epsilon_estimate": est, "epsilon_upper": upper,
            "opacus_get_epsilon": upper,
            "rdp_epsilon": rdp_eps([(q, sigma, steps)], delta),
            "epsilon_add_direction": add_direction_estimate(q, sigma, steps, delta, 0.01, de),
        })
        out["prv_points"][-1]["opacus_mean"], out["prv_points"][-1]["mpmath_mean"] = \
            truncated_means(q, sigma, steps, delta, 0.01, de, [(q, sigma, steps)])
        print(f"prv {q} {sigma} {steps} {delta}: {lower} {est} {upper}", file=sys.stderr)
    for q, sigma, steps, delta, ee, de in POINTS_EXPLICIT:
        lower, est, upper, size = prv_bounds([(q, sigma, steps)], delta, ee, de)
        out["prv_points"].append({
            "q": q, "sigma": sigma, "steps": steps, "delta": delta,
            "eps_error": ee, "delta_error": de, "grid_points": size,
            "epsilon_lower": lower, "epsilon_estimate": est, "epsilon_upper": upper,
            "opacus_get_epsilon": upper,
            "rdp_epsilon": rdp_eps([(q, sigma, steps)], delta),
            "epsilon_add_direction": add_direction_estimate(q, sigma, steps, delta, ee, de),
        })
        out["prv_points"][-1]["opacus_mean"], out["prv_points"][-1]["mpmath_mean"] = \
            truncated_means(q, sigma, steps, delta, ee, de, [(q, sigma, steps)])
    for segments, delta in HISTORIES:
        lower, est, upper, size = prv_bounds(segments, delta, 0.01, delta / 1000)
        out["prv_histories"].append({
            "segments": [{"q": q, "sigma": s, "steps": n} for (q, s, n) in segments],
            "delta": delta, "epsilon_lower": lower, "epsilon_estimate": est,
            "epsilon_upper": upper, "rdp_epsilon": rdp_eps(segments, delta),
        })
        for seg in out["prv_histories"][-1]["segments"]:
            seg["opacus_mean"], seg["mpmath_mean"] = truncated_means(
                seg["q"], seg["sigma"], None, delta, 0.01, delta / 1000, segments)
    for q, sigma, steps, delta in POINTS:
        mu = float(opacus_gdp.compute_mu_poisson(steps=steps, noise_multiplier=sigma,
                                                 sample_rate=q))
        try:
            eps = gdp_eps(q, sigma, steps, delta)
        except ValueError:  # brentq's bracket [0, 500] does not contain the root
            continue
        out["gdp_points"].append({"q": q, "sigma": sigma, "steps": steps, "delta": delta,
                                  "mu": mu, "epsilon": eps})
    for segments, delta in HISTORIES:
        mu = math.sqrt(sum(
            opacus_gdp.compute_mu_poisson(steps=n, noise_multiplier=s, sample_rate=q) ** 2
            for (q, s, n) in segments))
        out["gdp_histories"].append({
            "segments": [{"q": q, "sigma": s, "steps": n} for (q, s, n) in segments],
            "delta": delta, "mu": mu,
            "epsilon": float(opacus_gdp.eps_from_mu(mu=mu, delta=delta)),
        })
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
