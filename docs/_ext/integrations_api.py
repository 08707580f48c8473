"""Sphinx extension: the API page of ``fastlrn.torch`` and ``fastlrn.dask``.

Those modules import PyTorch and Dask, which a documentation build may not
have. At build time this writes ``docs/_generated/integrations_api.rst``:
autodoc directives for each integration that imports, and for one that does
not, a note saying why its reference is missing from this build (CI installs
both, so the published site has them). A missing optional framework is
never a broken autodoc import (a warning, an error under ``-W``).
"""

import importlib
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "_generated")

INTEGRATIONS = [
    # (module, framework, title, public names, what it is)
    ("fastlrn.torch", "PyTorch", "PyTorch: ``fastlrn.torch``",
     [("autofunction", "local_response_norm"), ("autoclass", "LocalResponseNorm")],
     'pip install "fastlrn[torch]"'),
    ("fastlrn.dask", "Dask", "Dask: ``fastlrn.dask``",
     [("autofunction", "lrn"), ("autofunction", "lrn_backward")],
     'pip install "fastlrn[dask]"'),
]


def _section(module, framework, title, names, install):
    lines = [title, "-" * len(title), ""]
    if importlib.util.find_spec(module) is None:
        lines += [".. note::", "",
                  f"   ``{module}`` is not built yet: this release has no {framework} "
                  "integration.", ""]
        return lines
    try:
        importlib.import_module(module)
    except ImportError:
        lines += [".. note::", "",
                  f"   ``{module}`` needs {framework}, which was not installed when this "
                  f"documentation was built, so its reference is missing here "
                  f"(``{install}``).", ""]
        return lines
    lines += [f".. automodule:: {module}", ""]
    for directive, name in names:
        opts = ["   :members:", ""] if directive == "autoclass" else [""]
        lines += [f".. {directive}:: {module}.{name}"] + opts
    return lines


def write_page(out=OUT):
    os.makedirs(out, exist_ok=True)
    lines = []
    for spec in INTEGRATIONS:
        lines += _section(*spec)
    text = "\n".join(lines)
    path = os.path.join(out, "integrations_api.rst")
    if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def _on_builder_inited(app):
    write_page()


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
