#!/usr/bin/env bash
# Configures and builds dpsgd (Release, Ninja) into build/ against the LibTorch
# found by install-deps.sh. Extra arguments go to cmake's configure step.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$(cat "$ROOT/.dpsgd-python" 2>/dev/null || command -v python3)"
TORCH_PREFIX="$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
BUILD="${DPSGD_BUILD_DIR:-$ROOT/build}"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX${DPSGD_EXTRA_PREFIX:+;$DPSGD_EXTRA_PREFIX}" "$@" >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
