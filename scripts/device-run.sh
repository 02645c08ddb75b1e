#!/usr/bin/env bash
# One call on the lent GPU machine: unpack the carried -dev packages into
# /tmp/dp (never into /), build against the CUDA LibTorch of its python3 without
# OpenCV, run the tests, then benchmark and train; logs and JSON go to $OUT and a
# short table is printed last. Usage (device tool, carry [".debs"]):
#   bash scripts/device-run.sh [quick|main]
# NOT YET VERIFIED on a GPU machine (no machine was lent to the session that wrote it).
set -uo pipefail
MODE="${1:-quick}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT" /tmp/dp
for f in "$ROOT"/.debs/*.deb; do dpkg -x "$f" /tmp/dp; done
TORCH_PREFIX="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
cmake -S "$ROOT" -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDPSGD_WITH_OPENCV=OFF \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;/tmp/dp/usr" > "$OUT/configure.log" 2>&1 || {
  tail -30 "$OUT/configure.log"; exit 1; }
cmake --build /tmp/build -j 16 > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
FMNIST="$ROOT/.debs/fashion-mnist"
(cd /tmp/build && ctest -j 8 --output-on-failure > "$OUT/ctest.log" 2>&1); echo "ctest rc=$?"
tail -3 "$OUT/ctest.log"
cd "$ROOT"
/tmp/build/apps/dpsgd-run bench configs/fmnist_tanh_cnn.yaml --device cuda --steps 50 --json \
  --set data.root="$FMNIST" --engines materialize,ghost > "$OUT/bench_fmnist.json" 2> "$OUT/bench.log"
/tmp/build/apps/dpsgd-run bench configs/fmnist_tanh_cnn.yaml --device cuda --steps 50 \
  --set data.root="$FMNIST" --engines materialize,ghost 2>> "$OUT/bench.log" | tee "$OUT/bench_fmnist.txt"
if [ "$MODE" = "main" ]; then
  /tmp/build/apps/dpsgd-run configs/fmnist_tanh_cnn.yaml --device cuda --out "$OUT/main" \
    --set data.root="$FMNIST" > "$OUT/main.log" 2>&1
  /tmp/build/apps/dpsgd-run configs/fmnist_nonprivate.yaml --device cuda --out "$OUT/nonprivate" \
    --set data.root="$FMNIST" > "$OUT/nonprivate.log" 2>&1
  python3 - "$OUT" <<'PY'
import json, sys
for name in ("main", "nonprivate"):
    idx = json.load(open(f"{sys.argv[1]}/{name}/index.json"))
    for r in idx["runs"]:
        print(name, r["run_id"], r["status"], r.get("final_test", {}).get("accuracy"),
              r.get("epsilon"), r.get("total_time_s"))
PY
fi
cat "$OUT/bench_fmnist.txt"
