"""Other LRN implementations ("peers"), each made to compute fastlrn's function.

fastlrn's function (SPEC section 1), default convention::

    s = k + alpha * sum_{c' in [c - size//2, c + (size-1)//2]} x[c']**2
    y = x * s**(-beta)

With ``average=True`` (fastlrn's option, what Caffe's and PyTorch's
parameter sets use) alpha is divided by ``size**d`` first (``d = 1`` across,
the number of spatial axes within).

Each peer has its own convention; the ``*_parameters`` functions below map
fastlrn's ``(size, alpha, beta, k, average)`` onto it and raise
:class:`Unsupported` where the peer cannot express the same function (its
window placement for even sizes, a non-integer ``k`` for OpenVINO). For the
bench's workloads and parameter sets (odd sizes, integer k) every mapping is
exact: a peer that averages is given alpha as is when fastlrn averages too.

A peer's :meth:`Peer.implementations` returns one or more :class:`Impl`,
each a no-argument ``run()`` (the call that is timed: inputs are already
framework tensors, the output is left as the framework returns it) and a
``result()`` that returns the output as a NumPy array in ``x``'s layout for
the error check. Thread counts: PyTorch, ONNX Runtime and OpenVINO take one
per call or per session; TensorFlow and JAX fix theirs when the process
first uses them, so the bench runs them in a fresh process per thread count
(``per_process_threads``, :meth:`Peer.configure_process`).
"""

import importlib
import importlib.util
import os
import warnings

import numpy as np

__all__ = [
    "Unsupported", "Impl", "Peer", "PEERS", "ALIASES", "resolve",
    "torch_parameters", "tensorflow_parameters", "onnx_parameters",
    "openvino_parameters", "jax_lrn",
]


class Unsupported(Exception):
    """The peer cannot compute this workload (or not as fastlrn's function)."""


class Impl:
    """One prepared implementation of one workload at one thread count."""

    def __init__(self, label, run, result, note=""):
        self.label = label
        self.run = run
        self.result = result
        self.note = note


def _odd_only(size, who, placement):
    if size % 2 == 0:
        raise Unsupported(
            f"{who}'s window for an even size {placement}; fastlrn's has one more "
            "element before the position, so even sizes cannot be mapped")


# ---------------------------------------------------------------- mappings


def torch_parameters(size, alpha, beta, k, average=False):
    """``torch.nn.functional.local_response_norm`` arguments for fastlrn's function.

    PyTorch's window is fastlrn's, ``[c - n//2, c + (n-1)//2]``, for every n; it
    averages (divides the sum by n, also at clipped borders), so
    ``alpha_torch = alpha * n``, or ``alpha`` when fastlrn averages too.
    """
    return dict(size=size, alpha=alpha if average else alpha * size, beta=beta, k=k)


def tensorflow_parameters(size, alpha, beta, k, average=False):
    """``tf.nn.lrn`` arguments: ``depth_radius = (size-1)/2``, ``bias = k``,
    ``alpha`` as is (TensorFlow multiplies the raw sum; ``alpha / size`` when
    fastlrn averages). Odd sizes only."""
    _odd_only(size, "TensorFlow", "does not exist ([c - r, c + r] is always 2r + 1 wide)")
    return dict(depth_radius=(size - 1) // 2, bias=k,
                alpha=alpha / size if average else alpha, beta=beta)


def onnx_parameters(size, alpha, beta, k, average=False):
    """ONNX ``LRN`` attributes: ``alpha_onnx = alpha * size`` (ONNX divides by
    size; ``alpha`` when fastlrn averages too), ``bias = k``. Odd sizes only."""
    _odd_only(size, "ONNX", "is [c - (n-1)//2, c + n//2] (one more after)")
    return dict(size=size, alpha=alpha if average else alpha * size, beta=beta, bias=k)


def openvino_parameters(size, alpha, beta, k, region="across", nspatial=2, average=False):
    """OpenVINO ``LRN`` (opset1) arguments.

    OpenVINO divides alpha by ``size ** len(axes)``: one axis across, every
    spatial axis within, so ``alpha_ov = alpha * size**d`` (``alpha`` when
    fastlrn averages, which divides by the same ``size**d``). Odd sizes only
    (an even size gets n - 1 taps). Its CPU plugin truncates the bias to an
    integer, so only integer ``k`` is the same function.
    """
    _odd_only(size, "OpenVINO/oneDNN", "has n - 1 elements, [c - (n-1)//2, c + (n-1)//2]")
    if float(k) != int(k):
        raise Unsupported(f"OpenVINO's CPU plugin truncates the bias to an integer; "
                          f"k={k} would not be the same function")
    d = 1 if region == "across" else nspatial
    return dict(size=size, alpha=alpha if average else alpha * size ** d, beta=beta,
                bias=float(k))


def _window_axes(wl, ndim):
    c = wl.channel_axis % ndim
    if wl.region == "across":
        return (c,)
    return tuple(ax for ax in range(ndim) if ax not in (0, c))


def jax_lrn(wl, ndim, dtype):
    """fastlrn's function for workload ``wl`` written with ``lax.reduce_window``.

    Exact for every size and layout: the padding is ``(lo, hi)`` on each
    windowed axis, so the window is fastlrn's; ``a`` is the workload's
    effective alpha (``alpha``, or ``alpha / size**d`` when averaged).
    """
    from jax import lax

    axes = _window_axes(wl, ndim)
    window = [1] * ndim
    padding = [(0, 0)] * ndim
    for ax in axes:
        window[ax] = wl.size
        padding[ax] = (wl.lo, wl.hi)
    zero = np.zeros((), dtype=dtype)  # a constant init value: JAX's differentiable window sum
    k, alpha, beta = wl.k, wl.a, wl.beta

    def lrn(x):
        s = lax.reduce_window(x * x, zero, lax.add, tuple(window), (1,) * ndim, padding)
        return x * (k + alpha * s) ** (-beta)

    return lrn


def _to_axis1(ndim, channel_axis):
    """``(perm_in, perm_out)``: move the channel axis to 1, and back."""
    c = channel_axis % ndim
    perm_in = [0, c] + [ax for ax in range(1, ndim) if ax != c]
    perm_out = list(np.argsort(perm_in))
    return perm_in, perm_out


def _to_last(ndim, channel_axis):
    """``(perm_in, perm_out)``: move the channel axis last, and back."""
    c = channel_axis % ndim
    perm_in = [ax for ax in range(ndim) if ax != c] + [c]
    perm_out = list(np.argsort(perm_in))
    return perm_in, perm_out


# ---------------------------------------------------------------- peers


class Peer:
    """An optional LRN implementation: what it needs, its versions, its calls."""

    name = ""
    label = ""
    modules = ()  # importable names it needs
    install = ""  # what to pip install
    per_process_threads = False
    notes = ()  # what the reader must know about its mapping and timing

    def missing(self):
        """The needed modules that are not installed (without importing them)."""
        return [m for m in self.modules if importlib.util.find_spec(m) is None]

    def versions(self):
        out = {}
        for m in self.modules:
            mod = _import(m)
            out[m] = str(getattr(mod, "__version__", "unknown"))
        return out

    def configure_process(self, threads):
        """Fix the process-wide thread count; call before anything else uses the peer."""

    def implementations(self, wl, x, dy, threads):
        raise NotImplementedError


def _import(name):
    if name == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # C++ start-up chatter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # import-time deprecation notices of frameworks
        return importlib.import_module(name)


class TorchPeer(Peer):
    name = "torch"
    label = "PyTorch"
    modules = ("torch",)
    install = "torch"
    notes = (
        "torch: torch.nn.functional.local_response_norm(x, size, alpha=alpha*size "
        "(alpha where fastlrn averages), beta, k): the same window for every size; "
        "torch.set_num_threads(t). NHWC (W3): a channels_last view of the same "
        "memory, no copy. Backward: torch.autograd.grad on a retained graph (the "
        "backward pass only; fastlrn's lrn_backward also recomputes the forward sums).",
    )

    def implementations(self, wl, x, dy, threads):
        torch = _import("torch")
        if wl.region != "across":
            raise Unsupported("torch.nn.functional.local_response_norm normalises across "
                              "channels only")
        p = torch_parameters(wl.size, wl.alpha, wl.beta, wl.k, wl.average)
        torch.set_num_threads(threads)
        F = torch.nn.functional
        c = wl.channel_axis % x.ndim
        xt = torch.from_numpy(x)
        xin = xt.movedim(c, 1)  # a view: NHWC memory is torch's channels_last

        def back(t):
            return t.movedim(1, c).numpy()

        if not wl.backward:
            return [Impl("torch", lambda: F.local_response_norm(xin, **p),
                         lambda: back(F.local_response_norm(xin, **p).detach()))]
        leaf = xt.clone().requires_grad_(True)
        y = F.local_response_norm(leaf.movedim(c, 1), **p).movedim(1, c)
        g = torch.from_numpy(dy)

        def run():
            return torch.autograd.grad(y, leaf, g, retain_graph=True)[0]

        return [Impl("torch autograd", run, lambda: run().numpy())]


class TensorFlowPeer(Peer):
    name = "tensorflow"
    label = "TensorFlow"
    modules = ("tensorflow",)
    install = "tensorflow-cpu"
    per_process_threads = True
    notes = (
        "tensorflow: tf.nn.lrn(x, depth_radius=(size-1)//2, bias=k, alpha=alpha "
        "(alpha/size where fastlrn averages), beta) "
        "in a tf.function; channels-last only, so NCHW workloads are timed twice: "
        "'+transposes' (NCHW in and out, tf.transpose around tf.nn.lrn) and "
        "'NHWC data' (the input already transposed, outside the timing). Backward: "
        "tf.raw_ops.LRNGrad (the kernel GradientTape calls for tf.nn.lrn), given "
        "x, y and dy. Threads: tf.config.threading intra-op = inter-op = t, fixed "
        "at start-up, so one process per thread count. No float64 kernel.",
    )

    def configure_process(self, threads):
        tf = _import("tensorflow")
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)

    def implementations(self, wl, x, dy, threads):
        tf = _import("tensorflow")
        if wl.region != "across":
            raise Unsupported("tf.nn.lrn normalises across channels only")
        if x.ndim != 4:
            raise Unsupported("tf.nn.lrn takes 4-D input only")
        if x.dtype != np.float32:
            raise Unsupported(f"tf.nn.lrn has no {x.dtype} kernel (float16, bfloat16, "
                              "float32 only)")
        p = tensorflow_parameters(wl.size, wl.alpha, wl.beta, wl.k, wl.average)
        perm_in, perm_out = _to_last(x.ndim, wl.channel_axis)
        native = wl.channels_last
        x_nhwc = tf.constant(np.ascontiguousarray(x.transpose(perm_in)))

        def back(t):
            return np.asarray(t).transpose(perm_out)

        impls = []
        if not wl.backward:
            f_nhwc = tf.function(lambda t: tf.nn.lrn(t, **p))
            impls.append(Impl("tensorflow (NHWC data)", lambda: f_nhwc(x_nhwc),
                              lambda: back(f_nhwc(x_nhwc))))
            if not native:
                f_t = tf.function(lambda t: tf.transpose(
                    tf.nn.lrn(tf.transpose(t, perm_in), **p), perm_out))
                x_tf = tf.constant(x)
                impls.append(Impl("tensorflow (+transposes)", lambda: f_t(x_tf),
                                  lambda: f_t(x_tf).numpy()))
            return impls

        y_nhwc = tf.nn.lrn(x_nhwc, **p)
        dy_nhwc = tf.constant(np.ascontiguousarray(dy.transpose(perm_in)))
        grad = tf.function(lambda g: tf.raw_ops.LRNGrad(
            input_grads=g, input_image=x_nhwc, output_image=y_nhwc, **p))
        impls.append(Impl("tensorflow LRNGrad (NHWC data)", lambda: grad(dy_nhwc),
                          lambda: back(grad(dy_nhwc))))
        if not native:
            # What GradientTape runs for an NCHW model: x and y are the NHWC
            # tensors saved by the forward pass; dy comes in NCHW, dx goes out NCHW.
            grad_t = tf.function(lambda g: tf.transpose(tf.raw_ops.LRNGrad(
                input_grads=tf.transpose(g, perm_in), input_image=x_nhwc,
                output_image=y_nhwc, **p), perm_out))
            dy_tf = tf.constant(dy)
            impls.append(Impl("tensorflow LRNGrad (+transposes)", lambda: grad_t(dy_tf),
                              lambda: grad_t(dy_tf).numpy()))
        return impls


class OnnxRuntimePeer(Peer):
    name = "onnxruntime"
    label = "ONNX Runtime"
    modules = ("onnx", "onnxruntime")
    install = "onnx onnxruntime"
    notes = (
        "onnxruntime: a one-node ONNX model LRN(size, alpha=alpha*size (alpha where "
        "fastlrn averages), beta, bias=k), "
        "opset 13, CPUExecutionProvider, intra_op_num_threads=t, inputs and a "
        "preallocated output bound with IOBinding. NHWC (W3): Transpose nodes around "
        "the LRN node in the model. ONNX's window for even sizes differs (one more "
        "after); float32 only; no gradient (inference engine).",
    )

    def implementations(self, wl, x, dy, threads):
        onnx = _import("onnx")
        ort = _import("onnxruntime")
        if wl.backward:
            raise Unsupported("ONNX Runtime (inference) has no LRN gradient")
        if wl.region != "across":
            raise Unsupported("ONNX's LRN normalises across channels only")
        if x.dtype != np.float32:
            raise Unsupported(f"ONNX Runtime's CPU LRN kernel is float32 only, not {x.dtype}")
        p = onnx_parameters(wl.size, wl.alpha, wl.beta, wl.k, wl.average)
        h, T = onnx.helper, onnx.TensorProto
        perm_in, perm_out = _to_axis1(x.ndim, wl.channel_axis)
        nodes, src = [], "X"
        if perm_in != list(range(x.ndim)):
            nodes.append(h.make_node("Transpose", ["X"], ["Xc"], perm=perm_in))
            src = "Xc"
        nodes.append(h.make_node("LRN", [src], ["Yc" if src == "Xc" else "Y"], **p))
        if src == "Xc":
            nodes.append(h.make_node("Transpose", ["Yc"], ["Y"],
                                     perm=[int(v) for v in perm_out]))
        graph = h.make_graph(
            nodes, "lrn", [h.make_tensor_value_info("X", T.FLOAT, list(x.shape))],
            [h.make_tensor_value_info("Y", T.FLOAT, list(x.shape))])
        model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
        model.ir_version = 8  # readable by every onnxruntime release with opset 13
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(model.SerializeToString(), so,
                                    providers=["CPUExecutionProvider"])
        out = np.empty_like(x)
        io = sess.io_binding()
        io.bind_cpu_input("X", x)
        io.bind_output("Y", "cpu", 0, np.float32, list(x.shape), out.ctypes.data)
        label = "onnxruntime" + (" (+transposes)" if src == "Xc" else "")
        return [Impl(label, lambda: sess.run_with_iobinding(io), lambda: out)]


class OpenVINOPeer(Peer):
    name = "openvino"
    label = "OpenVINO"
    modules = ("openvino",)
    install = "openvino"
    notes = (
        "openvino: opset1 LRN(axes=[1], alpha=alpha*size, beta, bias=k, size) (within: "
        "axes=[2,3], alpha*size**2: OpenVINO divides alpha by size**len(axes); alpha "
        "as is where fastlrn averages) on the CPU plugin with INFERENCE_NUM_THREADS=t, "
        "INFERENCE_PRECISION_HINT=f32, PERFORMANCE_HINT=LATENCY; infer with shared "
        "input and output memory. Its CPU plugin truncates the bias to an integer "
        "(k=2 and k=1 are unaffected), accepts only axes [1] or the spatial axes "
        "(NHWC: Transpose ops in the model), gives even sizes n-1 taps, computes "
        "float64 models in float32 (W5's error shows it), and has no gradient.",
    )

    def versions(self):
        ov = _import("openvino")
        return {"openvino": str(ov.get_version() if hasattr(ov, "get_version")
                                else getattr(ov, "__version__", "unknown"))}

    def implementations(self, wl, x, dy, threads):
        ov = _import("openvino")
        ops = importlib.import_module("openvino.opset1")
        if wl.backward:
            raise Unsupported("OpenVINO (inference) has no LRN gradient")
        p = openvino_parameters(wl.size, wl.alpha, wl.beta, wl.k, wl.region, x.ndim - 2,
                                wl.average)
        types = {np.dtype(np.float32): ov.Type.f32, np.dtype(np.float64): ov.Type.f64}
        if x.dtype not in types:
            raise Unsupported(f"no OpenVINO type for {x.dtype}")
        perm_in, perm_out = _to_axis1(x.ndim, wl.channel_axis)
        transposed = perm_in != list(range(x.ndim))
        param = ops.parameter(list(x.shape), types[x.dtype])
        node = param
        if transposed:
            node = ops.transpose(node, ops.constant(np.array(perm_in, dtype=np.int64)))
        axes = [1] if wl.region == "across" else list(range(2, x.ndim))
        node = ops.lrn(node, ops.constant(np.array(axes, dtype=np.int64)), p["alpha"],
                       p["beta"], p["bias"], p["size"])
        if transposed:
            node = ops.transpose(node, ops.constant(np.array(perm_out, dtype=np.int64)))
        compiled = ov.Core().compile_model(ov.Model([node], [param]), "CPU", {
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": "f32",
            "PERFORMANCE_HINT": "LATENCY",
        })
        req = compiled.create_infer_request()

        def run():
            return req.infer({0: x}, share_inputs=True, share_outputs=True)

        label = "openvino" + (" (+transposes)" if transposed else "")
        return [Impl(label, run, lambda: np.array(req.get_output_tensor(0).data))]


class JaxPeer(Peer):
    name = "jax"
    label = "JAX"
    modules = ("jax", "jaxlib")
    install = "jax jaxlib"
    per_process_threads = True
    notes = (
        "jax: jax.jit of x * (k + alpha * reduce_window(add, x*x, window over the "
        "channel axis (within: the spatial axes), padding (size//2, (size-1)//2))) "
        "** -beta: exact for every size; results awaited with block_until_ready. "
        "Backward: the jitted pullback of jax.vjp (backward pass only). Threads: "
        "XLA_FLAGS='--xla_cpu_multi_thread_eigen=(t > 1) intra_op_parallelism_threads=t' "
        "set before JAX starts, one process per thread count; XLA's CPU backend may "
        "use fewer threads than that (see cpu_per_wall in the JSON).",
    )

    def configure_process(self, threads):
        flags = os.environ.get("XLA_FLAGS", "")
        flags += (f" --xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
                  f" intra_op_parallelism_threads={threads}")
        os.environ["XLA_FLAGS"] = flags.strip()
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        jax = _import("jax")
        jax.config.update("jax_enable_x64", True)  # W5; float32 stays float32

    def implementations(self, wl, x, dy, threads):
        jax = _import("jax")
        if x.dtype == np.float64 and not jax.config.jax_enable_x64:
            raise Unsupported("JAX runs float64 only with jax_enable_x64 (the bench's "
                              "JAX process sets it)")
        f = jax.jit(jax_lrn(wl, x.ndim, x.dtype))
        xj = jax.device_put(x)
        if not wl.backward:
            return [Impl("jax", lambda: f(xj).block_until_ready(),
                         lambda: np.asarray(f(xj)))]
        _, pullback = jax.vjp(f, xj)
        dyj = jax.device_put(dy)
        pull = jax.jit(lambda pb, g: pb(g)[0])
        return [Impl("jax vjp", lambda: pull(pullback, dyj).block_until_ready(),
                     lambda: np.asarray(pull(pullback, dyj)))]


class ReferencePeer(Peer):
    """The NumPy float64 reference; timed in the bench's own process."""

    name = "numpy"
    label = "NumPy reference"
    modules = ()
    notes = (
        "numpy: fastlrn.reference (float64 NumPy, single-threaded: the same number at "
        "every thread count), timed on the first items and scaled to the batch.",
    )

    def versions(self):
        return {"numpy": np.__version__}


PEERS = {p.name: p for p in (TorchPeer(), TensorFlowPeer(), OnnxRuntimePeer(),
                             OpenVINOPeer(), JaxPeer(), ReferencePeer())}
"""Every peer, in the order of the bench's tables."""

ALIASES = {
    "pytorch": "torch", "tf": "tensorflow", "ort": "onnxruntime", "onnx": "onnxruntime",
    "ov": "openvino", "reference": "numpy", "np": "numpy",
}


def resolve(name):
    """The peer called ``name`` (or an alias of it); ``KeyError`` otherwise."""
    key = name.strip().lower()
    return PEERS[ALIASES.get(key, key)]
