#!/usr/bin/env python3
"""One table from a `dpsgd-run bench --json` result and a scripts/bench_opacus.py
result measured on the same machine: each dpsgd engine's median step time, its
ratio to dpsgd's non-private step (median of per-round ratios, from the bench),
and its ratio to Opacus' step time (medians), hooks and ghost.

The two results must share the setting: device cpu, batch, physical batch,
threads, and the model (bench_opacus.py's --model against the bench's model name;
also the input shape and the parameter count where both results have them). An
Opacus variant that Opacus could not run is listed as unsupported, with why."""
import json
import sys

# bench_opacus.py's --model -> the dpsgd model names that build the same network.
# (A result from before bench_opacus.py had --model has no "model": tanh_cnn.)
SAME_MODEL = {"tanh_cnn": {"tanh_cnn"}, "wrn16_4": {"wide_resnet", "wrn16_4"}}


def setting_mismatch(ours, theirs):
    """A line naming the first setting in which the two results differ, or None."""
    model = theirs.get("model", "tanh_cnn")
    checks = [("device", ours["device"], "cpu"), ("batch", ours["batch_size"], theirs["batch"]),
              ("physical batch", ours["physical_batch_size"], theirs["physical_batch"]),
              ("threads", ours["threads"], theirs["threads"])]
    if ours.get("model") not in SAME_MODEL.get(model, {model}):
        checks.append(("model", ours.get("model"), model))
    for key, theirs_key in (("input_shape", "input_shape"), ("parameters", "parameters")):
        if key in ours and theirs_key in theirs:
            checks.append((key.replace("_", " "), ours[key], theirs[theirs_key]))
    for what, a, b in checks:
        if a != b:
            return f"not the same setting: {what} {a} (dpsgd) vs {b} (Opacus, CPU)"
    return None


def describe_workload(ours, theirs):
    """The table's first line: machine, batch sizes, model, library versions."""
    model = theirs.get("model", "tanh_cnn")
    ws = theirs.get("weight_standardisation")
    convs = "" if ws is None else (", weight-standardised convs" if ws else ", plain convs")
    params = f", {theirs['parameters']} parameters" if "parameters" in theirs else ""
    return (f"{ours['machine']}; model {model}{convs}{params}; batch {ours['batch_size']} "
            f"(physical {ours['physical_batch_size']} dpsgd, {theirs['physical_batch']} Opacus); "
            f"torch {theirs['torch']}, opacus {theirs['opacus']}")


def print_table(ours, theirs):
    opacus = theirs["variants"]
    print(describe_workload(ours, theirs))
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
        if v.get("supported", True):
            row(f"pytorch {name}" if name == "nonprivate" else name, v["median_step_s"],
                v.get("ratio_to_nonprivate", 1.0))
        else:
            print(f"{name:<22}unsupported: {v.get('reason', '?')}")
    for name, v in opacus.items():
        if "per_sample" in v:
            methods = ", ".join(f"{t} {m}" for t, m in v["per_sample"].items())
            print(f"{name} per-sample norms: {methods}")


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: bench_compare.py DPSGD_BENCH.json OPACUS_BENCH.json", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        ours = json.load(f)
    with open(sys.argv[2]) as f:
        theirs = json.load(f)
    mismatch = setting_mismatch(ours, theirs)
    if mismatch:
        print(mismatch, file=sys.stderr)
        return 2
    print_table(ours, theirs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
