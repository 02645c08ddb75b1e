#!/usr/bin/env python3
"""Times Opacus on this machine's CPU for the workload our C++ bench times
(dpsgd-bench / lib/dpsgd/experiment/bench.cpp), so that our step time can be
reported as a ratio to Opacus measured on the same machine.

Workload: the TF Privacy MNIST CNN with tanh ("tanh_cnn"), PyTorch default init
under seed 0, on real Fashion-MNIST training images scaled to [0, 1]; 4 fixed
batches of --batch examples drawn with torch.randperm under seed 0, steps cycle
over them; cross entropy (mean); SGD lr 4.0 momentum 0.9. Variants, each with its
own model and optimizer built from the same initial weights:
  nonprivate    forward, loss, backward, optimizer.step(), optimizer.zero_grad()
  opacus_hooks  PrivacyEngine.make_private(grad_sample_mode="hooks"): per-sample
                gradients by module hooks, flat clipping at 0.1, noise 1.0
  opacus_ghost  grad_sample_mode="ghost": fast gradient (ghost) clipping; the
                wrapped criterion's loss.backward() runs both backward passes
With --physical-batch < --batch every variant runs the batch in chunks before one
optimizer update: nonprivate accumulates gradients (chunk loss scaled by
chunk/batch); Opacus variants use Opacus's own virtual-batch mechanism (the one
BatchMemoryManager uses: signal_skip_step on all but the last chunk, so each
chunk is clipped and accumulated and noise is added once).

Timing: --warmup untimed steps per variant, then --steps interleaved rounds (each
round times one step of every variant in turn, wall clock around the whole step).
Reported per variant: median step time, and the median over rounds of the
per-round ratio to the non-private step.

Why the weights are restored: before every step (outside the timed region) each
variant's parameters are copied back to the shared initial values. Kernel speed
depends on the weight values (e.g. max_pool2d's branch pattern, which changes as
tanh units saturate), so models that drift apart would time different
arithmetic; restoring makes every variant time the same arithmetic, as the C++
bench does. Optimizer state (momentum) is not restored, as in the C++ bench.
"""

import argparse
import copy
import gzip
import json
import os
import statistics
import struct
import sys
import tempfile
import time
import warnings

import torch
from torch import nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"
VARIANTS = ("nonprivate", "opacus_hooks", "opacus_ghost")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=2048, help="logical batch size (default 2048)")
    p.add_argument("--physical-batch", type=int, default=None,
                   help="chunk size within a batch (default: = --batch)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="torch.set_num_threads (default: os.cpu_count())")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per variant (default 3)")
    p.add_argument("--steps", type=int, default=20, help="timed interleaved rounds (default 20)")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help="comma-separated subset of %s (nonprivate is always run)" % ",".join(VARIANTS))
    p.add_argument("--data-dir", default=DATA_DIR, help="Fashion-MNIST IDX .gz files (default %(default)s)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    a = p.parse_args()
    if a.physical_batch is None:
        a.physical_batch = a.batch
    if a.batch < 1 or not 1 <= a.physical_batch <= a.batch:
        p.error("need 1 <= --physical-batch <= --batch")
    if a.threads < 1 or a.steps < 1 or a.warmup < 0:
        p.error("need --threads >= 1, --steps >= 1, --warmup >= 0")
    names = [v for v in a.variants.split(",") if v]
    bad = [v for v in names if v not in VARIANTS]
    if bad:
        p.error("unknown variant(s) %s; choose from %s" % (",".join(bad), ",".join(VARIANTS)))
    a.variants = ["nonprivate"] + [v for v in VARIANTS[1:] if v in names]
    return a


def read_idx(path, magic, ndim):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    head = struct.unpack(">%dI" % (1 + ndim), raw[: 4 * (1 + ndim)])
    if head[0] != magic:
        raise SystemExit("%s: bad IDX magic %d (expected %d)" % (path, head[0], magic))
    dims = head[1:]
    data = torch.frombuffer(bytearray(raw), dtype=torch.uint8, offset=4 * (1 + ndim))
    return data[: int(torch.tensor(dims).prod())].reshape(dims)


def load_fashion_mnist_train(data_dir):
    x = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), 2051, 3)
    y = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"), 2049, 1)
    x = (x.to(torch.float32) / 255.0).unsqueeze(1).contiguous()  # (N, 1, 28, 28) in [0, 1]
    return x, y.to(torch.int64)


def tanh_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=8, stride=2, padding=3), nn.Tanh(),
        nn.MaxPool2d(kernel_size=2, stride=1),
        nn.Conv2d(16, 32, kernel_size=4, stride=2, padding=0), nn.Tanh(),
        nn.MaxPool2d(kernel_size=2, stride=1),
        nn.Flatten(),  # 32 * 4 * 4 = 512
        nn.Linear(512, 32), nn.Tanh(),
        nn.Linear(32, 10),
    )


def cpu_model_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown"


class Variant:
    """One variant's model, optimizer and step; params are restored before each step."""

    def __init__(self, name, base_model, initial, batch, physical, dataset):
        self.name, self.batch, self.physical = name, batch, physical
        self.times = []
        module = copy.deepcopy(base_model)
        # The Parameter objects stay the same when Opacus wraps the module.
        self.params = list(module.parameters())
        self.initial = initial
        optimizer = torch.optim.SGD(module.parameters(), lr=4.0, momentum=0.9)
        self.criterion = nn.CrossEntropyLoss()
        self.ghost = name == "opacus_ghost"
        if name == "nonprivate":
            self.model, self.optimizer = module, optimizer
            return
        from opacus import PrivacyEngine
        # One batch of `batch` examples per "epoch", so Opacus's expected batch size
        # (the divisor of the summed clipped gradients) equals --batch.
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch)
        engine = PrivacyEngine()
        common = dict(module=module, optimizer=optimizer, data_loader=loader,
                      noise_multiplier=1.0, max_grad_norm=0.1, poisson_sampling=False)
        if self.ghost:
            self.model, self.optimizer, self.criterion, _ = engine.make_private(
                criterion=nn.CrossEntropyLoss(), grad_sample_mode="ghost", **common)
            from opacus.utils.fast_gradient_clipping_utils import DPLossFastGradientClipping
            if not isinstance(self.criterion, DPLossFastGradientClipping):
                raise SystemExit("opacus_ghost: criterion is %s, not the ghost-clipping loss"
                                 % type(self.criterion).__name__)
        else:
            self.model, self.optimizer, _ = engine.make_private(grad_sample_mode="hooks", **common)
        print("%s: model %s, optimizer %s, criterion %s" % (
            name, type(self.model).__name__, type(self.optimizer).__name__,
            type(self.criterion).__name__), file=sys.stderr)
        self.checked = False

    def restore(self):
        with torch.no_grad():
            for p, p0 in zip(self.params, self.initial):
                p.copy_(p0)

    def step(self, x, y):
        n, m = self.batch, self.physical
        if self.name == "nonprivate":
            for s in range(0, n, m):
                out = self.model(x[s:s + m])
                loss = self.criterion(out, y[s:s + m])
                if m < n:
                    loss = loss * (out.shape[0] / n)
                loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
            return
        # Opacus: per chunk, clip and accumulate; noise and update on the last chunk.
        for s in range(0, n, m):
            self.optimizer.signal_skip_step(do_skip=s + m < n)
            out = self.model(x[s:s + m])
            loss = self.criterion(out, y[s:s + m])
            if not self.checked:
                print("%s: loss is %s" % (self.name, type(loss).__name__), file=sys.stderr)
                if self.ghost and type(loss).__name__ != "DPTensorFastGradientClipping":
                    raise SystemExit("opacus_ghost: loss is not DPTensorFastGradientClipping")
                self.checked = True
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()

    def timed_step(self, x, y):
        self.restore()  # outside the timed region
        t0 = time.perf_counter()
        self.step(x, y)
        return time.perf_counter() - t0


def write_json_atomic(path, obj):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".bench_opacus.", suffix=".json.tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main():
    a = parse_args()
    warnings.filterwarnings("ignore", module=r"opacus(\.|$)")  # secure-RNG etc. notices
    # Opacus's hooks on the first layer fire although the input needs no gradient.
    warnings.filterwarnings("ignore", message="Full backward hook is firing")
    import opacus

    torch.set_num_threads(a.threads)
    x_all, y_all = load_fashion_mnist_train(a.data_dir)
    if a.batch > x_all.shape[0]:
        raise SystemExit("--batch %d is larger than the training set (%d)" % (a.batch, x_all.shape[0]))
    g = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(4):
        idx = torch.randperm(x_all.shape[0], generator=g)[: a.batch]
        batches.append((x_all.index_select(0, idx).contiguous(), y_all.index_select(0, idx)))

    torch.manual_seed(0)
    base = tanh_cnn()
    initial = [p.detach().clone() for p in base.parameters()]
    dataset = torch.utils.data.TensorDataset(*batches[0])
    runs = [Variant(v, base, initial, a.batch, a.physical_batch, dataset) for v in a.variants]

    for r in runs:
        for i in range(a.warmup):
            r.timed_step(*batches[i % len(batches)])
    ratios = {r.name: [] for r in runs}
    for i in range(a.steps):
        x, y = batches[i % len(batches)]
        for r in runs:
            r.times.append(r.timed_step(x, y))
        for r in runs:
            ratios[r.name].append(r.times[-1] / runs[0].times[-1])

    result = {
        "machine": cpu_model_name(),
        "threads": a.threads,
        "batch": a.batch,
        "physical_batch": a.physical_batch,
        "torch": torch.__version__,
        "opacus": opacus.__version__,
        "variants": {r.name: {"median_step_s": statistics.median(r.times),
                              "ratio_to_nonprivate": statistics.median(ratios[r.name])}
                     for r in runs},
    }
    if a.json:
        write_json_atomic(a.json, result)
    print("%s, %d threads, batch %d (physical %d), torch %s, opacus %s, %d rounds" % (
        result["machine"], a.threads, a.batch, a.physical_batch, torch.__version__,
        opacus.__version__, a.steps))
    print("%-14s %10s %10s" % ("variant", "median_ms", "ratio"))
    for name, e in result["variants"].items():
        print("%-14s %10.1f %10.2f" % (name, e["median_step_s"] * 1e3, e["ratio_to_nonprivate"]))


if __name__ == "__main__":
    main()
