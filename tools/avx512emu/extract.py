"""extract.py SRCDIR OUT.h: the verbatim C blocks of fastlrn's kernel sources, in include order."""
import sys, re, textwrap
src, out = sys.argv[1], sys.argv[2]
parts = []
for f in ("_common.pxd", "_across_forward.pxi", "_within_forward.pxi"):
    s = open(f"{src}/src/fastlrn/_kernels/{f}").read()
    for m in re.finditer(r'cdef extern from \*:\n    """\n(.*?)\n    """', s, re.S):
        parts.append(f"/* ---- {f} ---- */\n" + textwrap.dedent(m.group(1)))
open(out, "w").write("\n".join(parts) + "\n")
print(out, sum(p.count("\n") for p in parts), "lines")
