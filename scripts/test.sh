#!/usr/bin/env bash
# The whole test suite: unit and integration tests on the simulated machine, and the real
# kexec cycles inside QEMU (ctest labels: unit, sim, qemu). Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
