"""Fork safety: fastlrn keeps working in processes forked after the parent
ran OpenMP teams (os.fork, multiprocessing's "fork" start method, a
DataLoader-style pool of forked workers).

GNU libgomp's thread pool does not survive fork(): without fastlrn's
``os.register_at_fork`` hook (src/fastlrn/_threads.py) the child's first
call with more than one thread waits forever. Every scenario therefore runs
in a fresh interpreter under a timeout, and each child under its own
deadline, so that a hang fails the test instead of blocking the suite.
"""

import os
import subprocess
import sys
import textwrap

import pytest

import fastlrn

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# Each scenario takes about a second; a child gets 30 s before it counts as
# hung (generous for a loaded 2-core machine) and the whole script 120 s.
CHILD_DEADLINE = 30
SCRIPT_TIMEOUT = 120

PRELUDE = f"""
import os, sys, time
import numpy as np
import fastlrn

CHILD_DEADLINE = {CHILD_DEADLINE}
HAS_BACKWARD = hasattr(fastlrn, "lrn_backward")

def data(seed=0):
    # 320k elements: far above the serial threshold, so num_threads=2 and
    # the default start a real OpenMP team.
    rng = np.random.default_rng(seed)
    return rng.standard_normal((8, 64, 25, 25)).astype(np.float32)

def compute(x, num_threads):
    y = fastlrn.lrn(x, num_threads=num_threads)
    w = fastlrn.lrn(x, region="within", num_threads=num_threads)
    if HAS_BACKWARD:
        g = fastlrn.lrn_backward(x, x, num_threads=num_threads)
        return y, w, g
    return y, w

def same(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a, b))

def wait_child(pid):
    # Poll: a hung child must not block the parent.
    end = time.monotonic() + CHILD_DEADLINE
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.exit(f"child {{pid}} hung: killed after {{CHILD_DEADLINE}} s")
"""


def run_scenario(body):
    code = PRELUDE + textwrap.dedent(body)
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)  # the default must be the machine's
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                              text=True, timeout=SCRIPT_TIMEOUT, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"scenario hung for {SCRIPT_TIMEOUT} s; output so far: "
                    f"{e.stdout!r} {e.stderr!r}")
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc.stdout


def _require_openmp():
    if fastlrn.config()["openmp"] is not True:
        pytest.skip("fastlrn was built without OpenMP: nothing to hang")


def test_os_fork_after_parent_used_openmp():
    _require_openmp()
    run_scenario("""
        x = data()
        want = compute(x, 2)          # the parent's OpenMP team now exists
        assert same(compute(x, None), want)
        pid = os.fork()
        if pid == 0:
            ok = same(compute(x, None), want) and same(compute(x, 2), want)
            ok = ok and same(compute(x, -1), want)
            os._exit(0 if ok else 3)
        code = wait_child(pid)
        assert code == 0, f"child exited {code} (3: wrong results)"
        # The parent still runs teams after the fork.
        assert same(compute(x, 2), want)
        print("ok")
    """)


def test_fork_from_a_forked_child():
    # A grandchild: the child itself forks after calling fastlrn.
    _require_openmp()
    run_scenario("""
        x = data()
        want = compute(x, 2)
        pid = os.fork()
        if pid == 0:
            ok = same(compute(x, 2), want)
            pid2 = os.fork()
            if pid2 == 0:
                os._exit(0 if same(compute(x, None), want) else 3)
            os._exit(wait_child(pid2) if ok else 3)
        code = wait_child(pid)
        assert code == 0, f"child or grandchild exited {code}"
    """)


def test_fork_while_another_thread_runs_fastlrn():
    # fork() in one Python thread while another is inside a parallel kernel
    # (the parent's team is busy at the moment of the fork).
    _require_openmp()
    run_scenario("""
        import threading
        x = data()
        want = compute(x, 2)
        stop = threading.Event()
        def busy():
            while not stop.is_set():
                fastlrn.lrn(x, num_threads=2)
        t = threading.Thread(target=busy)
        t.start()
        try:
            for _ in range(3):
                time.sleep(0.02)
                pid = os.fork()
                if pid == 0:
                    os._exit(0 if same(compute(x, 2), want) else 3)
                code = wait_child(pid)
                assert code == 0, f"child exited {code}"
        finally:
            stop.set()
            t.join()
    """)


def test_multiprocessing_fork_pool():
    _require_openmp()
    out = run_scenario("""
        import multiprocessing as mp
        xs = [data(seed) for seed in range(4)]
        want = [compute(x, 2) for x in xs]   # parent team active before the fork

        def work(i):
            return [compute(xs[i], n) for n in (None, 2)]

        with mp.get_context("fork").Pool(2) as pool:
            result = pool.map_async(work, range(4))
            got = result.get(timeout=CHILD_DEADLINE)
        for w, pair in zip(want, got):
            assert all(same(r, w) for r in pair)
        print("pool ok")
    """)
    assert "pool ok" in out


def test_dataloader_style_workers():
    # The PyTorch DataLoader pattern, without torch: the main process uses
    # fastlrn (with threads), forks persistent workers that each take
    # indices from a queue, transform samples with fastlrn and send them
    # back, while the main process keeps calling fastlrn itself.
    _require_openmp()
    run_scenario("""
        import multiprocessing as mp
        import queue

        ctx = mp.get_context("fork")
        dataset = [data(seed) for seed in range(12)]
        want = [compute(x, 2) for x in dataset]

        def worker(index_q, result_q):
            while True:
                i = index_q.get()
                if i is None:
                    return
                result_q.put((i, compute(dataset[i], None)))

        index_qs = [ctx.Queue() for _ in range(3)]
        result_q = ctx.Queue()
        workers = [ctx.Process(target=worker, args=(q, result_q), daemon=True)
                   for q in index_qs]
        for w in workers:
            w.start()
        for epoch in range(2):
            for i in range(len(dataset)):
                index_qs[i % len(workers)].put(i)
            seen = set()
            while len(seen) < len(dataset):
                # Meanwhile the main process computes with its own team.
                assert same(compute(dataset[0], 2), want[0])
                try:
                    i, got = result_q.get(timeout=CHILD_DEADLINE)
                except queue.Empty:
                    sys.exit(f"epoch {epoch}: workers hung; got {sorted(seen)}")
                assert same(got, want[i]), f"sample {i} differs"
                seen.add(i)
        for q in index_qs:
            q.put(None)
        for w in workers:
            w.join(CHILD_DEADLINE)
            assert w.exitcode == 0, f"worker exit code {w.exitcode}"
        print("loader ok")
    """)


def test_torch_dataloader_workers():
    # The real thing, where torch is installed: DataLoader workers are forked
    # after the main process ran fastlrn with threads (and torch shares
    # libgomp with fastlrn when both link it).
    _require_openmp()
    pytest.importorskip("torch")
    run_scenario("""
        import torch
        from torch.utils.data import DataLoader, Dataset

        xs = [data(seed) for seed in range(6)]
        want = [compute(x, 2)[0] for x in xs]
        torch.ones(256, 256) @ torch.ones(256, 256)  # torch's own team too

        class LRNData(Dataset):
            def __len__(self):
                return len(xs)
            def __getitem__(self, i):
                return i, fastlrn.lrn(xs[i], num_threads=2)

        loader = DataLoader(LRNData(), batch_size=None, num_workers=2,
                            multiprocessing_context="fork",
                            timeout=CHILD_DEADLINE)
        for i, y in loader:
            assert np.array_equal(y.numpy(), want[int(i)]), f"sample {i}"
        print("torch loader ok")
    """)
