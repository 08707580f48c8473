"""The workloads of SPEC section 5 (W1-W8): shapes, parameters, data, oracles.

Every workload is float32, size=5, alpha=1e-4, beta=0.75, k=2 unless noted.
A workload is a shape and parameters, not a data set, so each also has two
axes that the bench varies:

- its data kind (:data:`DATA_KINDS`, :meth:`Workload.with_data`):
  ``normal`` (standard normal), ``scaled`` (normal x 10), ``relu``
  (max(normal, 0) x 30) and ``huge-t`` (normal data with TensorFlow's
  default parameters), all drawn from a fixed seed, so every run (and every
  peer's worker process) times the same numbers;
- its parameter set (:data:`PARAM_SETS`, :meth:`Workload.with_params`):
  ``spec`` (the workload's own) or those of AlexNet in Caffe, PyTorch's
  defaults and TensorFlow's defaults.

Backward workloads' upstream gradient ``dy`` is the same standard-normal
array for every data kind: ``dx`` is linear in ``dy``, so its scale cannot
change what a kernel does, and only ``x`` (which sets the window sums) is
varied.
"""

import dataclasses

import numpy as np

SEED = 20120101  # fixed: every run and every worker process times the same data
FULL_BATCH = 64  # AlexNet's batch in SPEC section 5
QUICK_BATCH = 4  # --quick: small enough for every peer to finish in seconds
REF_ITEMS = 2  # batch items the float64 reference runs on (timing and errors)

DATA_KINDS = {
    "normal": "standard normal",
    "scaled": "standard normal x 10",
    "relu": "max(standard normal, 0) x 30: half zeros, post-ReLU activations at "
            "AlexNet's scale",
    "huge-t": "standard normal, with TensorFlow's default parameters (alpha 1, bias 1, "
              "beta 0.5, depth_radius 5: size 11 across; within keeps its size, W8 its "
              "beta), whatever the parameter set",
}
"""The data kinds: name -> what ``x`` is (see :func:`make_data`)."""

_TF_DEFAULTS = dict(size=11, alpha=1.0, beta=0.5, k=1.0, average=False)

PARAM_SETS = {
    "spec": ("the workload's own (SPEC section 5: size 5, alpha 1e-4 not averaged, "
             "beta 0.75, k 2; W8 beta 0.6)", {}),
    "caffe": ("AlexNet in Caffe: local_size 5, alpha 1e-4 averaged over the window, "
              "beta 0.75, k 1", dict(size=5, alpha=1e-4, beta=0.75, k=1.0, average=True)),
    "torch": ("PyTorch's defaults: the workload's size, alpha 1e-4 averaged, beta 0.75, "
              "k 1", dict(alpha=1e-4, beta=0.75, k=1.0, average=True)),
    "tensorflow": ("TensorFlow's defaults: depth_radius 5 (size 11; within keeps its "
                   "size), bias 1, alpha 1 not averaged, beta 0.5", _TF_DEFAULTS),
}
"""The parameter sets: name -> (what, the parameters it sets).

Every set but ``spec`` replaces the workload's parameters with these,
except that a ``within`` workload keeps its size (TensorFlow's LRN has no
within-channel form; a size-11 box would be another workload) and a
workload whose point is its exponent (``keep_beta``: W8, the general
power) keeps its beta. Caffe's and PyTorch's sets are the same function for
size 5; they are both listed because they are what those networks run.
"""


@dataclasses.dataclass(frozen=True)
class Workload:
    """One LRN call: input shape and dtype, region, layout and parameters."""

    id: str
    what: str
    shape: tuple
    dtype: str = "float32"
    region: str = "across"
    channel_axis: int = 1
    backward: bool = False
    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0
    average: bool = False  # fastlrn's average=: alpha divided by size**d
    data: str = "normal"  # a key of DATA_KINDS
    param_set: str = "spec"  # a key of PARAM_SETS: where the parameters came from
    keep_beta: bool = False  # the exponent is the point (W8): parameter sets keep it

    @property
    def lo(self):
        """Elements before the position (fastlrn's default window)."""
        return self.size // 2

    @property
    def hi(self):
        """Elements after the position."""
        return (self.size - 1) // 2

    @property
    def window_ndim(self):
        """The number of window axes: 1 across, the spatial axes within."""
        return 1 if self.region == "across" else len(self.shape) - 2

    @property
    def a(self):
        """The effective alpha: ``alpha``, or ``alpha / size**d`` when averaged
        (what :func:`fastlrn.reference.lrn` takes)."""
        if self.average:
            return self.alpha / self.size ** self.window_ndim
        return self.alpha

    @property
    def key(self):
        """``id-data-param_set``: names this variant's files and rows."""
        return f"{self.id}-{self.data}-{self.param_set}"

    @property
    def channels_last(self):
        return self.channel_axis % len(self.shape) == len(self.shape) - 1

    @property
    def nbytes(self):
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize

    def with_batch(self, batch):
        """The workload with ``batch`` items; single-image workloads keep 1."""
        if self.shape[0] == 1:
            return self
        return dataclasses.replace(self, shape=(batch,) + tuple(self.shape[1:]))

    def _with_values(self, values):
        values = dict(values)
        if self.region != "across":
            values.pop("size", None)
        if self.keep_beta:
            values.pop("beta", None)
        return dataclasses.replace(self, **values)

    def with_params(self, name):
        """This workload with parameter set ``name`` (a key of :data:`PARAM_SETS`).

        Apply it to a workload of :data:`WORKLOADS`: ``spec`` keeps the
        parameters the workload has.
        """
        if name not in PARAM_SETS:
            raise ValueError(f"unknown parameter set {name!r}; "
                             f"expected one of {', '.join(PARAM_SETS)}")
        return dataclasses.replace(self._with_values(PARAM_SETS[name][1]), param_set=name)

    def with_data(self, kind):
        """This workload on data kind ``kind`` (a key of :data:`DATA_KINDS`).

        ``huge-t`` also replaces the parameters with TensorFlow's defaults
        (``param_set`` still names the set it was applied to).
        """
        if kind not in DATA_KINDS:
            raise ValueError(f"unknown data kind {kind!r}; "
                             f"expected one of {', '.join(DATA_KINDS)}")
        wl = dataclasses.replace(self, data=kind)
        if kind == "huge-t":
            wl = wl._with_values(_TF_DEFAULTS)
        return wl

    def describe(self):
        """The parameters in words: ``size=5 alpha=0.0001 beta=0.75 k=2``."""
        return (f"size={self.size} alpha={self.alpha:g}{' averaged' if self.average else ''}"
                f" beta={self.beta:g} k={self.k:g}")

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape)
        return d

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["shape"] = tuple(d["shape"])
        return cls(**d)

    def params(self):
        """Keyword arguments of :func:`fastlrn.lrn` (beyond x)."""
        return dict(size=self.size, alpha=self.alpha, beta=self.beta, k=self.k,
                    region=self.region, channel_axis=self.channel_axis,
                    average=self.average)

    def inputs(self, seed=SEED):
        """``(x, dy)``: the input (of kind ``self.data``) and, for backward
        workloads, the upstream gradient (standard normal for every kind)."""
        rng = np.random.default_rng(seed)
        x = _draw(self.data, rng, self.shape, self.dtype)
        dy = None
        if self.backward:
            dy = rng.standard_normal(self.shape, dtype=np.float32).astype(self.dtype,
                                                                          copy=False)
        return x, dy

    def reference(self, x, dy=None, items=REF_ITEMS):
        """The float64 reference (``fastlrn.reference``) on the first ``items`` items."""
        from fastlrn import reference

        n = min(items, x.shape[0])
        kw = dict(region=self.region, channel_axis=self.channel_axis)
        if self.backward:
            return reference.lrn_backward(x[:n], dy[:n], self.lo, self.hi, self.a,
                                          self.beta, self.k, **kw)
        return reference.lrn(x[:n], self.lo, self.hi, self.a, self.beta, self.k, **kw)

    def fastlrn_call(self, x, dy, out, threads):
        """A no-argument function that runs fastlrn once into ``out``."""
        import fastlrn

        kw = self.params()
        if self.backward:
            return lambda: fastlrn.lrn_backward(x, dy, out=out, num_threads=threads, **kw)
        return lambda: fastlrn.lrn(x, out=out, num_threads=threads, **kw)


def _draw(kind, rng, shape, dtype):
    if kind not in DATA_KINDS:
        raise ValueError(f"unknown data kind {kind!r}; "
                         f"expected one of {', '.join(DATA_KINDS)}")
    x = rng.standard_normal(shape, dtype=np.float32)
    if kind == "scaled":
        x *= np.float32(10)
    elif kind == "relu":
        np.maximum(x, 0, out=x)
        x *= np.float32(30)
    return x.astype(dtype, copy=False)


def make_data(kind, shape, dtype="float32", seed=SEED):
    """An input of data kind ``kind`` (a key of :data:`DATA_KINDS`).

    Every kind is the same standard-normal float32 draw from ``seed``,
    transformed: ``normal`` and ``huge-t`` as drawn, ``scaled`` x 10,
    ``relu`` ``max(x, 0) * 30``; then converted to ``dtype``. It is the ``x``
    of :meth:`Workload.inputs` for the same seed.
    """
    return _draw(kind, np.random.default_rng(seed), tuple(shape), dtype)


def relative_error(result, ref):
    """``max |result - ref| / max |ref|`` on the items ``ref`` covers."""
    result = np.asarray(result)[: ref.shape[0]]
    scale = float(np.max(np.abs(ref))) or 1.0
    with np.errstate(invalid="ignore"):
        return float(np.max(np.abs(result.astype(np.float64) - ref))) / scale


_F32_NCHW = (FULL_BATCH, 96, 55, 55)

WORKLOADS = {
    w.id: w for w in [
        Workload("W1", "across NCHW", _F32_NCHW),
        Workload("W2", "across NCHW C=256", (FULL_BATCH, 256, 27, 27)),
        Workload("W3", "across NHWC", (FULL_BATCH, 55, 55, 96), channel_axis=-1),
        Workload("W4", "within NCHW", _F32_NCHW, region="within"),
        Workload("W5", "across NCHW float64", _F32_NCHW, dtype="float64"),
        Workload("W6", "across NCHW N=1 (latency)", (1, 96, 55, 55)),
        Workload("W7", "backward of W1", _F32_NCHW, backward=True),
        Workload("W8", "W1 with beta=0.6", _F32_NCHW, beta=0.6, keep_beta=True),
    ]
}
"""SPEC section 5's workloads at full batch."""
