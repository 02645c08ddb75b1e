#!/usr/bin/env python3
"""One table from a `dpsgd-run bench --json` result and a scripts/bench_opacus.py
result measured on the same machine: each dpsgd engine's median step time, its
ratio to dpsgd's non-private step (median of per-round ratios, from the bench),
and its ratio to Opacus' step time (medians), hooks and ghost."""
import json
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: bench_compare.py DPSGD_BENCH.json OPACUS_BENCH.json", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        ours = json.load(f)
    with open(sys.argv[2]) as f:
        theirs = json.load(f)
    checks = [("device", ours["device"], "cpu"), ("batch", ours["batch_size"], theirs["batch"]),
              ("physical batch", ours["physical_batch_size"], theirs["physical_batch"]),
              ("threads", ours["threads"], theirs["threads"])]
    for what, a, b in checks:
        if a != b:
            print(f"not the same setting: {what} {a} (dpsgd) vs {b} (Opacus, CPU)",
                  file=sys.stderr)
            return 2
    opacus = theirs["variants"]
    print(f"{ours['machine']}; batch {ours['batch_size']} (physical {ours['physical_batch_size']} "
          f"dpsgd, {theirs['physical_batch']} Opacus); torch {theirs['torch']}, "
          f"opacus {theirs['opacus']}")
    print(f"{'step':<22}{'ms':>9}{'x nonpriv':>11}{'x opacus_hooks':>16}{'x opacus_ghost':>16}")
    hooks = opacus.get("opacus_hooks", {}).get("median_step_s")
    ghost = opacus.get("opacus_ghost", {}).get("median_step_s")

    def row(name, seconds, ratio):
        vs_hooks = f"{seconds / hooks:16.2f}" if hooks else f"{'-':>16}"
        vs_ghost = f"{seconds / ghost:16.2f}" if ghost else f"{'-':>16}"
        print(f"{name:<22}{seconds * 1e3:9.1f}{ratio:11.2f}{vs_hooks}{vs_ghost}")

    row("dpsgd nonprivate", ours["nonprivate"]["median_step_s"], 1.0)
    for name, e in ours["engines"].items():
        row(f"dpsgd {name}", e["median_step_s"], e["ratio_to_nonprivate"])
    for name, v in opacus.items():
        row(f"pytorch {name}" if name == "nonprivate" else name, v["median_step_s"],
            v.get("ratio_to_nonprivate", 1.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
