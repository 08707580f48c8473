"""Forward LRN kernels compiled for the baseline instruction set of the target (SSE2 on x86-64)."""

include "_forward_impl.pxi"
