#!/usr/bin/env bash
# Times Opacus (hooks and ghost clipping) against plain PyTorch on this machine's
# CPU for the tanh_cnn / Fashion-MNIST workload, or with --model wrn16_4 [--no-ws]
# for WRN-16-4 on CIFAR-shaped inputs (see scripts/bench_opacus.py).
# Installs opacus into the project's Python if missing. Arguments go to the script
# unchanged, e.g. --threads 2 --batch 2048 --steps 20 --json results/bench_opacus.json
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$(cat .dpsgd-python 2>/dev/null || echo .venv/bin/python)"
# The same host-allocator tuning dpsgd-run applies to itself (util/host_allocator.hpp),
# so both sides of the comparison reuse freed memory alike.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1073741824}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-1073741824}"
if ! "$PY" -c 'import opacus' >/dev/null 2>&1; then
  "$PY" -m pip install --quiet opacus
fi
exec "$PY" scripts/bench_opacus.py "$@"
