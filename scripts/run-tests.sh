#!/usr/bin/env bash
# README command 2: install everything, build, and run the whole test suite
# (unit tests, the accountant's published values, and the end-to-end smoke run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh"
cd "$ROOT/build"
ctest --output-on-failure -j "$(nproc)"
