"""Compiled kernels of fastlrn (Cython + OpenMP); private."""
