"""Forward LRN kernels compiled for AVX-512 F/DQ/VL/BW (x86-64 only)."""

include "_forward_impl.pxi"
