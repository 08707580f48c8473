"""Every kernel build's fma32 (the float tiers' fused multiply-add) is the correctly
rounded fma, bit for bit: the FMA instruction in the AVX2 and AVX-512 builds,
a double sum rounded to odd in the baseline build.

The reference rounds the exact value (fractions.Fraction) to float32 by hand,
ties to even. The hand-made cases are those a plain double sum gets wrong:
the exact value lies just off a float midpoint by less than half a double
ulp, so rounding it to double lands on the midpoint and the tie goes the
wrong way.
"""

from fractions import Fraction

import numpy as np
import pytest

from fastlrn import _dispatch

F32 = np.float32


def _round_f32(q):
    """The float32 nearest the rational q, ties to even, overflowing to inf as IEEE does."""
    with np.errstate(over="ignore"):
        f0 = F32(float(q))      # float(q) is correctly rounded; within an ulp of the answer
    best = None
    for cand in (np.nextafter(f0, F32(-np.inf)), f0, np.nextafter(f0, F32(np.inf))):
        if np.isinf(cand):
            val = Fraction(2) ** 128 * (1 if cand > 0 else -1)   # IEEE: overflow as if to 2**128
        else:
            val = Fraction(float(cand))
        key = (abs(val - q), int(cand.view(np.uint32)) & 1)      # nearest, then even
        if best is None or key < best[0]:
            best = (key, cand)
    return best[1]


def _exact_fma(a, b, c):
    q = None
    if np.isfinite(a) and np.isfinite(b) and np.isfinite(c):
        q = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    if q is None or q == 0:
        # non-finite, or an exact zero whose sign IEEE fixes: double gets both right
        with np.errstate(invalid="ignore", over="ignore"):
            return F32(np.float64(a) * np.float64(b) + np.float64(c))
    return _round_f32(q)


def _hard_cases():
    """(a, b, c) whose exact a*b + c is within 2**-70 relatively of a float midpoint."""
    one_up = F32(1 + 2.0 ** -23)           # odd last bit
    just_below_half_ulp = F32(2.0 ** -24 - 2.0 ** -47)
    cases = []
    for e1 in (-20, 0, 17):
        for e2 in (-30, 0, 5):
            for s1 in (1, -1):
                for s2 in (1, -1):
                    a = F32(s1 * float(one_up) * 2.0 ** e1)
                    b = F32(s2 * float(just_below_half_ulp) * 2.0 ** e2)
                    c = F32(s1 * s2 * float(one_up) * 2.0 ** (e1 + e2))
                    cases.append((a, b, c))                 # exact: c + half ulp - tiny
                    cases.append((a, F32(-b), c))           # c - half ulp + tiny
                    cases.append((F32(s1 * (1 + 2.0 ** -23)), F32(s2 * (1 - 2.0 ** -23)),
                                  F32(-s1 * s2 * 1.0)))     # cancellation to -2**-46
    return cases


def _special_cases():
    inf, nan, big, tiny = F32(np.inf), F32(np.nan), F32(3e38), F32(1e-45)
    return [(inf, F32(0), F32(1)), (inf, F32(1), -inf), (inf, F32(2), F32(1)),
            (nan, F32(1), F32(1)), (F32(1), F32(1), nan), (big, F32(2), F32(0)),
            (big, F32(2), -big), (tiny, F32(0.5), F32(0)), (tiny, F32(3), -tiny),
            (F32(2.0 ** -75), F32(2.0 ** -75), F32(0)), (F32(0), F32(-1), F32(0)),
            (F32(-0.0), F32(1), F32(-0.0)), (F32(1e-20), F32(1e-20), F32(1e-39))]


def _random_cases(rng, n):
    a = (rng.standard_normal(n) * np.exp2(rng.integers(-30, 30, n))).astype(F32)
    b = (rng.standard_normal(n) * np.exp2(rng.integers(-30, 30, n))).astype(F32)
    # c near -a*b half of the time: cancellation, the hard part of an fma
    c = np.where(rng.random(n) < 0.5, -(a.astype(np.float64) * b) * (1 + rng.standard_normal(n) * 1e-6),
                 rng.standard_normal(n) * np.exp2(rng.integers(-60, 60, n))).astype(F32)
    return list(zip(a, b, c))


@pytest.mark.parametrize("isa", _dispatch.available())
def test_fma32_is_correctly_rounded_in_every_build(isa, rng):
    mod = _dispatch._module(isa)
    cases = _hard_cases() + _special_cases() + _random_cases(rng, 4000)
    a, b, c = (np.array(col, dtype=F32) for col in zip(*cases))
    got = np.empty_like(a)
    mod.fma32_values(a, b, c, got)
    want = np.array([_exact_fma(*t) for t in cases], dtype=F32)
    bad = ~((got.view(np.uint32) == want.view(np.uint32)) | (np.isnan(got) & np.isnan(want)))
    assert not bad.any(), [(cases[i], got[i], want[i]) for i in np.flatnonzero(bad)[:5]]


def test_a_plain_double_sum_gets_the_hard_cases_wrong():
    """The hard cases do test something: rounding through double misses them."""
    wrong = 0
    for a, b, c in _hard_cases():
        naive = F32(np.float64(a) * np.float64(b) + np.float64(c))
        wrong += naive.view(np.uint32) != _exact_fma(a, b, c).view(np.uint32)
    assert wrong >= 18
