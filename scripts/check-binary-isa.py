#!/usr/bin/env python3
"""Lists the x86-64 instruction-set extensions that ELF binaries use, and fails when they use one this
CPU lacks, or AVX-512 on any CPU.

A prebuilt binary compiled with -march=native on an AVX-512 machine dies with SIGILL on an AVX2-only
one; a machine that has AVX-512 would never notice, so the binaries are read, not only run.

usage: check-binary-isa.py [--json] FILE_OR_DIR...
Exit 0: fine; 1: a binary needs what this CPU lacks or uses AVX-512 (one line per cause on stderr);
2: usage error or objdump missing. Disassembles with binutils' objdump.
"""
import json
import os
import re
import shutil
import subprocess
import sys

# Extensions we refuse even on a CPU that has them: CI and users' machines may not.
FORBIDDEN = ("avx512",)

# Register operands that only an extension can encode.
AVX512_REG = re.compile(r"%zmm\d|%k[0-7]\b|%[xy]mm(?:1[6-9]|2\d|3[01])\b|\{1to\d+\}")
YMM = re.compile(r"%ymm\d")
XMM = re.compile(r"%xmm\d")

# Mnemonic prefixes that belong to one extension, checked in this order (first match wins).
MNEMONICS = [
    ("avx512", r"vpternlog|vpermt2|vpermi2|vpcompress|vpexpand|vcompressp|vexpandp|vpro[lr][dq]|vpmov[dqw][bwdq]|vmovdq[au](?:8|16|32|64)\b|vpbroadcastm|vpconflict|vplzcnt|vrndscale|vgetexp|vgetmant|vscalef|vfixupimm|vrange|vreduce|vdbpsadbw|vpmultishift|vpdpbusd|vpdpwssd|vpopcnt[bwdq]|vpshld|vpshrd|kmov|kand|kor|kxor|knot|kshift|kortest|ktest|kadd|kunpck"),
    ("fma", r"vf(?:n?m(?:add|sub)|maddsub|msubadd)\d{3}"),
    ("f16c", r"vcvtph2ps|vcvtps2ph"),
    ("bmi2", r"(?:bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx)\b"),
    ("bmi1", r"(?:andn|blsi|blsmsk|blsr|tzcnt)\b"),
    ("abm", r"lzcnt\b"),
    ("popcnt", r"popcnt\b"),
    ("movbe", r"movbe\b"),
    ("avx2", r"vpbroadcast|vperm2i128|vpermd\b|vpermq\b|vpermps\b|vinserti128|vextracti128|v?p?gather|vpmaskmov|vpsllv|vpsrlv|vpsrav|vpblendd"),
    ("sse4_2", r"pcmp[ei]str[im]|crc32[bwlq]?\b|pcmpgtq"),
    ("sse4_1", r"v?(?:pblendw|blendv?p[sd]|pblendvb|dpp[sd]|extractps|insertps|pextr[bdq]\b|pinsr[bdq]\b|pmax(?:sb|sd|ud|uw)|pmin(?:sb|sd|ud|uw)|pmovsx|pmovzx|pmuldq|pmulld|ptest|round[ps][sd]|packusdw|pcmpeqq|movntdqa|mpsadbw|phminposuw)"),
    ("ssse3", r"v?(?:pabs[bwd]|palignr|phadd[wd]|phaddsw|phsub[wd]|phsubsw|pmaddubsw|pmulhrsw|pshufb|psign[bwd])\b"),
]
MNEMONIC_RES = [(ext, re.compile(r"^(?:" + pat + r")")) for ext, pat in MNEMONICS]

# AVX2 widened the integer instructions to ymm: a VEX integer op (vp*) on ymm registers needs AVX2.
YMM_INT = re.compile(r"^vp(?!erm2f128|ermilp|ermps|ermpd)")


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def has(flags, ext):
    if ext == "avx512":
        return any(f.startswith("avx512") for f in flags)
    if ext == "sse4_1":
        return "sse4_1" in flags
    if ext == "sse4_2":
        return "sse4_2" in flags
    if ext == "bmi1":
        return "bmi1" in flags
    return ext in flags


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def binaries(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _dirs, files in os.walk(p):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if not os.path.islink(full) and is_elf(full):
                        yield full
        elif is_elf(p):
            yield p


def scan(path):
    """Extension -> (count, first example instruction) for one binary."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True, text=True)
    found = {}

    def note(ext, insn):
        count, example = found.get(ext, (0, insn))
        found[ext] = (count + 1, example)

    for line in out.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].rstrip().endswith(":"):
            continue
        insn = parts[-1].strip()
        if not insn:
            continue
        mnemonic = insn.split()[0]
        operands = insn[len(mnemonic):]
        if AVX512_REG.search(operands):
            note("avx512", insn)
            continue
        ext = next((e for e, rx in MNEMONIC_RES if rx.match(mnemonic)), None)
        if ext:
            note(ext, insn)
            if ext != "avx2":
                continue
        if YMM.search(operands):
            note("avx2" if YMM_INT.match(mnemonic) else "avx", insn)
        elif mnemonic.startswith("v") and XMM.search(operands):
            note("avx", insn)
    return found


def main(argv):
    as_json = "--json" in argv
    paths = [a for a in argv if a != "--json"]
    if not paths:
        print(__doc__.strip().splitlines()[-4], file=sys.stderr)
        return 2
    if not shutil.which("objdump"):
        print("check-binary-isa: objdump (binutils) is needed", file=sys.stderr)
        return 2
    flags = cpu_flags()
    report = {}
    problems = []
    for path in binaries(paths):
        found = scan(path)
        report[path] = {ext: n for ext, (n, _ex) in found.items()}
        for ext, (n, example) in sorted(found.items()):
            if ext.startswith(FORBIDDEN):
                problems.append(f"{path}: uses {ext.upper()} ({n} instructions, e.g. '{example}'), which many x86-64 CPUs lack")
            elif flags is not None and not has(flags, ext):
                problems.append(f"{path}: uses {ext} ({n} instructions, e.g. '{example}'), which this CPU lacks")
    if as_json:
        print(json.dumps({"binaries": report, "problems": problems}, indent=1))
    else:
        needed = sorted({ext for exts in report.values() for ext in exts})
        print(f"check-binary-isa: {len(report)} binaries; extensions used: {', '.join(needed) or 'baseline x86-64 only'}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
