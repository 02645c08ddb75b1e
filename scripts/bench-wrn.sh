#!/usr/bin/env bash
# dpsgd's engines and Opacus on this machine's CPU for WRN-16-4 on CIFAR-shaped
# inputs (3x32x32, 10 classes), every step from the same weights.
#   scripts/bench-wrn.sh CONFIG [STEPS] [PHYSICAL_BATCH]     (defaults 3, = BATCH)
# CONFIG: a dpsgd config whose model is the wide_resnet (depth 16, width 4).
# Environment: BATCH (default 256), WARMUP (default 1), NO_WS=1 for plain
# convolutions on both sides (dpsgd: --set model.weight_standardisation=false),
# CIFAR_DIR: CIFAR-10 binary files for Opacus (default: random normal inputs),
# ENGINES: dpsgd engines to time (default materialize,ghost).
# Writes results/bench/{dpsgd,opacus}_wrn16_4[_nows]_pb<PHYSICAL>.json and prints one table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONFIG="${1:?usage: scripts/bench-wrn.sh CONFIG [STEPS] [PHYSICAL_BATCH]}"
STEPS="${2:-3}"
BATCH="${BATCH:-256}"
PHYSICAL="${3:-$BATCH}"
WARMUP="${WARMUP:-1}"
PY="$(cat .dpsgd-python 2>/dev/null || echo .venv/bin/python)"
TAG="wrn16_4"
OURS_WS=()
THEIRS_WS=()
if [[ "${NO_WS:-0}" == 1 ]]; then
  TAG="wrn16_4_nows"
  OURS_WS=(--set model.weight_standardisation=false)
  THEIRS_WS=(--no-ws)
fi
DATA=()
if [[ -n "${CIFAR_DIR:-}" ]]; then DATA=(--data-dir "$CIFAR_DIR"); fi
mkdir -p results/bench
OURS="results/bench/dpsgd_${TAG}_pb${PHYSICAL}.json"
THEIRS="results/bench/opacus_${TAG}_pb${PHYSICAL}.json"
./build/apps/dpsgd-run bench "$CONFIG" --device cpu --steps "$STEPS" --warmup "$WARMUP" --json \
  --engines "${ENGINES:-materialize,ghost}" \
  --set train.batch_size="$BATCH" --set train.physical_batch_size="$PHYSICAL" "${OURS_WS[@]}" \
  > "$OURS.tmp"
mv "$OURS.tmp" "$OURS"
# Opacus gets the thread count LibTorch chose for dpsgd (physical cores), not os.cpu_count().
THREADS="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["threads"])' "$OURS")"
bash scripts/bench-opacus.sh --model wrn16_4 "${THEIRS_WS[@]}" "${DATA[@]}" --batch "$BATCH" \
  --physical-batch "$PHYSICAL" --warmup "$WARMUP" --steps "$STEPS" --threads "$THREADS" \
  --json "$THEIRS" > /dev/null
"$PY" scripts/bench_compare.py "$OURS" "$THEIRS"
