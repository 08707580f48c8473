#!/usr/bin/env bash
# tools/avx512emu/run.sh [BASE]: check the AVX-512 build's vector loops on a machine
# without AVX-512, under Bochs's CPU emulation (the bochscpu-python wheel).
#
# The C blocks of the kernel sources (working tree, and BASE: a git revision, default
# HEAD) are compiled into one freestanding program that runs the loops with both
# formulas (fastlrn_q5x4g, fastlrn_rowg, fastlrn_linesg, fastlrn_w5p_strip and
# fastlrn_w5g_strip) on fixed inputs (gen.py), built for AVX-512 and run emulated,
# and for AVX2 and run natively. PASS needs
#   1. AVX-512, working tree == AVX-512, BASE: every output and return value's
#      zeroness (a change meant to keep the bits);
#   2. AVX-512 == AVX2 on the loops both builds have (q5x4g, rowg, linesg): this also
#      checks the emulation itself.
# Needs gcc, git and a Python with numpy and bochscpu-python; build outputs go to
# $AVX512EMU_DIR (default /tmp/avx512emu).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
base="${1:-HEAD}"
work="${AVX512EMU_DIR:-/tmp/avx512emu}"
rm -rf "$work"; mkdir -p "$work/base/src/fastlrn/_kernels"
cd "$work"
for f in _common.pxd _across_forward.pxi _within_forward.pxi; do
    git -C "$root" show "$base:src/fastlrn/_kernels/$f" > "base/src/fastlrn/_kernels/$f"
done
python "$here/extract.py" "$root" new.h
python "$here/extract.py" base base.h
python "$here/gen.py"
sed "s/KERN/new.h/" "$here/prep.c" > prep.c
gcc -O2 -mavx2 -mfma -ffp-contract=off -I. prep.c -o prep -lm
./prep > params.h
gcc -shared -fPIC -O2 -o libisoc23.so "$here/isoc23.c"
FLAGS512="-O2 -mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma -ffp-contract=off -ffreestanding
  -fno-pie -no-pie -fno-stack-protector -fno-asynchronous-unwind-tables -mno-red-zone -nostdlib
  -static -Wl,--build-id=none -T $here/link.ld -w -I."
for v in new base; do
    sed "s/KERN/$v.h/" "$here/test.c" > "test_$v.c"
    # shellcheck disable=SC2086
    gcc $FLAGS512 "$here/start.c" "test_$v.c" -o "t512_$v.elf"
    LD_PRELOAD="$work/libisoc23.so" python "$here/emu.py" "t512_$v.elf" "r512_$v" out_all ret_all \
        2> >(grep -v "leaked\|nanobind" >&2)
done
gcc -O2 -mavx2 -mfma -ffp-contract=off -w -DNATIVE -I. test_new.c -o t2_new -lm
mkdir -p r2_new && (cd r2_new && ../t2_new)
python "$here/compare.py" "$work"
