#!/usr/bin/env bash
# Installs everything dpsgd needs on a fresh Debian 12 machine, skipping what is
# already there: the apt packages (toolchain, yaml-cpp, CLI11, spdlog,
# nlohmann-json, OpenCV, Catch2, zlib, the Fashion-MNIST data set, the Gloo headers
# for multi-process CPU runs) and LibTorch 2.x
# from the PyPI torch wheel. Prints nothing but progress; safe to re-run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VERSION="${DPSGD_TORCH_VERSION:-2.11.0}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(build-essential cmake ninja-build git ccache pkg-config clang-format python3 python3-venv
  python3-pip python3-matplotlib libyaml-cpp-dev libcli11-dev libspdlog-dev nlohmann-json3-dev libopencv-dev
  catch2 zlib1g-dev dataset-fashion-mnist libgloo-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[install-deps] apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "[install-deps] apt packages: all present"
fi

# LibTorch: the python3 on PATH if it already has torch 2.x, else a project venv.
has_torch2() {
  "$1" -c 'import sys, torch; sys.exit(0 if int(torch.__version__.split(".")[0]) >= 2 else 1)' \
    >/dev/null 2>&1
}
if has_torch2 python3; then
  PY="$(command -v python3)"
  echo "[install-deps] torch found for $PY"
else
  PY="$ROOT/.venv/bin/python"
  if ! has_torch2 "$PY"; then
    echo "[install-deps] installing torch==$TORCH_VERSION into $ROOT/.venv (PyPI wheel)"
    [ -x "$PY" ] || python3 -m venv "$ROOT/.venv"
    "$PY" -m pip install -q --upgrade pip >/dev/null
    "$PY" -m pip install -q "torch==$TORCH_VERSION"
  fi
fi
echo "$PY" > "$ROOT/.dpsgd-python"
echo "[install-deps] LibTorch CMake prefix: $("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)"
