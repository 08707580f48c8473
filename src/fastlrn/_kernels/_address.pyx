"""The address of an array's first element, for handing arrays to the kernels."""
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_RECORDS_RO


def data_address(obj):
    """The address of obj's first element (obj any strided buffer: a numpy array).

    The buffer protocol takes about a fifth of the time of
    ``obj.__array_interface__["data"][0]`` (0.2 against 1 microsecond),
    which builds a dict on every call.
    """
    cdef Py_buffer view
    cdef size_t address
    PyObject_GetBuffer(obj, &view, PyBUF_RECORDS_RO)
    address = <size_t>view.buf
    PyBuffer_Release(&view)
    return address
