"""LRN kernels (forward and backward, across and within) compiled for the baseline instruction set
of the target (SSE2 on x86-64)."""

include "_impl_common.pxi"
include "_across_forward.pxi"
include "_within_forward.pxi"
include "_across_backward.pxi"
include "_within_backward.pxi"
