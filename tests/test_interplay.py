"""fastlrn inside other people's programs: threadpoolctl limits, NumPy's
BLAS threads and PyTorch (another OpenMP user) in the same process.

test_threads.py already checks that ``threadpool_limits(limits=1,
user_api="openmp")`` sets ``config()["default_num_threads"]``; here the
limit is checked by what fastlrn actually does (how many OS threads it
starts), with the plain ``threadpool_limits(1)`` that users write.
"""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import fastlrn
from _util import randn

requires_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/task"),
                                   reason="counts threads in /proc/self/task (Linux)")


def _require_openmp():
    if fastlrn.config()["openmp"] is not True:
        pytest.skip("fastlrn was built without OpenMP")


def run_python(code, timeout=120, **env):
    full_env = dict(os.environ)
    full_env.pop("OMP_NUM_THREADS", None)
    full_env.update(env)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout,
                          env=full_env)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return eval(proc.stdout.strip().splitlines()[-1], {})


THREAD_COUNT_SCRIPT = """
import os
import numpy as np
import fastlrn, threadpoolctl

def os_threads():
    return len(os.listdir("/proc/self/task"))

x = np.ones((8, 64, 32, 32), np.float32)   # far above the serial threshold
fastlrn.lrn(x[:, :, :2, :2])                # below it: imports, no team
limited = {limited}
before = os_threads()
if limited:
    with threadpoolctl.threadpool_limits(1):
        default = fastlrn.config()["default_num_threads"]
        for _ in range(3):
            fastlrn.lrn(x)
        during = os_threads()
else:
    default = fastlrn.config()["default_num_threads"]
    fastlrn.lrn(x)
    during = os_threads()
print(dict(before=before, during=during, default=default,
           cpus=len(os.sched_getaffinity(0))))
"""


@requires_proc
def test_threadpool_limits_one_starts_no_openmp_threads():
    # Behavioural check: libgomp starts its worker threads on the first
    # parallel region with more than one thread and keeps them. In a fresh
    # process, a call with the default thread count under
    # threadpool_limits(1) must start none; without the limit the same call
    # starts some (which proves the check can tell the difference).
    _require_openmp()
    pytest.importorskip("threadpoolctl")
    free = run_python(THREAD_COUNT_SCRIPT.format(limited=False))
    if free["cpus"] < 2 or free["default"] < 2:
        pytest.skip(f"one CPU or OMP default 1 here ({free}): nothing to limit")
    assert free["during"] > free["before"], (
        f"an unlimited parallel call started no OS thread: {free}")
    limited = run_python(THREAD_COUNT_SCRIPT.format(limited=True))
    assert limited["default"] == 1, limited
    assert limited["during"] == limited["before"], (
        f"fastlrn started threads under threadpool_limits(1): {limited}")


def test_threadpool_limits_restore_and_results(rng):
    _require_openmp()
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x = randn(rng, (4, 32, 24, 24), np.float32, scale=2.0)
    want = fastlrn.lrn(x, num_threads=1)
    outer = fastlrn.config()["default_num_threads"]
    with threadpoolctl.threadpool_limits(1):
        assert fastlrn.config()["default_num_threads"] == 1
        np.testing.assert_array_equal(fastlrn.lrn(x), want)
        # An explicit num_threads still wins over the limit.
        np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=2), want)
    assert fastlrn.config()["default_num_threads"] == outer
    np.testing.assert_array_equal(fastlrn.lrn(x), want)


def test_numpy_blas_before_during_and_after(rng):
    # NumPy's BLAS (OpenBLAS with its own pthreads pool) and fastlrn's
    # OpenMP team in one process: matmuls before, between and after
    # fastlrn calls, and in a Python thread concurrently with them. No
    # crash, and both give the results they give alone.
    a = rng.standard_normal((300, 300))
    b = rng.standard_normal((300, 300))
    ab = a @ b
    x = randn(rng, (8, 32, 24, 24), np.float32, scale=2.0)
    want = fastlrn.lrn(x, num_threads=1)
    for nt in (None, 2, -1):
        np.testing.assert_array_equal(a @ b, ab)
        np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=nt), want)
    np.testing.assert_array_equal(a @ b, ab)

    errors = []

    def blas_loop():
        try:
            for _ in range(20):
                np.testing.assert_array_equal(a @ b, ab)
        except AssertionError as e:
            errors.append(e)

    t = threading.Thread(target=blas_loop)
    t.start()
    for i in range(20):
        np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=(None, 2)[i % 2]), want)
    t.join()
    assert not errors, errors[0]


TORCH_SCRIPT = """
import numpy as np
{imports}
import threadpoolctl

rng = np.random.default_rng(0)
x = (rng.standard_normal((8, 32, 24, 24)) * 2).astype(np.float32)
want = fastlrn.lrn(x, num_threads=1)
before = fastlrn.config()["default_num_threads"]
torch.set_num_threads(1)
after = fastlrn.config()["default_num_threads"]
same = [np.array_equal(fastlrn.lrn(x), want),
        np.array_equal(fastlrn.lrn(x, num_threads=2), want)]
# torch works beside fastlrn, both ways round, and the two agree on LRN:
# PyTorch's local_response_norm is fastlrn with average=True, k=1.
t = torch.from_numpy(x)
ref = torch.nn.functional.local_response_norm(t, size=5, alpha=1e-2, beta=0.75, k=1.0)
ours = fastlrn.lrn(x, size=5, alpha=1e-2, beta=0.75, k=1.0, average=True)
torch.set_num_threads(2)
ours2 = fastlrn.lrn(t, size=5, alpha=1e-2, beta=0.75, k=1.0, average=True)  # via DLPack
err = float(np.max(np.abs(ref.numpy() - ours) / np.abs(ours).clip(1e-30)))
openmp_libs = sorted({{i["filepath"] for i in threadpoolctl.threadpool_info()
                      if i["user_api"] == "openmp"}})
print(dict(before=before, after=after, same=same, err=err,
           dlpack_same=bool(np.array_equal(ours, ours2)), openmp_libs=openmp_libs))
"""


@pytest.mark.parametrize("order", ["torch_first", "fastlrn_first"])
def test_torch_in_the_same_process(order):
    _require_openmp()
    pytest.importorskip("torch")
    pytest.importorskip("threadpoolctl")
    imports = ("import torch\nimport fastlrn" if order == "torch_first"
               else "import fastlrn\nimport torch")
    r = run_python(TORCH_SCRIPT.format(imports=imports))
    print(r)
    assert r["same"] == [True, True], r
    assert r["dlpack_same"], r
    # torch's float32 LRN (avg_pool3d of squares, then pow) carries its own
    # rounding: a few float32 ulp, 1e-5 relative is ~80 ulp of slack. This
    # checks that the two libraries coexist, not torch's accuracy.
    assert r["err"] < 1e-5, r
    if len(r["openmp_libs"]) == 1:
        # One OpenMP runtime shared by both (the dynamic loader loads one
        # libgomp.so.1): SPEC section 2 says num_threads=None then follows
        # torch.set_num_threads.
        assert r["after"] == 1, r
