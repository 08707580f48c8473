"""compare.py DIR: the checks of run.sh on its outputs; exits 1 on a difference."""
import sys
import numpy as np
d = sys.argv[1]
R, N = 12, 256
load = lambda p, t: np.fromfile(f"{d}/{p}", dtype=t).reshape(6, -1)
new, base, avx2 = (load(f"{r}/out_all.bin", np.uint32) for r in ("r512_new", "r512_base", "r2_new"))
rn, rb = load("r512_new/ret_all.bin", np.int64), load("r512_base/ret_all.bin", np.int64)
secs = [("q5x4g", 0, 4 * N), ("rowg 7", 4 * N, 5 * N), ("rowg 11", 5 * N, 6 * N),
        ("linesg 5", 6 * N, 6 * N + 3072), ("linesg 11", 6 * N + 3072, 6 * N + 6144),
        ("w5p + w5g", 6 * N + 6144, 6 * N + 6144 + R * N),
        ("w5g", 6 * N + 6144 + R * N, 6 * N + 6144 + 2 * R * N)]
ok = True
for name, a, b in secs:
    diff = [int((new[s, a:b] != base[s, a:b]).sum()) for s in range(6)]
    print(f"AVX-512 working tree vs base, {name:10s}: differing outputs per data set {diff}")
    ok &= not any(diff)
same_zero = ((rn[:, :9] != 0) == (rb[:, :9] != 0)) | (np.arange(9) == 6)   # 6: a column, not a count
print("return values, zero / nonzero the same:", bool(same_zero.all()))
ok &= bool(same_zero.all())
for name, a, b in secs:
    m = new[:, a:b] != avx2[:, a:b]
    if not name.startswith("linesg"):     # rows of N, of which the first 250 or 253 written
        m = m.reshape(6, -1, N)[:, :, :253 if name == "rowg 11" else 250]
    print(f"AVX-512 (emulated) vs AVX2 (native), {name:8s}: differing {int(m.sum())}")
    ok &= not m.any()
# four rows of windows of 7 (the working tree only): fastlrn_qmx4g against
# fastlrn_rowg row by row, in each build, and the builds against each other
q0 = 6 * N + 6144 + 2 * R * N
for name, arr in (("AVX-512 (emulated)", new), ("AVX2 (native)", avx2)):
    q, g = (arr[:, q0 + o * 4 * N:q0 + (o + 1) * 4 * N].reshape(6, 4, N)[:, :, :250] for o in (0, 1))
    print(f"{name}, qmx4g 7 vs rowg 7: differing {int((q != g).sum())}")
    ok &= not (q != g).any()
m = (new[:, q0:q0 + 4 * N] != avx2[:, q0:q0 + 4 * N]).reshape(6, 4, N)[:, :, :250]
print(f"AVX-512 (emulated) vs AVX2 (native), qmx4g 7: differing {int(m.sum())}")
ok &= not m.any()
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
