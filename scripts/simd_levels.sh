#!/usr/bin/env bash
# The kernels at every SIMD level, on this machine (part of scripts/test.sh).
#
# din_kernels picks AVX-512, AVX2+FMA or the baseline at run time (src/simd.rs); a machine with
# AVX-512 would otherwise never run the code a laptop (AVX2) or another architecture (baseline)
# runs. Two ways, both here:
#   1. DIN_SIMD=avx2|base caps din_kernels' own code paths in-process (fast, native): the kernel
#      unit tests and din's fused-vs-reference tests (tests/model_correctness.rs) at each level.
#   2. qemu-x86_64 -cpu Haswell (AVX2+FMA, no AVX-512) and -cpu qemu64 (x86-64 baseline) emulate
#      the CPU itself, so gemm's matrix products (which ignore DIN_SIMD) take their AVX2 and
#      baseline paths too. Needs Debian's qemu-user (installed here when run as root with apt);
#      skipped with a message otherwise.
# Uses the test executables `cargo test --release --workspace` built (no rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t BINS < <(cargo test --release --workspace --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        t = m["target"]
        if (t["name"] == "din_kernels" and "lib" in t["kind"]) or t["name"] == "model_correctness":
            print(m["executable"])
')
if [ "${#BINS[@]}" -ne 2 ]; then
  echo "expected the din_kernels unit tests and din's model_correctness test, found: ${BINS[*]:-none}" >&2
  exit 1
fi
run() { # label, command...
  local label=$1; shift
  local out
  if ! out=$("$@" 2>&1); then
    echo "$out" | tail -30
    echo "FAILED at $label: $*" >&2
    exit 1
  fi
  echo "  $label: $(echo "$out" | grep -c '^test result: ok') binaries ok, $(echo "$out" | grep -o 'kernels at [a-z0-9]*' | head -1)"
}
echo "  CPU: $(grep -o -m1 'avx512f' /proc/cpuinfo || echo 'no avx512f'); each level's kernel tests and fused-vs-reference tests"
for level in avx512 avx2 base; do
  run "DIN_SIMD=$level" env DIN_SIMD=$level sh -c 'for b; do "$b" --test-threads 2 --nocapture || exit 1; done' _ "${BINS[@]}"
done
QEMU=$(command -v qemu-x86_64 || true)
if [ -z "$QEMU" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "  installing Debian's qemu-user (CPU emulation for the AVX2 and baseline paths of gemm)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null 2>&1; } || true
  QEMU=$(command -v qemu-x86_64 || true)
fi
if [ -z "$QEMU" ] || [ "$(uname -m)" != x86_64 ]; then
  echo "  SKIPPED: emulated CPUs (needs qemu-x86_64 on x86-64: apt-get install qemu-user)"
  exit 0
fi
for cpu in Haswell qemu64; do
  run "qemu -cpu $cpu" sh -c 'cpu=$1; shift; for b; do qemu-x86_64 -cpu "$cpu" "$b" --test-threads 2 --nocapture || exit 1; done' _ "$cpu" "${BINS[@]}"
done
