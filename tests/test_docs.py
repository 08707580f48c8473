"""The documentation's examples run, and every public function has some.

- Every docstring example of the public modules (``fastlrn``'s core,
  ``fastlrn.reference``, the six ``fastlrn.compat`` modules, ``fastlrn.io``,
  ``fastlrn.torch`` / ``fastlrn.dask`` where PyTorch / Dask import) runs as
  a doctest, one test per docstring.
- Every public function and class has a numpydoc ``Examples`` section with
  at least one ``>>>`` line. (The Sphinx build checks the other sections:
  ``numpydoc_validation_checks`` in ``docs/conf.py``, warnings as errors.)
- The examples on the documentation pages (``docs/*.rst``) run too, so the
  user guide cannot drift from the code.

This is how CI runs the doctests: ``pytest`` (the README's test command)
collects this file. The integrations' doctests follow the rule of the
framework tests: a missing framework is a skip, or a failure when the
``CI`` environment variable is set.
"""

import doctest
import importlib
import importlib.util
import inspect
import os
import pathlib
import warnings

import pytest

from fastlrn import reference

CORE_MODULES = [
    "fastlrn._api",          # lrn, lrn_backward (public as fastlrn.*)
    "fastlrn._config",       # config, show_config
    "fastlrn.reference",
    "fastlrn.compat",
    "fastlrn.compat.tensorflow",
    "fastlrn.compat.torch",
    "fastlrn.compat.onnx",
    "fastlrn.compat.caffe",
    "fastlrn.compat.onednn",
    "fastlrn.compat.mxnet",
    "fastlrn.io",            # apply, Summary (python -m fastlrn apply)
]
# Integration module -> the framework it needs.
OPTIONAL_MODULES = {"fastlrn.torch": "torch", "fastlrn.dask": "dask"}

# The public functions and classes, by module. fastlrn.reference's oracle
# functions are public too (the tests and users call them).
PUBLIC = {
    "fastlrn": ["lrn", "lrn_backward", "config", "show_config"],
    "fastlrn.reference": ["window", "lrn", "lrn_backward", "lrn_exact"],
    "fastlrn.io": ["apply", "Summary"],
}
COMPAT = ["tensorflow", "torch", "onnx", "caffe", "onednn", "mxnet"]

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"

# Doctests that need the x87 extended long double (see reference.lrn_exact).
NEEDS_EXTENDED = {"fastlrn.reference.lrn_exact"}


def _import(name):
    """Import ``name``; for an integration whose framework is missing, skip
    (fail under CI)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a framework's import-time notices
            return importlib.import_module(name)
    except ImportError as e:
        if name not in OPTIONAL_MODULES:
            raise
        if os.environ.get("CI"):
            pytest.fail(f"{name} must import in CI ({OPTIONAL_MODULES[name]} is "
                        f"installed there): {e}", pytrace=False)
        pytest.skip(f"{name} needs {OPTIONAL_MODULES[name]}: {e}")


def _modules():
    names = list(CORE_MODULES)
    for name in OPTIONAL_MODULES:
        if importlib.util.find_spec(name) is not None:  # the file exists
            names.append(name)
    return names


def _run(test):
    out = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=out.append, clear_globs=True)
    assert runner.failures == 0, "".join(out)


def _docstring_tests(module):
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module) if t.examples]


@pytest.mark.parametrize("module_name", _modules())
def test_docstring_examples(module_name):
    module = _import(module_name)
    tests = _docstring_tests(module)
    if module_name not in ("fastlrn.compat",):
        assert tests, f"{module_name} has no docstring examples"
    for test in sorted(tests, key=lambda t: t.name):
        if test.name in NEEDS_EXTENDED and not reference.LONGDOUBLE_IS_EXTENDED:
            continue
        _run(test)


def _public_objects():
    objs = []
    for mod, names in PUBLIC.items():
        objs += [(mod, n) for n in names]
    for fw in COMPAT:
        mod = f"fastlrn.compat.{fw}"
        objs += [(mod, n) for n in importlib.import_module(mod).__all__]
    for mod in OPTIONAL_MODULES:
        if importlib.util.find_spec(mod) is not None:
            objs.append((mod, None))  # names read from __all__ after import
    return objs


@pytest.mark.parametrize("module_name, name", _public_objects())
def test_public_function_has_examples(module_name, name):
    module = _import(module_name)
    names = [name] if name is not None else list(module.__all__)
    for n in names:
        obj = getattr(module, n)
        doc = inspect.getdoc(obj) or ""
        assert "Examples\n--------" in doc and ">>>" in doc, (
            f"{module_name}.{n} has no Examples section with a runnable example")


PAGES = sorted(p.name for p in DOCS.glob("*.rst")) if DOCS.is_dir() else []


@pytest.mark.skipif(not PAGES, reason="docs/ is not here (e.g. an sdist)")
@pytest.mark.parametrize("page", PAGES)
def test_page_examples(page):
    path = DOCS / page
    text = path.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, page, str(path), 0)
    _run(test)
