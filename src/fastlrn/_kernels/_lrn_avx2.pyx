"""LRN kernels (forward and backward, across and within) compiled for AVX2 + FMA
(x86-64 only; no FMA contraction: -ffp-contract=off)."""

include "_impl_common.pxi"
include "_across_forward.pxi"
include "_within_forward.pxi"
include "_across_backward.pxi"
include "_within_backward.pxi"
