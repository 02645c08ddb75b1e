#!/usr/bin/env python3
"""Figures and a results table for one dpsgd-run experiment folder.

Usage: scripts/plot_study.py EXPERIMENT_DIR [--out DIR] [--smooth N]

Reads EXPERIMENT_DIR/index.json and, for each run, <run dir>/metrics.json and
<run dir>/summary.json (either may be missing: a failed, pending or killed run).
Writes into --out (default EXPERIMENT_DIR/plots):
  training_time.png    wall time (s) vs step
  training_loss.png    per-step training loss vs step (moving average over --smooth steps)
  validation_loss.png  evaluation loss vs step (split "val"; "test" when a run has no "val")
  epsilon.png          epsilon vs step (private runs only)
  validation_dice.png  evaluation dice (or accuracy) vs step, same split rule
  dice_vs_epsilon.png  final test dice (or accuracy) vs final epsilon, one line per variant;
                       non-private runs as dashed horizontal lines (when any run is private)
  results.md           one row per run, in index order
and prints the paths it wrote. Needs matplotlib only (Agg backend).
"""
import argparse
import json
import math
import os
import pathlib
import sys

try:
    import matplotlib
except ImportError:
    # `env python3` may find an interpreter (pyenv, venv) without matplotlib while the
    # system one has it (apt-get install -y python3-matplotlib): retry there once.
    system = "/usr/bin/python3"
    if (os.path.exists(system) and not os.environ.get("PLOT_STUDY_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(system)):
        os.environ["PLOT_STUDY_REEXEC"] = "1"
        os.execv(system, [system, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("plot_study.py needs matplotlib: apt-get install -y python3-matplotlib")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SEGMENTATION_KEYS = ("dice", "dice_all", "pixel_accuracy")


# ---------------------------------------------------------------- reading

def load_json(path):
    """The parsed file, or None when it is missing or unreadable (with a warning)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        print(f"warning: cannot read {path}: {e}", file=sys.stderr)
        return None


def num(x):
    """x as a finite float, else None (null, bool, string, NaN, inf)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def as_dict(x):
    return x if isinstance(x, dict) else {}


def as_list(x):
    return x if isinstance(x, list) else []


def first(*values):
    """The first value that is not None."""
    for v in values:
        if v is not None:
            return v
    return None


class Run:
    def __init__(self, root, entry, position):
        entry = as_dict(entry)
        self.entry = entry
        run_id = entry.get("run_id")
        run_id = str(run_id) if run_id not in (None, "") else f"run-{position + 1}"
        self.run_id = run_id
        self.label = str(entry.get("label") or entry.get("directory") or run_id)
        directory = entry.get("directory") or run_id
        self.dir = (root / str(directory))
        self.status = str(entry.get("status") or "unknown")
        metrics = load_json(self.dir / "metrics.json")
        self.metrics = metrics if isinstance(metrics, dict) else None
        summary = load_json(self.dir / "summary.json")
        self.summary = summary if isinstance(summary, dict) else None
        m = self.metrics or {}
        self.iterations = [r for r in as_list(m.get("iterations")) if isinstance(r, dict)]
        self.evaluations = [r for r in as_list(m.get("evaluations")) if isinstance(r, dict)]

    # -- figures

    @property
    def plotted(self):
        return self.metrics is not None and self.status != "failed"

    @property
    def legend(self):
        if self.status in ("completed", "unknown"):
            return self.label
        return f"{self.label} ({self.status})"

    def iteration_series(self, key):
        """(steps, values) of the iterations, skipping null values."""
        return eval_series(self.iterations, key)

    def eval_split(self):
        """("val", rows), or ("test", rows) when the run has no "val" rows."""
        val = [r for r in self.evaluations if r.get("split") == "val"]
        if val:
            return "val", val
        return "test", [r for r in self.evaluations if r.get("split") == "test"]

    # -- table

    def summary_get(self, key):
        return (self.summary or {}).get(key)

    @property
    def privacy(self):
        return as_dict((self.summary or {}).get("privacy"))

    @property
    def noise_multiplier(self):
        return first(num(self.privacy.get("noise_multiplier")),
                     num(self.entry.get("noise_multiplier")))

    def last_logged(self, key):
        """The last non-null value of key over iterations, then evaluations."""
        for rows in (self.iterations, self.evaluations):
            for row in reversed(rows):
                v = num(row.get(key))
                if v is not None:
                    return v
        return None

    @property
    def private(self):
        """True, False or None (unknown)."""
        p = self.summary_get("private")
        if isinstance(p, bool):
            return p
        sigma = self.noise_multiplier
        if sigma is not None:
            return sigma > 0
        if self.last_logged("epsilon") is not None or self.entry.get("target_epsilon") is not None:
            return True
        if "noise_multiplier" in self.entry or "noise_multiplier" in self.privacy:
            return False  # present and null: no noise
        return None

    @property
    def epsilon(self):
        return first(num(self.summary_get("epsilon")), num(self.entry.get("epsilon")),
                     self.last_logged("epsilon"))

    @property
    def delta(self):
        return first(num(self.summary_get("delta")), num(self.privacy.get("delta")),
                     self.last_logged("delta"))

    def _max_of(self, key):
        vals = [num(r.get(key)) for r in self.iterations + self.evaluations]
        vals = [v for v in vals if v is not None]
        return max(vals) if vals else None

    @property
    def epochs(self):
        return first(num(self.summary_get("epochs")), self._max_of("epoch"))

    @property
    def steps(self):
        return first(num(self.summary_get("steps")), self._max_of("step"))

    @property
    def final_test(self):
        for source in (self.summary_get("final_test"), self.entry.get("final_test")):
            if isinstance(source, dict) and source:
                return source
        tests = [r for r in self.evaluations if r.get("split") == "test"]
        return tests[-1] if tests else {}

    @property
    def total_time(self):
        return first(num(self.summary_get("total_time_s")), num(self.entry.get("total_time_s")),
                     self.last_logged("wall_time"))


def discover_runs(root):
    """Index-less fallback: every folder (up to two levels down) with metrics/summary."""
    dirs = set()
    for pattern in ("*/metrics.json", "*/summary.json", "*/*/metrics.json", "*/*/summary.json"):
        for p in root.glob(pattern):
            if "plots" not in p.relative_to(root).parts[:1]:
                dirs.add(p.parent)
    entries = []
    for d in sorted(dirs):
        rel = d.relative_to(root).as_posix()
        entries.append({"run_id": d.name, "label": rel, "directory": rel})
    return entries


# ---------------------------------------------------------------- figures

def moving_average(values, n):
    """Trailing mean over the last n values (fewer at the start)."""
    if n <= 1:
        return list(values)
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= n:
            total -= values[i - n]
        out.append(total / min(i + 1, n))
    return out


class Figure:
    def __init__(self, experiment, what, ylabel):
        self.fig, self.ax = plt.subplots(figsize=(8, 5))
        self.ax.set_title(f"{experiment}: {what}")
        self.ax.set_xlabel("step")
        self.ax.set_ylabel(ylabel)
        self.ax.grid(True, alpha=0.3)
        self.lines = 0
        self.notes = []

    def line(self, xs, ys, label, color, markers=False):
        if not xs:
            return
        style = dict(marker="o", markersize=3) if markers or len(xs) == 1 else {}
        self.ax.plot(xs, ys, label=label, color=color, linewidth=1.4, **style)
        self.lines += 1

    def save(self, path):
        if self.lines:
            many = self.lines > 8
            self.ax.legend(fontsize="small",
                           loc="upper left" if many else "best",
                           bbox_to_anchor=(1.01, 1.0) if many else None)
        else:
            self.ax.text(0.5, 0.5, "no data", transform=self.ax.transAxes,
                         ha="center", va="center", color="gray")
        if self.notes:
            self.fig.text(0.01, 0.005, "\n".join(self.notes), fontsize="small",
                          color="dimgray", va="bottom", ha="left")
            self.fig.subplots_adjust(bottom=0.12 + 0.04 * len(self.notes))
        self.fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(self.fig)


def colors_for(runs):
    cmap = plt.get_cmap("tab10" if len(runs) <= 10 else "tab20")
    return {id(r): cmap(i % cmap.N) for i, r in enumerate(runs)}


def eval_series(rows, key):
    """(steps, values) of metric rows, skipping null values."""
    xs, ys = [], []
    for i, row in enumerate(rows):
        y = num(row.get(key))
        if y is None:
            continue
        xs.append(first(num(row.get("step")), float(i + 1)))
        ys.append(y)
    return xs, ys


def score_key(rows):
    return "dice" if any(num(r.get("dice")) is not None for r in rows) else "accuracy"


def skipped_note(runs):
    skipped = [r.label for r in runs if not r.plotted]
    return [f"not drawn (failed or no metrics.json): {', '.join(skipped)}"] if skipped else []


def figures(experiment, runs, out, smooth):
    color = colors_for(runs)
    drawn = [r for r in runs if r.plotted]
    written = []

    f = Figure(experiment, "training time", "wall time (s)")
    for r in drawn:
        f.line(*r.iteration_series("wall_time"), r.legend, color[id(r)])
    f.notes += skipped_note(runs)
    f.save(out / "training_time.png")
    written.append(out / "training_time.png")

    ylabel = "training loss" + (f" (moving average over {smooth} steps)" if smooth > 1 else "")
    f = Figure(experiment, "training loss", ylabel)
    for r in drawn:
        xs, ys = r.iteration_series("loss")
        f.line(xs, moving_average(ys, smooth), r.legend, color[id(r)])
    f.notes += skipped_note(runs)
    f.save(out / "training_loss.png")
    written.append(out / "training_loss.png")

    f = Figure(experiment, "validation loss", "evaluation loss")
    for r in drawn:
        split, rows = r.eval_split()
        label = r.legend + (" [test split: no val rows]" if split == "test" else "")
        f.line(*eval_series(rows, "loss"), label, color[id(r)], markers=True)
    f.notes += skipped_note(runs)
    f.save(out / "validation_loss.png")
    written.append(out / "validation_loss.png")

    deltas = {r.delta for r in drawn if r.private and r.delta is not None}
    what = "privacy budget" + (f" (delta = {deltas.pop():g})" if len(deltas) == 1 else "")
    f = Figure(experiment, what, "epsilon")
    omitted = []
    for r in drawn:
        xs, ys = r.iteration_series("epsilon")
        if not xs:
            xs, ys = eval_series(r.evaluations, "epsilon")
        if r.private is False or not xs:
            omitted.append(r.label)
            continue
        f.line(xs, ys, r.legend, color[id(r)])
    if omitted:
        f.notes.append(f"omitted (non-private or no epsilon logged): {', '.join(omitted)}")
    f.notes += skipped_note(runs)
    f.save(out / "epsilon.png")
    written.append(out / "epsilon.png")

    series = []
    for r in drawn:
        split, rows = r.eval_split()
        key = score_key(rows)
        series.append((r, split, key, eval_series(rows, key)))
    keys = sorted({key for _, _, key, (xs, _) in series if xs}) or ["dice"]
    f = Figure(experiment, "validation " + " / ".join(keys), "evaluation " + " / ".join(keys))
    for r, split, key, (xs, ys) in series:
        label = r.legend
        if len(keys) > 1:
            label += f" ({key})"
        if split == "test":
            label += " [test split: no val rows]"
        f.line(xs, ys, label, color[id(r)], markers=True)
    f.notes += skipped_note(runs)
    f.save(out / "validation_dice.png")
    written.append(out / "validation_dice.png")
    if any(r.private for r in runs):
        written.append(score_vs_epsilon(experiment, runs, out, color))
    return written


def variant_of(r):
    """The run's variant (index row or summary), else its label without the budget part."""
    return str(r.entry.get("variant") or r.summary_get("variant") or r.label.split("/")[0])


def score_vs_epsilon(experiment, runs, out, color):
    """Final test score against final epsilon: the privacy-utility curve of each variant."""
    tests = [as_dict(r.final_test) for r in runs]
    key = "dice" if any(num(t.get("dice")) is not None for t in tests) else "accuracy"
    f = Figure(experiment, f"test {key} vs epsilon", f"final test {key}")
    f.ax.set_xlabel("epsilon (final)")
    groups = {}
    for r, t in zip(runs, tests):
        if num(t.get(key)) is None:
            continue
        groups.setdefault(variant_of(r), []).append((r, num(t.get(key))))
    for name, members in groups.items():
        private = sorted((r.epsilon, v) for r, v in members if r.private and r.epsilon is not None)
        if private:
            xs, ys = zip(*private)
            f.line(list(xs), list(ys), name, color[id(members[0][0])], markers=True)
        for r, v in members:
            if r.private is False:
                f.ax.axhline(v, linestyle="--", color=color[id(r)], label=f"{name} (non-private)")
                f.lines += 1
    f.save(out / "dice_vs_epsilon.png")
    return out / "dice_vs_epsilon.png"


# ---------------------------------------------------------------- table

def fmt(x, spec):
    v = num(x)
    if v is None:
        return "-"
    if spec == "int":
        return str(int(round(v)))
    return format(v, spec)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(experiment, runs, path):
    tests = [r.final_test for r in runs]
    has_seg = any(k in t for t in tests for k in SEGMENTATION_KEYS)
    has_acc = any("accuracy" in t for t in tests)
    metric_keys = ["loss"]
    if has_seg or not has_acc:
        metric_keys += list(SEGMENTATION_KEYS)
    if has_acc:
        metric_keys.append("accuracy")

    deltas = {r.delta for r in runs if r.delta is not None}
    eps_head = "epsilon (final" + (f", delta {deltas.pop():g})" if len(deltas) == 1 else ", at delta)")
    score = "dice" if has_seg or not has_acc else "accuracy"
    head = (["run", "private", "noise multiplier", eps_head, "delta", "epochs", "steps",
             f"val {score} (final)"]
            + [f"test {k}" for k in metric_keys] + ["total time (s)", "status"])
    lines = [f"# {experiment}", "",
             "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for r in runs:
        private = {True: "yes", False: "no", None: "-"}[r.private]
        test = as_dict(r.final_test)
        row = [cell(r.label), private, fmt(r.noise_multiplier, "g"),
               fmt(r.epsilon, ".2f") if r.private is not False else "-",
               fmt(r.delta, "g") if r.private is not False else "-",
               fmt(r.epochs, "int"), fmt(r.steps, "int")]
        split, rows = r.eval_split()
        row.append(fmt(rows[-1].get(score), ".4f") if split == "val" and rows else "-")
        row += [fmt(test.get(k), ".4f") for k in metric_keys]
        row += [fmt(r.total_time, ".1f"), cell(r.status)]
        lines.append("| " + " | ".join(row) + " |")
    notes = [r for r in runs if r.status not in ("completed", "unknown")]
    if notes:
        lines += ["", "Runs not completed show what their files held when this table was made."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment_dir", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="output folder (default EXPERIMENT_DIR/plots)")
    parser.add_argument("--smooth", type=int, default=1,
                        help="moving average over N steps for the training loss (default 1 = raw)")
    args = parser.parse_args(argv)
    if args.smooth < 1:
        parser.error("--smooth must be at least 1")
    root = args.experiment_dir
    if not root.is_dir():
        parser.error(f"not a folder: {root}")

    index = as_dict(load_json(root / "index.json"))
    entries = as_list(index.get("runs"))
    if not index:
        print(f"warning: no readable {root / 'index.json'}; looking for run folders",
              file=sys.stderr)
        entries = discover_runs(root)
    experiment = str(index.get("experiment") or root.resolve().name)
    runs = [Run(root, e, i) for i, e in enumerate(entries)]
    if not runs:
        print(f"warning: no runs found in {root}", file=sys.stderr)

    out = args.out if args.out is not None else root / "plots"
    out.mkdir(parents=True, exist_ok=True)
    written = figures(experiment, runs, out, args.smooth)
    written.append(table(experiment, runs, out / "results.md"))
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
