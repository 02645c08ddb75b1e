#!/usr/bin/env python3
"""Accuracy against epsilon for private heads on fixed features, and its table.

Usage: scripts/plot_features.py EXPERIMENT_DIR [EXPERIMENT_DIR ...] [--out DIR]

Reads every <dir>/**/summary.json of a completed or budget-exhausted private run
(variants and single-config experiments alike), groups the runs by head method
(dp_sgd, dp_ls, dp_fc), and writes into --out (default: the first dir's plots/):
  accuracy_vs_epsilon.png  test accuracy vs epsilon, one line per method, with the
                           published Fashion-MNIST figures at epsilon 3 marked
  features_table.md        method, epsilon, accuracy, feature extraction time,
                           training (fit) time, one row per run
The plot needs matplotlib (re-executes /usr/bin/python3 if this interpreter lacks
it); the table is written either way.
"""
import argparse
import json
import os
import pathlib
import sys

PUBLISHED = [("Tramer & Boneh 2021, ScatterNet + linear", 3.0, 89.7),
             ("DPSUR (Fu et al. 2024)", 3.0, 89.71)]


def load_runs(dirs):
    runs = []
    for d in dirs:
        for path in sorted(pathlib.Path(d).rglob("summary.json")):
            s = json.loads(path.read_text())
            if s.get("status") not in ("completed", "budget_exhausted") or not s.get("private"):
                continue
            if not isinstance(s.get("epsilon"), (int, float)):
                continue  # sigma 0: no finite epsilon to plot
            method = s.get("config", {}).get("head", {}).get("method", "dp_sgd")
            feats = s.get("features", {})
            runs.append({
                "dir": str(path.parent),
                "method": method,
                "extractor": s.get("config", {}).get("features", {}).get("extractor", "none"),
                "epsilon": s.get("epsilon"),
                "target": (s.get("privacy") or {}).get("target_epsilon"),
                "accuracy": 100.0 * (s.get("final_test") or {}).get("accuracy", float("nan")),
                "extract_s": feats.get("extract_seconds", 0.0),
                "from_cache": feats.get("from_cache"),
                "train_s": s.get("total_time_s"),
            })
    return runs


def write_table(runs, out):
    lines = ["| method | extractor | target epsilon | epsilon | test accuracy (%) | "
             "feature extraction (s) | training (s) | run |",
             "|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r["method"], r["epsilon"] or 0)):
        extract = "cached" if r["from_cache"] else f"{r['extract_s']:.1f}"
        lines.append(f"| {r['method']} | {r['extractor']} | {r['target']} | {r['epsilon']:.3f} | "
                     f"{r['accuracy']:.2f} | {extract} | {r['train_s']:.1f} | {r['dir']} |")
    for name, eps, acc in PUBLISHED:
        lines.append(f"| {name} | scatternet | {eps} | {eps} | {acc:.2f} | | | published |")
    path = out / "features_table.md"
    path.write_text("\n".join(lines) + "\n")
    print(path)


def plot(runs, out):
    try:
        import matplotlib
    except ImportError:
        system = "/usr/bin/python3"
        if os.path.exists(system) and not os.environ.get("PLOT_FEATURES_REEXEC") and \
                os.path.realpath(sys.executable) != os.path.realpath(system):
            os.environ["PLOT_FEATURES_REEXEC"] = "1"
            os.execv(system, [system, os.path.abspath(__file__)] + sys.argv[1:])
        print("matplotlib missing: no plot (apt-get install -y python3-matplotlib)")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for method in sorted({r["method"] for r in runs}):
        pts = sorted((r["epsilon"], r["accuracy"]) for r in runs if r["method"] == method)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)
    for name, eps, acc in PUBLISHED:
        ax.scatter([eps], [acc], marker="x", color="black")
        ax.annotate(name, (eps, acc), fontsize=7, xytext=(-150, 6), textcoords="offset points")
    ax.set_xlabel("epsilon (delta 1e-5)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = out / "accuracy_vs_epsilon.png"
    fig.savefig(path, dpi=120)
    print(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--out")
    args = ap.parse_args()
    runs = load_runs(args.dirs)
    if not runs:
        sys.exit("no completed private runs under " + ", ".join(args.dirs))
    out = pathlib.Path(args.out or pathlib.Path(args.dirs[0]) / "plots")
    out.mkdir(parents=True, exist_ok=True)
    write_table(runs, out)
    plot(runs, out)


if __name__ == "__main__":
    main()
