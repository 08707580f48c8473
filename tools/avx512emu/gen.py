"""gen.py: data.h, the inputs of test.c: six data sets of 12 rows x 256 floats (x 10, ReLU'd x 30, x 3, x 10 with values near the power step's top, NaN and inf, most near the top, standard normal)."""
import numpy as np
rng = np.random.default_rng(11)
R, N = 12, 256
sets = []
z = rng.standard_normal((R, N)).astype(np.float32)
sets.append(z * 10)
sets.append(np.maximum(z, 0) * 30)
sets.append(z * 3)
w = z * 10
w[rng.random((R, N)) < 0.1] = 4.1e6
w[rng.random((R, N)) < 0.05] *= 1e-8
w[3, 17] = np.nan; w[5, 100] = np.inf; w[7, 200] = -np.inf
sets.append(w)
v = (z * 4.1e6).astype(np.float32)          # everything near the power step's top
v[:, ::3] *= 1e-8
sets.append(v)
sets.append(z)                              # mostly in the tier
with open("data.h", "w") as f:
    f.write(f"#define NSETS {len(sets)}\n#define R {R}\n#define N {N}\n")
    f.write("static const uint32_t data_bits[NSETS][R * N] = {\n")
    for s in sets:
        f.write("{" + ",".join(str(int(u)) for u in s.astype(np.float32).ravel().view(np.uint32)) + "},\n")
    f.write("};\n")
print("sets", len(sets))
