"""LRN kernels (forward and backward, across and within) compiled for AVX-512
F/DQ/VL/BW (x86-64 only)."""

include "_impl_common.pxi"
include "_across_forward.pxi"
include "_within_forward.pxi"
include "_across_backward.pxi"
include "_within_backward.pxi"
