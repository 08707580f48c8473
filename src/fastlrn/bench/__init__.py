"""The comparison harness behind ``python -m fastlrn bench``.

- ``workloads``: SPEC section 5's workloads W1-W8, their data and oracles.
- ``timing``: medians after a warm-up, the parallel copy every time is
  divided by, thread-pool limits, the machine record.
- ``peers``: PyTorch, TensorFlow, ONNX Runtime, OpenVINO, JAX and the NumPy
  reference, each mapped onto fastlrn's function (``*_parameters``).
- ``worker``: one peer's timings in a process of its own.
- ``runner``: the command line, the tables, ``--json`` and ``--plot``.

Nothing here is imported by ``import fastlrn``.
"""
