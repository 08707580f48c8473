"""Sphinx configuration of the fastlrn documentation.

Build: ``pip install ".[docs]" && sphinx-build -W -b html docs docs/_build/html``.
No network access is needed, at build or view time: no intersphinx, and the
formulas are drawn by matplotlib (``_ext/mathtext_math.py``) instead of
MathJax, which would load from a CDN. The figures are drawn at build
time by ``_ext/lrn_figures.py`` (window pictures, from
``fastlrn.reference.window``) and ``_ext/bench_plots.py`` (copies the
benchmark plots of ``benchmarks/`` into the build, when there are any).
"""

import os
import sys

import fastlrn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))

project = "fastlrn"
author = "the fastlrn developers"
copyright = "fastlrn developers"
release = fastlrn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "mathtext_math",  # formulas drawn offline by matplotlib (no MathJax CDN)
    "numpydoc",
    "myst_parser",
    "lrn_figures",
    "bench_plots",
    "integrations_api",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated/*.rst", "Thumbs.db", ".DS_Store"]
templates_path = []

# -- autodoc / autosummary / numpydoc ----------------------------------------
# The API pages name every object explicitly (autofunction, automodule): no
# stub files are generated into the source tree.
autosummary_generate = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc Parameters sections say it all
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc's validation as build warnings (errors under -W): every public
# function documents all its parameters, its return value and has Examples.
numpydoc_validation_checks = {"PR01", "PR02", "RT01", "EX01", "SS01"}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.LONGDOUBLE_IS_EXTENDED$",  # a constant: nothing to exemplify
}

# -- MyST (docs/conventions.md) ----------------------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# -- HTML -----------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fastlrn {release}"
html_static_path = ["_static"]
html_css_files = ["fastlrn.css"]
html_math_renderer = "mathtext"
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    # No network at build or view time: no external icon links, no version switcher.
    "icon_links": [],
}
html_context = {"default_mode": "light"}
# The left sidebar lists a section's sub-pages: only the API reference has any.
html_sidebars = {page: [] for page in
                 ("index", "user_guide", "conventions", "numerics", "performance", "building")}
