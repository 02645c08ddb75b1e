#!/usr/bin/env bash
# Runs the clipping-method comparison on Fashion-MNIST (configs/fmnist_<method>.yaml)
# into results/clipping_table/<method>/ and prints a markdown table of
# method, sigma, epsilon, test accuracy, wall time and machine.
#   scripts/run-clipping-table.sh                      # the full 40-epoch setting
#   scripts/run-clipping-table.sh --set train.epochs=15  # a shorter budget (epsilon stays 3)
# Extra arguments go to every dpsgd-run call. Set METHODS to run a subset.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DPSGD_BIN:-$ROOT/build/apps/dpsgd-run}"
OUT="${DPSGD_TABLE_DIR:-$ROOT/results/clipping_table}"
METHODS="${METHODS:-flat per_layer automatic adaptive microbatches random_sparsification}"
mkdir -p "$OUT"
for m in $METHODS; do
  echo "== $m"
  "$BIN" "$ROOT/configs/fmnist_$m.yaml" --out "$OUT/$m" "$@" || echo "run $m failed (see $OUT/$m)"
done
python3 "$ROOT/scripts/clipping_table.py" "$OUT" | tee "$OUT/table.md"
