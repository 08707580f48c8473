"""Sphinx extension: draw the window pictures of the user guide at build time.

The windows are computed with ``fastlrn.reference.window``, the placement
the library itself uses, so the pictures cannot drift from the code. Output:
``docs/_generated/{across,within,window_1d}.png`` (ignored by git).

Run as a script to draw them without Sphinx: ``python docs/_ext/lrn_figures.py``.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "_generated")

CENTRE = "#1f4e79"      # the position p
WINDOW = "#9dc3e6"      # the rest of its window W(p)
PLAIN = "#ffffff"
EDGE = "#6b7b8c"
OUTSIDE = "#b0b0b0"     # clipped away: outside the array
DPI = 150


def _window(size):
    from fastlrn.reference import window
    return window(size)


def _cell(ax, corners, face, edge=EDGE, dashed=False, z=1):
    from matplotlib.patches import Polygon
    ax.add_patch(Polygon(corners, closed=True, facecolor=face, edgecolor=edge,
                         linewidth=0.8, linestyle="--" if dashed else "-", zorder=z))


def draw_across(path):
    """Channel planes side by side; the window is the same pixel in 5 neighbours."""
    import matplotlib.pyplot as plt

    C, H, W = 7, 5, 5
    c0, h0, w0, size = 3, 2, 2, 5
    lo, hi = _window(size)
    gap, sx, sy = 3.1, 0.5, 0.32   # plane spacing and the oblique depth axis
    fig, ax = plt.subplots(figsize=(7.6, 3.2))

    def corners(c, u, v):   # cell (row u from the top, column v) of plane c
        def pt(uu, vv):
            return (c * gap + vv * sx, (H - uu) + vv * sy)
        return [pt(u, v), pt(u, v + 1), pt(u + 1, v + 1), pt(u + 1, v)]

    for c in range(C):
        for u in range(H):
            for v in range(W):
                face = PLAIN
                if (u, v) == (h0, w0) and c0 - lo <= c <= c0 + hi:
                    face = CENTRE if c == c0 else WINDOW
                _cell(ax, corners(c, u, v), face)
        label = "c" if c == c0 else f"c {c - c0:+d}".replace("+", "+ ").replace("-", "- ")
        ax.text(c * gap + W * sx / 2, -0.4, label, ha="center", va="top", fontsize=9)
    xa, xb = (c0 - lo) * gap, (c0 + hi) * gap + W * sx
    ax.annotate("", xy=(xa, -1.5), xytext=(xb, -1.5),
                arrowprops=dict(arrowstyle="|-|", color=CENTRE, lw=1.2))
    ax.text((xa + xb) / 2, -1.9, f"size = {size}: channels [c - {lo}, c + {hi}] "
            "at the same (h, w)", ha="center", va="top", fontsize=9, color=CENTRE)
    ax.text(-0.2, H + W * sy + 0.35, "channel axis  \u2192", fontsize=9, va="bottom")
    ax.set_xlim(-0.4, (C - 1) * gap + W * sx + 0.4)
    ax.set_ylim(-2.9, H + W * sy + 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.05)
    plt.close(fig)


def draw_within(path):
    """One channel's plane; the window is a size x size box, clipped at the borders."""
    import matplotlib.pyplot as plt

    N = 7
    cases = [(3, (3, 3), "size = 3 (odd): symmetric"),
             (4, (3, 3), "size = 4 (even): one more\nrow and column before"),
             (5, (0, 1), "size = 5 near a corner:\nclipped (dashed: outside)")]
    fig, axes = plt.subplots(1, 3, figsize=(7.6, 3.0))
    for ax, (size, (i0, j0), title) in zip(axes, cases):
        lo, hi = _window(size)
        for i in range(i0 - lo, i0 + hi + 1):   # the part of the box outside the plane
            for j in range(j0 - lo, j0 + hi + 1):
                if not (0 <= i < N and 0 <= j < N):
                    _cell(ax, [(j, -i), (j + 1, -i), (j + 1, -i - 1), (j, -i - 1)],
                          "none", OUTSIDE, dashed=True, z=0)
        for i in range(N):
            for j in range(N):
                inside = i0 - lo <= i <= i0 + hi and j0 - lo <= j <= j0 + hi
                face = CENTRE if (i, j) == (i0, j0) else WINDOW if inside else PLAIN
                _cell(ax, [(j, -i), (j + 1, -i), (j + 1, -i - 1), (j, -i - 1)], face)
        ax.set_title(title, fontsize=9)
        ax.set_xlim(-2.2, N + 0.2)
        ax.set_ylim(-N - 0.2, 2.2)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle("within a channel: a box around (h, w) in the same channel's plane",
                 fontsize=9.5, y=0.99)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.05)
    plt.close(fig)


def draw_window_1d(path):
    """The window [i - lo, i + hi] along one axis for odd, even and clipped cases."""
    import matplotlib.pyplot as plt

    n = 10
    rows = [(5, 5), (4, 5), (5, 1), (2, 5)]
    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    for r, (size, i0) in enumerate(rows):
        lo, hi = _window(size)
        y = -r * 1.5
        for j in range(i0 - lo, i0 + hi + 1):
            if not 0 <= j < n:
                _cell(ax, [(j, y), (j + 1, y), (j + 1, y + 1), (j, y + 1)], "none",
                      OUTSIDE, dashed=True, z=0)
        for j in range(n):
            face = CENTRE if j == i0 else WINDOW if i0 - lo <= j <= i0 + hi else PLAIN
            _cell(ax, [(j, y), (j + 1, y), (j + 1, y + 1), (j, y + 1)], face)
            if r == 0:
                ax.text(j + 0.5, y + 1.15, str(j), ha="center", va="bottom", fontsize=8)
        kind = "odd" if size % 2 else "even"
        note = f"size {size} ({kind}), i = {i0}: [i - {lo}, i + {hi}]"
        if i0 - lo < 0:
            note += f" = [{i0 - lo}, {i0 + hi}], clipped to [0, {i0 + hi}]"
        else:
            note += f" = [{i0 - lo}, {i0 + hi}]"
        ax.text(n + 0.4, y + 0.5, note, va="center", fontsize=9)
    ax.set_xlim(-2.2, n + 9.5)
    ax.set_ylim(-len(rows) * 1.5 + 0.3, 1.7)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.05)
    plt.close(fig)


def draw_all(out=OUT):
    import matplotlib
    matplotlib.use("Agg")
    os.makedirs(out, exist_ok=True)
    draw_across(os.path.join(out, "across.png"))
    draw_within(os.path.join(out, "within.png"))
    draw_window_1d(os.path.join(out, "window_1d.png"))


def _on_builder_inited(app):
    draw_all()


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    draw_all()
