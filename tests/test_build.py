"""The installed build: OpenMP on, configuration reporting works."""

import os
import subprocess
import sys

import pytest

import fastlrn


def test_openmp_enabled():
    cfg = fastlrn.config()
    assert cfg["openmp"] in (True, False), cfg["openmp"]
    # CI and release builds must have OpenMP (.ci/run sets the variable);
    # a local serial build is legitimate, so elsewhere this only skips.
    required = os.environ.get("FASTLRN_REQUIRE_OPENMP") == "1" or bool(os.environ.get("CI"))
    if not cfg["openmp"] and not required:
        pytest.skip("fastlrn was built without OpenMP (set FASTLRN_REQUIRE_OPENMP=1 "
                    "to make this a failure)")
    assert cfg["openmp"] is True
    assert isinstance(cfg["default_num_threads"], int)
    assert cfg["default_num_threads"] >= 1


def test_config_keys():
    cfg = fastlrn.config()
    for key in ("version", "openmp", "default_num_threads"):
        assert key in cfg, key
    assert cfg["version"] == fastlrn.__version__


def test_show_config_prints(capsys):
    assert fastlrn.show_config() is None
    out = capsys.readouterr().out
    assert "openmp" in out.lower()
    assert fastlrn.__version__ in out


def test_python_m_fastlrn_info():
    proc = subprocess.run([sys.executable, "-m", "fastlrn", "info"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "openmp" in proc.stdout.lower()
    assert fastlrn.__version__ in proc.stdout
