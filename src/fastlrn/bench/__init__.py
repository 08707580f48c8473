"""Benchmarks behind ``python -m fastlrn bench``.

``demo``: fastlrn on the AlexNet-sized workloads of the performance section,
timed against a copy of the same bytes (the memory-traffic limit) and the
NumPy reference, with the accuracy against that reference.
"""
