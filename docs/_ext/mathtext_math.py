"""Sphinx extension: render ``:math:`` and ``.. math::`` offline, with matplotlib.

Sphinx's default HTML math renderer, MathJax, loads its JavaScript from a
CDN: without a network the formulas stay raw LaTeX. This renderer draws
each formula at build time with matplotlib's mathtext (a TeX subset, no
LaTeX installation) as an SVG of paths, embedded in the page as a data URI,
so the pages show their formulas with no network and no JavaScript.

Use: add ``"mathtext_math"`` to ``extensions`` and set
``html_math_renderer = "mathtext"``. The ``alt`` text of each image is the
LaTeX source (searchable, readable by screen readers).
"""

import base64
import functools
import html
import io

from docutils import nodes

INLINE_PT = 12.0   # the body text size of the theme (16 px)
BLOCK_PT = 14.0


@functools.lru_cache(maxsize=None)
def render(latex, size):
    """(svg bytes, width pt, height pt, depth pt) of ``latex`` at ``size`` points."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import mathtext, rc_context
    from matplotlib.font_manager import FontProperties

    text = "$" + " ".join(latex.split()) + "$"
    prop = FontProperties(size=size, math_fontfamily="cm")  # Computer Modern
    buf = io.BytesIO()
    with rc_context({"svg.fonttype": "path",
                     "svg.hashsalt": "fastlrn", "svg.id": None}):
        parser = mathtext.MathTextParser("path")
        width, height, depth, _, _ = parser.parse(text, dpi=72, prop=prop)
        mathtext.math_to_image(text, buf, prop=prop, dpi=72, format="svg")
    return buf.getvalue(), width, height, depth


def _img(latex, size, cls, extra_style=""):
    svg, width, height, depth = render(latex, size)
    data = base64.b64encode(svg).decode("ascii")
    style = f"width:{width:.2f}pt;height:{height:.2f}pt;{extra_style}"
    if cls == "math-inline":
        style += f"vertical-align:{-depth:.2f}pt;"
    return (f'<img class="{cls}" src="data:image/svg+xml;base64,{data}" '
            f'alt="{html.escape(latex, quote=True)}" style="{style}"/>')


def visit_math(self, node):
    self.body.append(_img(node.astext(), INLINE_PT, "math-inline"))
    raise nodes.SkipNode


def visit_math_block(self, node):
    # One formula per line of the block (mathtext has no multi-line layout).
    lines = [ln for ln in node.astext().split("\n\n") if ln.strip()]
    parts = [_img(ln, BLOCK_PT, "math-display") for ln in lines]
    ident = node["ids"][0] if node.get("ids") else None
    attr = f' id="{ident}"' if ident else ""
    self.body.append(f'<div class="math-block"{attr}>' + "<br/>".join(parts) + "</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathtext", (visit_math, None), (visit_math_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
