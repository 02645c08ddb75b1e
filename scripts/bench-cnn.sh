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
./build/apps/dpsgd-run bench configs/fmnist_flat.yaml --steps "$STEPS" --json \
  --set train.physical_batch_size="$PHYSICAL" > "$OURS.tmp"
mv "$OURS.tmp" "$OURS"
bash scripts/bench-opacus.sh --batch 2048 --physical-batch "$PHYSICAL" --steps "$STEPS" \
  --json "$THEIRS" > /dev/null
"$PY" scripts/bench_compare.py "$OURS" "$THEIRS"
