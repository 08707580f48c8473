"""emu.py PROG.elf OUTDIR SYMBOL...: run a static, non-PIE x86-64 program (entry _start,
ending in hlt) under Bochs's CPU emulation (bochscpu) with AVX-512 enabled, then write
each SYMBOL's bytes to OUTDIR/SYMBOL.bin. Run with LD_PRELOAD=libisoc23.so (the wheel
wants glibc 2.38's __isoc23_* symbols)."""
import os, subprocess, sys, time, struct
import bochscpu, bochscpu.cpu, bochscpu.memory

PAGE = bochscpu.memory.page_size()
elf, outdir, syms = sys.argv[1], sys.argv[2], sys.argv[3:]
data = open(elf, "rb").read()
# program headers (ELF64)
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
entry, = struct.unpack_from("<Q", data, 0x18)
segs = []
for i in range(phnum):
    p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align = \
        struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
    if p_type == 1:
        segs.append((p_vaddr, data[p_offset:p_offset + p_filesz], p_memsz))
symtab = {}
for line in subprocess.run(["nm", "-S", elf], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) == 4:
        symtab[f[3]] = (int(f[0], 16), int(f[1], 16))

failed = []
def missing_page(gpa):
    raise RuntimeError(f"missing page gpa={gpa:#x}")
def on_exception(sess, cpu_id, vector, error_code):
    failed.append((vector, error_code, sess.cpu.rip))
    sess.stop()
count = [0]
def after(sess, cpu_id, insn):
    count[0] += 1

sess = bochscpu.Session()
sess.missing_page_handler = missing_page
pt = bochscpu.memory.PageMapLevel4Table()
hvas = {}
def map_page(gva, gpa):
    if gva in hvas:
        return
    hva = bochscpu.memory.allocate_host_page()
    bochscpu.memory.page_insert(gpa, hva)
    pt.insert(gva, gpa, 1)
    hvas[gva] = hva
GPA0 = 0x1000_0000
for vaddr, _, memsz in segs:
    for a in range(vaddr & ~(PAGE - 1), vaddr + memsz, PAGE):
        map_page(a, GPA0 + a)
STACK, NSTACK = 0x7000_0000, 256          # 1 MiB of stack
for i in range(NSTACK):
    map_page(STACK + i * PAGE, GPA0 + STACK + i * PAGE)
pml4 = 0x100_0000
for hva, gpa in pt.commit(pml4):
    bochscpu.memory.page_insert(gpa, hva)
for vaddr, blob, memsz in segs:
    if blob:
        assert bochscpu.memory.virt_write(pml4, vaddr, list(blob))
    if memsz > len(blob):       # .bss: pages are fresh (zero), write zeros anyway
        z = bytes(memsz - len(blob))
        assert bochscpu.memory.virt_write(pml4, vaddr + len(blob), list(z))

state = bochscpu.State()
bochscpu.cpu.set_long_mode(state)
state.cr3 = pml4
state.cr4 = state.cr4 | (1 << 9) | (1 << 10) | (1 << 18)   # OSFXSR, OSXMMEXCPT, OSXSAVE
state.xcr0 = 0xE7                                        # x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM
state.mxcsr = 0x1F80
state.rsp = STACK + NSTACK * PAGE - 64
state.rip = entry
cs = bochscpu.Segment(); cs.present = True; cs.selector = 0x33; cs.base = 0
cs.limit = 0xFFFF_FFFF; cs.attr = 0x22FB; state.cs = cs
ds = bochscpu.Segment(); ds.present = True; ds.selector = 0x2B; ds.base = 0
ds.limit = 0xFFFF_FFFF; ds.attr = 0xCF3
state.ds = ds; state.ss = ds; state.es = ds; state.fs = ds; state.gs = ds
sess.cpu.state = state
hook = bochscpu.Hook()
hook.exception = on_exception
if os.environ.get("EMU_COUNT"):
    hook.after_execution = after
t0 = time.time()
sess.run([hook])
dt = time.time() - t0
rip = sess.cpu.state.rip
# the program ends in hlt, which ring 3 may not run: the #GP (13) it raises there
# is the normal end; anything else is a failure
if failed and failed[0][0] == 13:
    at = failed[0][2]
    if b"\xf4" in (bytes(bochscpu.memory.virt_read(pml4, at, 1)),
                    bytes(bochscpu.memory.virt_read(pml4, at - 1, 1))):
        failed = []
if failed:
    print(f"EMULATION FAILED: exception {failed[0][0]} (error {failed[0][1]}) at rip {failed[0][2]:#x}")
    sys.exit(1)
print(f"stopped at rip {rip:#x} after {dt:.1f} s" + (f", {count[0]} instructions" if count[0] else ""))
os.makedirs(outdir, exist_ok=True)
for s in syms:
    a, n = symtab[s]
    open(os.path.join(outdir, s + ".bin"), "wb").write(bytes(bochscpu.memory.virt_read(pml4, a, n)))
# the wheel's objects crash the interpreter's teardown now and then (nanobind
# reports leaked references): leave without it, the outputs are written
sys.stdout.flush()
os._exit(0)
