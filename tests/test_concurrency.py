"""Many Python threads calling fastlrn at once (beyond test_threads.py's
four-worker pool): a barrier-synchronised start, shared and private inputs,
private outputs and in-place calls, every num_threads value mixed across
threads, forward and backward. Every result must equal the single-threaded
one bit for bit (SPEC section 2)."""

import threading

import numpy as np
import pytest

import fastlrn
from _util import no_backward, randn

N_THREADS = 8      # Python threads; four times this machine's cores
ROUNDS = 6         # calls per thread per case
NUM_THREADS = (1, 2, 3, None, -1)   # OpenMP team sizes, mixed across threads
LAYOUTS = [("across", 1), ("across", -1), ("within", 1)]

requires_backward = pytest.mark.skipif(not hasattr(fastlrn, "lrn_backward"),
                                       reason=no_backward)


def _run_threads(target, n=N_THREADS):
    """Run target(i) in n threads released together; re-raise any failure."""
    barrier = threading.Barrier(n)
    errors = []

    def body(i):
        try:
            barrier.wait(timeout=60)
            target(i)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append((i, e))

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        i, e = errors[0]
        raise AssertionError(f"thread {i} of {n} failed ({len(errors)} failed)") from e


def _inputs(rng):
    # Above fastlrn's serial threshold (SERIAL_BELOW = 16384 elements) so
    # that num_threads > 1 really starts OpenMP teams inside each thread.
    return {
        "f32": randn(rng, (4, 16, 24, 24), np.float32, scale=3.0),
        "f64": randn(rng, (4, 24, 24, 16), np.float64, scale=3.0),
    }


def _cases():
    for name in ("f32", "f64"):
        for region, channel_axis in LAYOUTS:
            for size in (3, 4):
                yield name, dict(size=size, alpha=0.5, beta=0.75 if size == 3 else 0.6,
                                 k=1.0, region=region, channel_axis=channel_axis)


def test_many_threads_shared_and_private_inputs(rng):
    shared = _inputs(rng)
    cases = list(_cases())
    want = [fastlrn.lrn(shared[name], num_threads=1, **p) for name, p in cases]
    snapshot = {k: v.copy() for k, v in shared.items()}

    def work(i):
        # Private copies: in-place calls and out= buffers never shared.
        private = {k: v.copy() for k, v in shared.items()}
        for r in range(ROUNDS):
            for j, (name, p) in enumerate(cases):
                nt = NUM_THREADS[(i + r + j) % len(NUM_THREADS)]
                mode = (i + r + j) % 3
                if mode == 0:    # shared input, fresh result
                    y = fastlrn.lrn(shared[name], num_threads=nt, **p)
                elif mode == 1:  # shared input, private out
                    y = np.empty_like(want[j])
                    fastlrn.lrn(shared[name], out=y, num_threads=nt, **p)
                else:            # private input, in place
                    y = private[name].copy()
                    fastlrn.lrn(y, out=y, num_threads=nt, **p)
                np.testing.assert_array_equal(
                    y, want[j], err_msg=f"thread {i}, round {r}, num_threads={nt}, "
                                        f"mode={mode}, {name}, {p}")

    _run_threads(work)
    for k in shared:  # nobody wrote into the shared inputs
        np.testing.assert_array_equal(shared[k], snapshot[k])


def test_many_threads_distinct_inputs_and_parameters(rng):
    # Each thread its own data and parameters: nothing (scratch buffers,
    # dispatch state) may leak from one concurrent call into another.
    # Threads pair up on shape and dtype, so that state keyed by size would
    # be shared between two calls with different data and parameters.
    per_thread = []
    for i in range(N_THREADS):
        m = i // 2
        x = randn(rng, (2, 12 + m, 20, 20 + m), np.float32 if m % 2 else np.float64,
                  scale=1.0 + i)
        region, channel_axis = LAYOUTS[i % len(LAYOUTS)]
        p = dict(size=1 + i, alpha=10.0 ** -(i % 4), beta=(0.5, 0.75, 1.0, 0.6)[i % 4],
                 k=(2.0, 1.0, 0.5)[i % 3], region=region, channel_axis=channel_axis)
        per_thread.append((x, p, fastlrn.lrn(x, num_threads=1, **p)))

    def work(i):
        x, p, want = per_thread[i]
        for r in range(3 * ROUNDS):
            nt = NUM_THREADS[(i + r) % len(NUM_THREADS)]
            np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=nt, **p), want,
                                          err_msg=f"thread {i}, round {r}, {p}")

    _run_threads(work)


def test_hard_values_under_concurrency(rng):
    # The safe (recomputed) path for overflowing windows, and NaN/inf, while
    # other threads run the fast path on ordinary data.
    hard = randn(rng, (4, 16, 24, 24), np.float32)
    hard[::2, 3] = 1e30
    hard[1, :, 5, 5] = 1e-40
    hard[3, 7, 9, 9] = np.nan
    hard[2, 9, 1, 1] = -np.inf
    easy = randn(rng, (4, 16, 24, 24), np.float32)
    p = dict(size=5, alpha=1.0, beta=0.75, k=0.0)
    want = {"hard": fastlrn.lrn(hard, num_threads=1, **p),
            "easy": fastlrn.lrn(easy, num_threads=1, **p)}

    def work(i):
        name, x = ("hard", hard) if i % 2 else ("easy", easy)
        for r in range(3 * ROUNDS):
            nt = NUM_THREADS[(i + r) % len(NUM_THREADS)]
            np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=nt, **p),
                                          want[name], err_msg=f"{name}, thread {i}")

    _run_threads(work)


@requires_backward
def test_backward_and_forward_concurrently(rng):
    shared = _inputs(rng)
    dys = {k: randn(rng, v.shape, v.dtype) for k, v in shared.items()}
    cases = list(_cases())
    fwd = [fastlrn.lrn(shared[n], num_threads=1, **p) for n, p in cases]
    bwd = [fastlrn.lrn_backward(shared[n], dys[n], num_threads=1, **p)
           for n, p in cases]

    def work(i):
        for r in range(ROUNDS):
            for j, (name, p) in enumerate(cases):
                nt = NUM_THREADS[(i + r + j) % len(NUM_THREADS)]
                if (i + j) % 2:
                    got, want = fastlrn.lrn_backward(shared[name], dys[name],
                                                     num_threads=nt, **p), bwd[j]
                else:
                    out = np.empty_like(bwd[j])
                    fastlrn.lrn_backward(shared[name], dys[name], out=out,
                                         num_threads=nt, **p)
                    got, want = out, bwd[j]
                np.testing.assert_array_equal(got, want, err_msg=f"backward {i} {p}")
                np.testing.assert_array_equal(
                    fastlrn.lrn(shared[name], num_threads=nt, **p), fwd[j],
                    err_msg=f"forward {i} {p}")

    _run_threads(work)
