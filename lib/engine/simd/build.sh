#!/usr/bin/env bash
# Builds kernels.wasm from kernels.c (needs clang 14 + lld: apt-get install clang-14 lld-14).
# The module imports the tfjs wasm backend's shared memory, so it must not place data or a stack in it:
# the build fails if the output has a data segment or touches __stack_pointer.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/kernels.wasm}"  # another path: build elsewhere (the test compares that build with the committed one)
clang="${CLANG:-clang-14}"
"$clang" --target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -nostdlib -ffreestanding -fno-builtin \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -Wl,--initial-memory=65536 -Wl,--strip-all -Wl,-z,stack-size=0 \
  -o "$out" "$here/kernels.c"
objdump="${OBJDUMP:-llvm-objdump-14}"
if "$objdump" -d "$out" | grep -q "global.get\|global.set"; then
  echo "build.sh: kernels.wasm uses a global (a shadow stack?): it would write into the tfjs heap" >&2
  exit 1
fi
if "$objdump" -h "$out" | grep -q " DATA "; then
  echo "build.sh: kernels.wasm has a data segment: it would overwrite the tfjs heap" >&2
  exit 1
fi
echo "built $out ($(wc -c < "$out") bytes)"
