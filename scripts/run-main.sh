#!/usr/bin/env bash
# README command 1: install everything, build, and train the default main job
# (configs/fmnist_tanh_cnn.yaml: DP-SGD on Fashion-MNIST, epsilon about 3)
# into results/fmnist_tanh_cnn/. Extra arguments go to dpsgd-run (e.g. --device cpu).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh"
cd "$ROOT"
./build/apps/dpsgd-run configs/fmnist_tanh_cnn.yaml "$@"
