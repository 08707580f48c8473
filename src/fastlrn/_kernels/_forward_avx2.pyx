"""Forward LRN kernels compiled for AVX2 + FMA (x86-64 only; FMA is never contracted: -ffp-contract=off)."""

include "_forward_impl.pxi"
