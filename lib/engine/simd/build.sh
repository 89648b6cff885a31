#!/usr/bin/env bash
# Builds kernels.wasm from kernels.c, lib/util/gemm.wasm from lib/util/gemm.c and lib/images/sampling.wasm from
# lib/images/sampling.c (needs clang 14 + lld: apt-get install clang-14 lld-14). Each lands next to its source, or all
# in out-dir:
#   bash build.sh [out-dir]   (another folder: build elsewhere; the test compares that build with the committed ones)
# kernels.wasm imports the tfjs wasm backend's shared memory; gemm.wasm and sampling.wasm have their own, laid out by
# their callers: none may place data or a stack in memory, so the build fails if an output has a data segment or touches __stack_pointer.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
util="$(cd "$here/../../util" && pwd)"
images="$(cd "$here/../../images" && pwd)"
kernels_out="${1:-$here}/kernels.wasm"
sampling_out="${1:-$images}/sampling.wasm"
gemm_out="${1:-$util}/gemm.wasm"
clang="${CLANG:-clang-14}"
flags=(--target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding -fno-builtin -Wall -Wextra -Werror
  -Wl,--no-entry -Wl,--strip-all -Wl,-z,stack-size=0)
"$clang" "${flags[@]}" -matomics -mbulk-memory \
  -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 -Wl,--initial-memory=65536 \
  -o "$kernels_out" "$here/kernels.c"
"$clang" "${flags[@]}" -Wl,--export=gemm -Wl,--initial-memory=65536 -Wl,--max-memory=4294967296 \
  -o "$gemm_out" "$util/gemm.c"
"$clang" "${flags[@]}" -Wl,--initial-memory=65536 -Wl,--max-memory=4294967296 \
  -o "$sampling_out" "$images/sampling.c"
objdump="${OBJDUMP:-llvm-objdump-14}"
for wasm in "$kernels_out" "$gemm_out" "$sampling_out"; do
  if "$objdump" -d "$wasm" | grep -q "global.get\|global.set"; then
    echo "build.sh: $wasm uses a global (a shadow stack?): it would write into memory its callers lay out" >&2
    exit 1
  fi
  if "$objdump" -h "$wasm" | grep -q " DATA "; then
    echo "build.sh: $wasm has a data segment: it would overwrite memory its callers lay out" >&2
    exit 1
  fi
  echo "built $wasm ($(wc -c < "$wasm") bytes)"
done
