#!/usr/bin/env bash
# The speed comparison of the README: dpsgd's engines and Opacus on this machine's
# CPU, tanh CNN on Fashion-MNIST at batch 2048, every step from the same weights.
#   scripts/bench-cnn.sh [STEPS] [PHYSICAL_BATCH]      (defaults 30, 2048)
# Writes results/bench/{dpsgd,opacus}_cnn_pb<PHYSICAL>.json and prints one table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STEPS="${1:-30}"
PHYSICAL="${2:-2048}"
PY="$(cat .dpsgd-python 2>/dev/null || echo .venv/bin/python)"
mkdir -p results/bench
OURS="results/bench/dpsgd_cnn_pb${PHYSICAL}.json"
THEIRS="results/bench/opacus_cnn_pb${PHYSICAL}.json"
./build/apps/dpsgd-run bench configs/fmnist_flat.yaml --device cpu --steps "$STEPS" --json \
  --set train.physical_batch_size="$PHYSICAL" > "$OURS.tmp"
mv "$OURS.tmp" "$OURS"
# Opacus gets the thread count LibTorch chose for dpsgd (physical cores), not os.cpu_count().
THREADS="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["threads"])' "$OURS")"
bash scripts/bench-opacus.sh --batch 2048 --physical-batch "$PHYSICAL" --steps "$STEPS" \
  --threads "$THREADS" --json "$THEIRS" > /dev/null
"$PY" scripts/bench_compare.py "$OURS" "$THEIRS"
