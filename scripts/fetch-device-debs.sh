#!/usr/bin/env bash
# Downloads the C++ -dev packages the GPU machine lacks (it has python3 with the
# CUDA torch wheel, nvcc, cmake and ninja, but no network and no -dev packages)
# into .debs/ (git-ignored, about 1.7 MB), to be carried to it; see device-run.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$ROOT/.debs"
cd "$ROOT/.debs"
apt-get download libyaml-cpp-dev libyaml-cpp0.7 libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 \
  libcli11-dev nlohmann-json3-dev catch2 libgloo-dev
# The Fashion-MNIST IDX files travel too (30 MB gz), read without OpenCV.
if [ -d /usr/share/datasets/fashion-mnist ]; then
  mkdir -p "$ROOT/.debs/fashion-mnist"
  cp /usr/share/datasets/fashion-mnist/*.gz "$ROOT/.debs/fashion-mnist/"
fi
ls -la "$ROOT/.debs"
