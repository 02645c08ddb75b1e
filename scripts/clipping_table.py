#!/usr/bin/env python3
"""Markdown table of a clipping-method comparison: one row per run found in
DIR/<method>/<run>/summary.json (written by dpsgd-run)."""
import json
import pathlib
import sys


def rows(root):
    for summary in sorted(pathlib.Path(root).glob("*/*/summary.json")):
        s = json.loads(summary.read_text())
        p = s.get("privacy", {})
        cfg = s["config"]["privacy"]
        clip = cfg.get("clipping", {})
        label = clip.get("mode", "none")
        if clip.get("per_layer"):
            label += " (per layer)"
        if cfg.get("microbatches"):
            label += f" + {cfg['microbatches']} microbatches"
        acc = s["final_test"].get("accuracy")
        yield (summary.parent.parent.name, label, p.get("noise_multiplier"), s.get("epsilon"),
               acc, s["epochs"], s["total_time_s"], s["machine"])


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "results/clipping_table"
    print("| config | method | sigma | epsilon (delta 1e-5) | test accuracy | epochs | wall time |")
    print("|---|---|---|---|---|---|---|")
    machines = set()
    for name, label, sigma, eps, acc, epochs, wall, machine in rows(root):
        machines.add(machine)
        sig = f"{sigma:.3f}" if sigma is not None else "-"
        e = f"{eps:.2f}" if eps is not None else "-"
        a = f"{100 * acc:.2f}%" if acc is not None else "-"
        print(f"| {name} | {label} | {sig} | {e} | {a} | {epochs} | {wall / 60:.1f} min |")
    for m in sorted(machines):
        print(f"\nMachine: {m}")


if __name__ == "__main__":
    main()
