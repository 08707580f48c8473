"""The workloads of SPEC section 5 (W1-W8): shapes, parameters, data, oracles.

Every workload is float32, size=5, alpha=1e-4, beta=0.75, k=2 unless noted;
the data are standard-normal activations from a fixed seed, so every run
(and every peer's worker process) times the same numbers.
"""

import dataclasses

import numpy as np

SEED = 20120101  # fixed: every run and every worker process times the same data
FULL_BATCH = 64  # AlexNet's batch in SPEC section 5
QUICK_BATCH = 4  # --quick: small enough for every peer to finish in seconds
REF_ITEMS = 2  # batch items the float64 reference runs on (timing and errors)


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

    @property
    def lo(self):
        """Elements before the position (fastlrn's default window)."""
        return self.size // 2

    @property
    def hi(self):
        """Elements after the position."""
        return (self.size - 1) // 2

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
                    region=self.region, channel_axis=self.channel_axis)

    def inputs(self, seed=SEED):
        """``(x, dy)``: the input and, for backward workloads, the upstream gradient."""
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(self.shape, dtype=np.float32).astype(self.dtype, copy=False)
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
            return reference.lrn_backward(x[:n], dy[:n], self.lo, self.hi, self.alpha,
                                          self.beta, self.k, **kw)
        return reference.lrn(x[:n], self.lo, self.hi, self.alpha, self.beta, self.k, **kw)

    def fastlrn_call(self, x, dy, out, threads):
        """A no-argument function that runs fastlrn once into ``out``."""
        import fastlrn

        kw = self.params()
        if self.backward:
            return lambda: fastlrn.lrn_backward(x, dy, out=out, num_threads=threads, **kw)
        return lambda: fastlrn.lrn(x, out=out, num_threads=threads, **kw)


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
        Workload("W8", "W1 with beta=0.6", _F32_NCHW, beta=0.6),
    ]
}
"""SPEC section 5's workloads at full batch."""
