#!/usr/bin/env python3
"""Times Opacus on this machine's CPU for a workload our C++ bench times
(dpsgd-run bench / lib/dpsgd/experiment/bench.cpp), so that our step time can be
reported as a ratio to Opacus measured on the same machine.

Workloads (--model):
  tanh_cnn  (default) the TF Privacy MNIST CNN with tanh, PyTorch default init
            under seed 0, on real Fashion-MNIST training images scaled to [0, 1];
            --batch defaults to 2048.
  wrn16_4   WRN-16-4 as our C++ wide_resnet model builds it: weight-standardised
            3x3/1x1 convolutions with bias (--no-ws: plain nn.Conv2d), GroupNorm(16)
            pre-activation blocks, 2 blocks per stage of widths 64, 128, 256 and
            strides 1, 2, 2, head relu(GN) -> spatial mean -> Linear(256, 10);
            about 2.75M parameters. Inputs 3x32x32, 10 classes: random normal
            images and uniform labels under seed 0, or with --data-dir the CIFAR-10
            binary training files (data_batch_*.bin) normalised per channel;
            --batch defaults to 256.
4 fixed batches of --batch examples drawn with torch.randperm under seed 0, steps
cycle over them; cross entropy (mean); SGD lr 4.0 momentum 0.9. Variants, each
with its own model and optimizer built from the same initial weights:
  nonprivate    forward, loss, backward, optimizer.step(), optimizer.zero_grad()
  opacus_hooks  PrivacyEngine.make_private(grad_sample_mode="hooks"): per-sample
                gradients by module hooks, flat clipping at 0.1, noise 1.0
  opacus_ghost  grad_sample_mode="ghost": fast gradient (ghost) clipping; the
                wrapped criterion's loss.backward() runs both backward passes
Opacus computes per-sample gradients (or, in ghost mode, norms) of a module type
with no registered sampler (our WSConv2d) by its functorch fallback; the output
and JSON list which method each trainable module type got. A variant that Opacus
refuses (at make_private or in a step) is reported as unsupported, with the error.
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
import glob
import gzip
import json
import math
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

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
MODELS = ("tanh_cnn", "wrn16_4")
DEFAULT_BATCH = {"tanh_cnn": 2048, "wrn16_4": 256}
VARIANTS = ("nonprivate", "opacus_hooks", "opacus_ghost")
NUM_BATCHES = 4
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
CIFAR_RECORD = 1 + 3 * 32 * 32  # label byte, then the R, G and B planes


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=MODELS, default="tanh_cnn",
                   help="workload (default %(default)s)")
    p.add_argument("--no-ws", action="store_true",
                   help="wrn16_4: plain nn.Conv2d instead of weight-standardised convolutions")
    p.add_argument("--batch", type=int, default=None,
                   help="logical batch size (default 2048 for tanh_cnn, 256 for wrn16_4)")
    p.add_argument("--physical-batch", type=int, default=None,
                   help="chunk size within a batch (default: = --batch)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="torch.set_num_threads (default: os.cpu_count())")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per variant (default 3)")
    p.add_argument("--steps", type=int, default=20, help="timed interleaved rounds (default 20)")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help="comma-separated subset of %s (nonprivate is always run)" % ",".join(VARIANTS))
    p.add_argument("--data-dir", default=None,
                   help="tanh_cnn: Fashion-MNIST IDX .gz files (default %s); wrn16_4: CIFAR-10 "
                        "binary files data_batch_*.bin (default: random normal inputs)" % FMNIST_DIR)
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    a = p.parse_args()
    check_args(p, a)
    return a


def check_args(p, a):
    """Fills the per-model defaults into a and rejects inconsistent arguments."""
    if a.no_ws and a.model != "wrn16_4":
        p.error("--no-ws applies to --model wrn16_4 only")
    if a.batch is None:
        a.batch = DEFAULT_BATCH[a.model]
    if a.data_dir is None and a.model == "tanh_cnn":
        a.data_dir = FMNIST_DIR
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


def load_cifar10_train(data_dir):
    """The CIFAR-10 binary training files in data_dir (data_batch_*.bin), scaled to
    [0, 1] and normalised per channel: images (N, 3, 32, 32) and labels (N,)."""
    paths = sorted(glob.glob(os.path.join(data_dir, "data_batch_*.bin")))
    if not paths:
        raise SystemExit("%s: no CIFAR-10 data_batch_*.bin files" % data_dir)
    raw = bytearray()
    for path in paths:
        with open(path, "rb") as f:
            raw += f.read()
    if not raw or len(raw) % CIFAR_RECORD:
        raise SystemExit("%s: not a whole number of %d-byte records" % (data_dir, CIFAR_RECORD))
    records = torch.frombuffer(raw, dtype=torch.uint8).reshape(-1, CIFAR_RECORD)
    y = records[:, 0].to(torch.int64)
    if int(y.max()) > 9:
        raise SystemExit("%s: label %d out of range 0..9" % (data_dir, int(y.max())))
    x = records[:, 1:].reshape(-1, 3, 32, 32).to(torch.float32) / 255.0
    mean = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(), y


def sample_batches(x_all, y_all, batch):
    """NUM_BATCHES batches of distinct examples, each drawn by torch.randperm under seed 0."""
    if batch > x_all.shape[0]:
        raise SystemExit("--batch %d is larger than the training set (%d)" % (batch, x_all.shape[0]))
    g = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(NUM_BATCHES):
        idx = torch.randperm(x_all.shape[0], generator=g)[:batch]
        batches.append((x_all.index_select(0, idx).contiguous(), y_all.index_select(0, idx)))
    return batches


def random_batches(batch, shape, classes):
    """NUM_BATCHES batches of standard normal inputs and uniform labels, drawn from
    a generator of their own under seed 0 (not the one the model's init draws from)."""
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(batch, *shape, generator=g), torch.randint(classes, (batch,), generator=g))
            for _ in range(NUM_BATCHES)]


def load_batches(a):
    """The workload's fixed batches, and the name of their data."""
    if a.model == "tanh_cnn":
        return sample_batches(*load_fashion_mnist_train(a.data_dir), a.batch), "fashion-mnist"
    if a.data_dir is None:
        return random_batches(a.batch, (3, 32, 32), 10), "random_normal"
    return sample_batches(*load_cifar10_train(a.data_dir), a.batch), "cifar10"


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


class WSConv2d(nn.Module):
    """Weight-standardised convolution (Qiao et al. 2019), as our C++ WsConv2d: each
    output channel's raw weights over (in, k, k) are standardised to mean 0 and
    variance 1 (biased variance, eps 1e-5) in every forward, then F.conv2d with
    bias and padding k // 2. Initialised as the C++ layer: He normal weights
    (std sqrt(2 / fan_in)), zero bias."""

    def __init__(self, cin, cout, k, stride, eps=1e-5):
        super().__init__()
        self.stride, self.padding, self.eps = stride, k // 2, eps
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k) * math.sqrt(2.0 / (cin * k * k)))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        rows = self.weight.flatten(1)
        mean = rows.mean(1, keepdim=True)
        var = rows.var(1, unbiased=False, keepdim=True)
        w_hat = ((rows - mean) / torch.sqrt(var + self.eps)).reshape(self.weight.shape)
        return F.conv2d(x, w_hat, self.bias, self.stride, self.padding)


def conv(cin, cout, k, stride, ws):
    """A k x k convolution with bias and padding k // 2: WSConv2d, or nn.Conv2d if not ws."""
    if ws:
        return WSConv2d(cin, cout, k, stride)
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


def group_norm(channels):
    return nn.GroupNorm(16, channels, eps=1e-5)


class WideBlock(nn.Module):
    """Pre-activation residual block: h = relu(GN_a(x)); returns
    conv_b(relu(GN_b(conv_a(h)))) plus x, or plus a 1x1 convolution of h where the
    width or the stride changes."""

    def __init__(self, cin, cout, stride, ws):
        super().__init__()
        self.norm_a = group_norm(cin)
        self.conv_a = conv(cin, cout, 3, stride, ws)
        self.norm_b = group_norm(cout)
        self.conv_b = conv(cout, cout, 3, 1, ws)
        self.shortcut = conv(cin, cout, 1, stride, ws) if cin != cout or stride != 1 else None

    def forward(self, x):
        h = F.relu(self.norm_a(x))
        skip = x if self.shortcut is None else self.shortcut(h)
        y = self.conv_b(F.relu(self.norm_b(self.conv_a(h))))
        return y + skip


class WideHead(nn.Module):
    """relu(GN(x)), the mean over H and W, then a linear classifier."""

    def __init__(self, channels, classes):
        super().__init__()
        self.norm = group_norm(channels)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(F.relu(self.norm(x)).mean(dim=(2, 3)))


def wide_resnet(ws, depth=16, width=4, classes=10):
    """WRN-depth-width as our C++ wide_resnet: a 3x3 stem to 16 channels, then
    stages of (depth - 4) / 6 blocks with widths 16, 32, 64 times width and strides
    1, 2, 2 (the first block of a stage changes width and stride), then the head."""
    layers, cin = [conv(3, 16, 3, 1, ws)], 16
    for cout, stride in zip((16 * width, 32 * width, 64 * width), (1, 2, 2)):
        for i in range((depth - 4) // 6):
            layers.append(WideBlock(cin, cout, stride if i == 0 else 1, ws))
            cin = cout
    layers.append(WideHead(cin, classes))
    return nn.Sequential(*layers)


def build_model(a):
    """The workload's model, initialised under torch.manual_seed(0)."""
    torch.manual_seed(0)
    if a.model == "tanh_cnn":
        return tanh_cnn()
    return wide_resnet(ws=not a.no_ws)


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


def per_sample_methods(gsm):
    """How the Opacus wrapper gsm gets each trainable module type's per-sample
    gradient norms: "norm_sampler" (ghost clipping's direct norms), "grad_sampler"
    (a registered per-sample gradient sampler) or "functorch" (Opacus's fallback
    for types with neither, e.g. our WSConv2d)."""
    ghost = getattr(gsm, "use_ghost_clipping", False)
    norm = getattr(gsm, "NORM_SAMPLERS", {}) if ghost else {}
    grad = {} if getattr(gsm, "force_functorch", False) else gsm.GRAD_SAMPLERS
    methods = {}
    for m in gsm.modules():
        if any(p.requires_grad for p in m.parameters(recurse=False)):
            t = type(m)
            methods[t.__name__] = ("norm_sampler" if t in norm else
                                   "grad_sampler" if t in grad else "functorch")
    return methods


def error_text(e, limit=300):
    """One line naming an exception: its type and the start of its message."""
    text = " ".join(str(e).split())
    if len(text) > limit:
        text = text[:limit] + "..."
    return "%s: %s" % (type(e).__name__, text)


class Variant:
    """One variant's model, optimizer and step; params are restored before each step."""

    def __init__(self, name, base_model, initial, batch, physical, dataset):
        self.name, self.batch, self.physical = name, batch, physical
        self.times, self.ratios, self.methods = [], [], None
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
        self.make_private(module, optimizer, dataset)
        self.methods = per_sample_methods(self.model)
        print("%s: model %s, optimizer %s, criterion %s, per-sample %s" % (
            name, type(self.model).__name__, type(self.optimizer).__name__,
            type(self.criterion).__name__, self.methods), file=sys.stderr)
        self.checked = False

    def make_private(self, module, optimizer, dataset):
        """Wraps module, optimizer (and, for ghost, the criterion) by Opacus."""
        from opacus import PrivacyEngine
        # One batch of `batch` examples per "epoch", so Opacus's expected batch size
        # (the divisor of the summed clipped gradients) equals --batch.
        loader = torch.utils.data.DataLoader(dataset, batch_size=self.batch)
        engine = PrivacyEngine()
        common = dict(module=module, optimizer=optimizer, data_loader=loader,
                      noise_multiplier=1.0, max_grad_norm=0.1, poisson_sampling=False)
        if not self.ghost:
            self.model, self.optimizer, _ = engine.make_private(grad_sample_mode="hooks", **common)
            return
        self.model, self.optimizer, self.criterion, _ = engine.make_private(
            criterion=nn.CrossEntropyLoss(), grad_sample_mode="ghost", **common)
        from opacus.utils.fast_gradient_clipping_utils import DPLossFastGradientClipping
        if not isinstance(self.criterion, DPLossFastGradientClipping):
            raise SystemExit("opacus_ghost: criterion is %s, not the ghost-clipping loss"
                             % type(self.criterion).__name__)

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


def build_variants(a, base, initial, dataset, unsupported):
    """A Variant per requested name; one Opacus refuses goes into unsupported."""
    runs = []
    for name in a.variants:
        try:
            runs.append(Variant(name, base, initial, a.batch, a.physical_batch, dataset))
        except Exception as e:  # noqa: BLE001 (Opacus's refusal, reported in the results)
            if name == "nonprivate":
                raise
            unsupported[name] = "make_private: " + error_text(e)
    return runs


def checked_step(r, x, y, unsupported):
    """r's step time, or None (r entered in unsupported) if Opacus fails in the step."""
    try:
        return r.timed_step(x, y)
    except Exception as e:  # noqa: BLE001 (Opacus's refusal, reported in the results)
        if r.name == "nonprivate":
            raise
        unsupported[r.name] = "step: " + error_text(e)
        return None


def run_rounds(runs, batches, a, unsupported):
    """Warm-up steps per variant, then interleaved timed rounds; fills each run's
    times and per-round ratios to the non-private step of the same round."""
    for r in runs:
        for i in range(a.warmup):
            if checked_step(r, *batches[i % len(batches)], unsupported) is None:
                break
    live = [r for r in runs if r.name not in unsupported]
    for i in range(a.steps):
        x, y = batches[i % len(batches)]
        times = {r.name: checked_step(r, x, y, unsupported) for r in live}
        live = [r for r in live if times[r.name] is not None]
        for r in live:
            r.times.append(times[r.name])
            r.ratios.append(times[r.name] / times["nonprivate"])
    return live


def variant_results(names, live, unsupported):
    """The JSON entry of every requested variant, in the order requested."""
    out = {}
    by_name = {r.name: r for r in live}
    for name in names:
        if name in unsupported:
            out[name] = {"supported": False, "reason": unsupported[name]}
            continue
        r = by_name[name]
        out[name] = {"supported": True, "median_step_s": statistics.median(r.times),
                     "ratio_to_nonprivate": statistics.median(r.ratios)}
        if r.methods is not None:
            out[name]["per_sample"] = r.methods
    return out


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


def model_description(result):
    """One line naming the workload: model, convolutions, parameters, data."""
    convs = {True: ", weight-standardised convs", False: ", plain convs", None: ""}
    return "model %s%s, %d parameters, data %s, input %s" % (
        result["model"], convs[result["weight_standardisation"]], result["parameters"],
        result["data"], "x".join(str(d) for d in result["input_shape"]))


def print_table(result):
    print("%s, %d threads, batch %d (physical %d), torch %s, opacus %s, %d rounds" % (
        result["machine"], result["threads"], result["batch"], result["physical_batch"],
        result["torch"], result["opacus"], result["steps"]))
    print(model_description(result))
    print("%-14s %10s %10s" % ("variant", "median_ms", "ratio"))
    for name, e in result["variants"].items():
        if not e["supported"]:
            print("%-14s unsupported: %s" % (name, e["reason"]))
            continue
        print("%-14s %10.1f %10.2f" % (name, e["median_step_s"] * 1e3, e["ratio_to_nonprivate"]))
    for name, e in result["variants"].items():
        if "per_sample" in e:
            print("%s per-sample norms: %s" % (name, ", ".join(
                "%s %s" % kv for kv in e["per_sample"].items())))


def main():
    a = parse_args()
    warnings.filterwarnings("ignore", module=r"opacus(\.|$)")  # secure-RNG etc. notices
    # Opacus's hooks on the first layer fire although the input needs no gradient.
    warnings.filterwarnings("ignore", message="Full backward hook is firing")
    import opacus

    torch.set_num_threads(a.threads)
    batches, data_name = load_batches(a)
    base = build_model(a)
    n_params = sum(p.numel() for p in base.parameters())
    print("%s: %d parameters" % (a.model, n_params), file=sys.stderr)
    initial = [p.detach().clone() for p in base.parameters()]
    dataset = torch.utils.data.TensorDataset(*batches[0])
    unsupported = {}
    runs = build_variants(a, base, initial, dataset, unsupported)
    live = run_rounds(runs, batches, a, unsupported)

    result = {
        "machine": cpu_model_name(),
        "threads": a.threads,
        "batch": a.batch,
        "physical_batch": a.physical_batch,
        "steps": a.steps,
        "warmup": a.warmup,
        "model": a.model,
        "weight_standardisation": None if a.model == "tanh_cnn" else not a.no_ws,
        "parameters": n_params,
        "data": data_name,
        "input_shape": list(batches[0][0].shape[1:]),
        "torch": torch.__version__,
        "opacus": opacus.__version__,
        "variants": variant_results(a.variants, live, unsupported),
    }
    if a.json:
        write_json_atomic(a.json, result)
    print_table(result)


if __name__ == "__main__":
    main()
