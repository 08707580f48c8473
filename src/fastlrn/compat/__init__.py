"""Other frameworks' LRN conventions, reproduced exactly on NumPy arrays.

Every framework defines LRN a little differently: whether alpha is divided
by the window size, where an even window sits, the defaults, the layout,
what ``k`` means within a channel. Each module here takes one framework's
own parameter names, defaults and layout, translates them into a window
``[i - lo, i + hi]`` and an effective alpha, and calls the fastlrn kernels.
No framework is imported.

========================  ============================================
module                    functions
========================  ============================================
``compat.tensorflow``     ``lrn``, ``lrn_backward`` (``tf.nn.lrn``)
``compat.torch``          ``local_response_norm``,
                          ``local_response_norm_backward``
``compat.onnx``           ``lrn``, ``lrn_backward`` (ONNX ``LRN``, cuDNN)
``compat.caffe``          ``lrn``, ``lrn_backward`` (Caffe ``LRN`` layer)
``compat.onednn``         ``lrn``, ``lrn_backward`` (oneDNN, OpenVINO)
``compat.mxnet``          ``lrn``, ``lrn_backward`` (MXNet ``LRN``)
========================  ============================================

Import the module you need, e.g. ``from fastlrn.compat import torch as
lrn_torch``. ``docs/conventions.md`` compares the conventions side by side.
"""

__all__ = ["tensorflow", "torch", "onnx", "caffe", "onednn", "mxnet"]
