"""Sphinx extension: put the published benchmark plots on the performance page.

At build time every ``benchmarks/*.png`` of the repository is copied to
``docs/_generated/bench/`` and ``docs/_generated/bench_plots.rst`` is written
with one figure per plot (or, while ``benchmarks/`` has none, a sentence
saying where the plots come from); ``performance.rst`` includes that file.
The page therefore always shows the plots that are committed, and a missing
plot is never a broken image (a build warning, an error under ``-W``).
"""

import glob
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.dirname(HERE)
BENCHMARKS = os.path.join(os.path.dirname(DOCS), "benchmarks")
OUT = os.path.join(DOCS, "_generated")

NO_PLOTS = """\
.. note::

   No plot has been published yet: ``benchmarks/`` holds no PNG. A plot is
   made by ``python -m fastlrn bench --plot benchmarks/results-NAME.png``
   (a bar chart of "x copy" per workload and thread count, for fastlrn and
   every peer installed; ``--json benchmarks/results-NAME.json`` keeps the
   numbers, machine and build beside it). Every committed
   ``benchmarks/*.png`` appears here when the documentation is built.
"""


def _caption(name):
    stem = os.path.splitext(name)[0]
    return f"``benchmarks/{name}``: " + stem.replace("_", " ").replace("-", " ")


def write_plots(out=OUT, benchmarks=BENCHMARKS):
    """Copy the plots and write the reST snippet; return the plot file names."""
    dest = os.path.join(out, "bench")
    os.makedirs(dest, exist_ok=True)
    for old in glob.glob(os.path.join(dest, "*.png")):
        os.remove(old)
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(benchmarks, "*.png")))
    parts = []
    for name in names:
        shutil.copy2(os.path.join(benchmarks, name), os.path.join(dest, name))
        parts.append(f".. figure:: /_generated/bench/{name}\n"
                     f"   :width: 100%\n"
                     f"   :alt: benchmark plot {name}\n\n"
                     f"   {_caption(name)}\n")
    text = "\n".join(parts) if parts else NO_PLOTS
    path = os.path.join(out, "bench_plots.rst")
    # Rewrite only on change, so that an unchanged page is not rebuilt.
    if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return names


def _on_builder_inited(app):
    write_plots()


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
