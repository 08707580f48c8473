"""What the running CPU supports, for picking a kernel build (fastlrn._dispatch)."""

cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    static int fastlrn_cpu_avx2(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    static int fastlrn_cpu_avx512(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    }
    #else
    static int fastlrn_cpu_avx2(void) { return 0; }
    static int fastlrn_cpu_avx512(void) { return 0; }
    #endif
    """
    int fastlrn_cpu_avx2() noexcept nogil
    int fastlrn_cpu_avx512() noexcept nogil


def supported():
    """The kernel builds this CPU can run, best last: a subset of baseline, avx2, avx512."""
    out = ["baseline"]
    if fastlrn_cpu_avx2():
        out.append("avx2")
        if fastlrn_cpu_avx512():
            out.append("avx512")
    return out
