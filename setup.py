"""Build the Cython kernels of fastlrn, with OpenMP where the compiler has it.

Metadata lives in pyproject.toml; this file only describes the extensions.

Every ``src/fastlrn/_kernels/*.pyx`` becomes ``fastlrn._kernels.<stem>``.
``build_ext`` probes OpenMP by compiling and linking a small program with the
compiler that will build the extensions, trying the flags that compiler
family uses, and writes what it decided to ``fastlrn/_build_info.py``
(read by ``fastlrn.show_config()``).

Environment switches:

FASTLRN_OPENMP=0          build without OpenMP (prange runs serially).
FASTLRN_REQUIRE_OPENMP=1  a failed OpenMP probe is a build error (CI sets it).
FASTLRN_NATIVE=1          add -march=native (gcc/clang); the result only runs
                          on CPUs like the build machine's.
"""

import os
import platform
import pprint
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
KERNELS = Path("src", "fastlrn", "_kernels")
BUILD_INFO = Path("fastlrn", "_build_info.py")

CYTHON_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
    "nonecheck": False,
    "embedsignature": True,
}

ALIAS_CHECKS_FLAG = "--param=vect-max-version-for-alias-checks=100"

OPENMP_PROBE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel
    {
        #pragma omp atomic
        n += 1;
    }
    printf("%d %d\n", omp_get_max_threads(), n);
    return 0;
}
"""


def _env_flag(name, default):
    """Read a 0/1 environment switch; anything unrecognised is an error."""
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise RuntimeError(f"{name} must be 0 or 1, got {os.environ[name]!r}")


def _flags(args):
    return " ".join(dict.fromkeys(args))


def _log(msg):
    print(f"fastlrn build: {msg}", flush=True)


# Kernel modules named *_avx2 / *_avx512 are the same source compiled for
# wider vectors (x86-64 only); fastlrn._dispatch picks one at run time.
ISA_FLAGS = {
    "avx2": {"unix": ["-mavx2", "-mfma"], "msvc": ["/arch:AVX2"]},
    "avx512": {
        "unix": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw",
                 "-mprefer-vector-width=512"],
        "msvc": ["/arch:AVX512"],
    },
}


def _isa(path):
    suffix = path.stem.rsplit("_", 1)[-1]
    return suffix if suffix in ISA_FLAGS else None


def _x86_64():
    return platform.machine().lower() in ("x86_64", "amd64")


def _extensions():
    pyx = sorted((HERE / KERNELS).glob("*.pyx"))
    if not pyx:
        raise RuntimeError(f"no .pyx files found in {KERNELS}")
    if not _x86_64():
        pyx = [p for p in pyx if _isa(p) is None]
    return [
        Extension(
            f"fastlrn._kernels.{path.stem}",
            # Relative paths: setuptools refuses absolute ones in sdists.
            sources=[str(KERNELS / path.name)],
        )
        for path in pyx
    ]


class BuildExt(build_ext):
    """build_ext that probes OpenMP with the real compiler and records it."""

    def finalize_options(self):
        # Cythonize here, not at import time, so metadata-only commands
        # (egg_info, sdist) never need Cython and the sdist ships .pyx only.
        from Cython.Build import cythonize

        self.distribution.ext_modules = cythonize(
            self.distribution.ext_modules,
            compiler_directives=CYTHON_DIRECTIVES,
            include_path=["src"],
        )
        super().finalize_options()

    # -- compiler facts -------------------------------------------------

    def _family(self):
        """'msvc', 'apple-clang', 'clang' or 'gcc' (anything unix-like)."""
        if self.compiler.compiler_type == "msvc":
            return "msvc"
        version = self._compiler_version().lower()
        if "clang" in version:
            if sys.platform == "darwin" and "apple" in version:
                return "apple-clang"
            return "clang"
        return "gcc"

    def _compiler_version(self):
        if hasattr(self, "_version_cache"):
            return self._version_cache
        version = "unknown"
        try:
            if self.compiler.compiler_type == "msvc":
                cc = getattr(self.compiler, "cc", None) or "cl.exe"
                out = subprocess.run(
                    [cc], capture_output=True, text=True, timeout=60
                )
                # cl prints its banner on stderr.
                text = (out.stderr or out.stdout).strip()
            else:
                cc = self.compiler.compiler_so[0]
                out = subprocess.run(
                    [cc, "--version"], capture_output=True, text=True, timeout=60
                )
                text = out.stdout.strip()
            if text:
                version = text.splitlines()[0].strip()
        except (OSError, subprocess.SubprocessError, AttributeError, IndexError):
            pass
        self._version_cache = version
        return version

    def _openmp_candidates(self):
        """(compile_args, link_args, include_dirs, library_dirs) to try."""
        family = self._family()
        if family == "msvc":
            return [(["/openmp"], [], [], [])]
        candidates = [(["-fopenmp"], ["-fopenmp"], [], [])]
        if family == "apple-clang":
            # Apple clang has no -fopenmp driver flag: ask the preprocessor
            # for OpenMP and link libomp (Homebrew's, when installed).
            dirs = []
            prefixes = [os.environ.get("HOMEBREW_PREFIX", ""), "/opt/homebrew", "/usr/local"]
            for prefix in prefixes:
                if prefix and Path(prefix, "opt", "libomp").is_dir():
                    dirs.append(Path(prefix, "opt", "libomp"))
            inc = [str(d / "include") for d in dirs[:1]]
            lib = [str(d / "lib") for d in dirs[:1]]
            candidates.insert(0, (["-Xpreprocessor", "-fopenmp"], ["-lomp"], inc, lib))
        return candidates

    def _accepts(self, flag):
        """Whether the compiler compiles a trivial file with `flag`, without a warning about it."""
        with tempfile.TemporaryDirectory(prefix="fastlrn-flag-") as tmp:
            src = Path(tmp, "flag.c")
            src.write_text("int fastlrn_flag_probe(void) { return 0; }\n")
            try:
                self.compiler.compile([str(src)], output_dir=tmp,
                                      extra_postargs=[flag, "-Werror"])
            except Exception:  # CompileError: unknown option
                return False
        return True

    def _try_openmp(self, compile_args, link_args, include_dirs, library_dirs):
        """Compile and link the probe; True when both succeed."""
        with tempfile.TemporaryDirectory(prefix="fastlrn-omp-") as tmp:
            src = Path(tmp, "probe.c")
            src.write_text(OPENMP_PROBE)
            try:
                objects = self.compiler.compile(
                    [str(src)],
                    output_dir=tmp,
                    include_dirs=include_dirs,
                    extra_postargs=compile_args,
                )
                self.compiler.link_executable(
                    objects,
                    "probe",
                    output_dir=tmp,
                    library_dirs=library_dirs,
                    extra_postargs=link_args,
                )
            except Exception as exc:  # CompileError, LinkError, OSError
                _log(f"OpenMP probe with {_flags(compile_args + link_args)} failed: {exc}")
                return False
        return True

    def _probe_openmp(self):
        """Flags for OpenMP, or None. Honours FASTLRN_OPENMP/REQUIRE_OPENMP."""
        want = _env_flag("FASTLRN_OPENMP", True)
        require = _env_flag("FASTLRN_REQUIRE_OPENMP", False)
        if not want:
            if require:
                raise RuntimeError(
                    "FASTLRN_OPENMP=0 and FASTLRN_REQUIRE_OPENMP=1 contradict "
                    "each other; unset one of them"
                )
            _log("FASTLRN_OPENMP=0: building without OpenMP (serial kernels)")
            return None
        for candidate in self._openmp_candidates():
            if self._try_openmp(*candidate):
                _log(f"OpenMP: yes, with {_flags(candidate[0] + candidate[1])}")
                return candidate
        message = (
            f"the compiler ({self._compiler_version()}) cannot compile and "
            "link an OpenMP program with any of "
            + " or ".join(repr(_flags(c[0] + c[1])) for c in self._openmp_candidates())
            + "."
        )
        if require:
            raise RuntimeError(
                f"FASTLRN_REQUIRE_OPENMP=1 but {message} Install OpenMP for "
                "this compiler (gcc: libgomp; clang: libomp; macOS: "
                "'brew install libomp'), or unset FASTLRN_REQUIRE_OPENMP to "
                "build serial kernels."
            )
        _log(f"OpenMP: no, {message} Building serial kernels.")
        return None

    # -- the build ----------------------------------------------------------

    def build_extensions(self):
        family = self._family()
        native = _env_flag("FASTLRN_NATIVE", False)
        if family == "msvc":
            compile_args, link_args = ["/O2"], []
        else:
            # -O3, never -ffast-math: it removes NaN/Inf handling the numerics
            # rely on and can flush subnormals for the whole process.
            # -fno-math-errno: sqrt need not set errno, so it vectorises; no
            # result changes. -ffp-contract=off: no fused multiply-adds, so the
            # vector body and the scalar tail round alike (bit-identical
            # results for every thread count and tiling).
            compile_args, link_args = ["-O3", "-fno-math-errno", "-ffp-contract=off"], []
            if native:
                compile_args.append("-march=native")
            # gcc vectorises a loop over rows it cannot prove apart only with
            # one runtime overlap check per pair of them, and gives up beyond
            # 10 checks: the gradient's five-row loop needs 13, its loop over
            # two rows of each pass 99 (scalar, it runs 5x slower). Where the
            # compiler takes the option (gcc; clang has no such limit).
            if self._accepts(ALIAS_CHECKS_FLAG):
                compile_args.append(ALIAS_CHECKS_FLAG)
        if native and family == "msvc":
            _log("FASTLRN_NATIVE=1 has no effect with MSVC")

        openmp = self._probe_openmp()
        omp_compile, omp_link, omp_inc, omp_lib = openmp or ([], [], [], [])

        for ext in self.extensions:
            isa = _isa(Path(ext.name.replace(".", "/")))
            if isa is not None:
                ext.extra_compile_args = (
                    ISA_FLAGS[isa]["msvc" if family == "msvc" else "unix"]
                    + ext.extra_compile_args)
            ext.extra_compile_args = compile_args + omp_compile + ext.extra_compile_args
            ext.extra_link_args = link_args + omp_link + ext.extra_link_args
            ext.include_dirs = omp_inc + ext.include_dirs
            ext.library_dirs = omp_lib + ext.library_dirs

        # build_ext skips extensions whose .so is newer than the sources, so
        # a change of flags alone (FASTLRN_OPENMP=0, FASTLRN_NATIVE=1 on an
        # existing build/ tree, as pip's in-tree builds have) must force it.
        flags = repr(
            (
                getattr(self.compiler, "compiler_so", self._compiler_version()),
                compile_args + omp_compile,
                link_args + omp_link,
                omp_inc,
                omp_lib,
            )
        )
        stamp = Path(self.build_temp, "fastlrn-flags.txt")
        if not stamp.is_file() or stamp.read_text() != flags:
            self.force = True

        self._write_build_info(
            {
                "compiler": self._compiler_version(),
                "compiler_family": family,
                "compile_args": compile_args + omp_compile,
                "link_args": link_args + omp_link,
                "openmp": openmp is not None,
                "openmp_flags": list(dict.fromkeys(omp_compile + omp_link)),
                "native": native and family != "msvc",
                "cython_version": _cython_version(),
                "python_build": f"{platform.python_implementation()} "
                f"{platform.python_version()} {sysconfig.get_platform()}",
            }
        )
        super().build_extensions()
        # Only after every extension built with these flags.
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(flags)

    def _write_build_info(self, info):
        text = (
            '"""Generated by setup.py at build time; do not edit."""\n\n'
            f"BUILD_INFO = {pprint.pformat(info, sort_dicts=False)}\n"
        )
        # The source tree (editable installs, running in place) and build_lib
        # (what a wheel contains: build_py ran before build_ext).
        targets = [HERE / "src" / BUILD_INFO]
        if not self.inplace:
            targets.append(Path(self.build_lib) / BUILD_INFO)
        for target in targets:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            except OSError as exc:
                # A read-only source tree must not stop a wheel build.
                if target == targets[-1]:
                    raise
                _log(f"could not write {target}: {exc}")

    def get_outputs(self):
        outputs = super().get_outputs()
        if not self.inplace:
            outputs.append(str(Path(self.build_lib) / BUILD_INFO))
        return outputs


def _cython_version():
    try:
        import Cython

        return Cython.__version__
    except ImportError:
        return "unknown"


setup(
    ext_modules=_extensions(),
    cmdclass={"build_ext": BuildExt},
)
