#!/usr/bin/env python3
"""Cross-checks the decoder's instruction lengths against GNU objdump.

Slow and randomised, so not part of the unit suite; run it after changing
the opcode tables:

    tests/unit/tcg/check_objdump.py build-tcg/tests/unit/tcg/decode-tool [N] [SEED]

Each sample is 15 bytes (random legacy prefixes, REX in 64-bit mode, an
opcode from one of the maps, random tail) placed at the start of a 64-byte
slot padded with NOPs, so objdump is back in step at every slot. Samples
both decoders accept must agree on the length; the others are summarised
by opcode so that deliberate differences (AVX, VMX, ...) stand out.
"""
import collections
import random
import re
import subprocess
import sys
import tempfile

PREFIXES = [0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x2E, 0x3E, 0x26, 0x36, 0x64, 0x65]
MACHINE = {16: "i8086", 32: "i386", 64: "i386:x86-64"}
SLOT = 64
VERBOSE = False


def sample(rng, mode):
    b = []
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
        b.append(rng.choice(PREFIXES))
    if mode == 64 and rng.random() < 0.4:
        b.append(0x40 | rng.randrange(16))
    kind = rng.random()
    if kind < 0.45:
        op = rng.randrange(256)
        # prefixes and REX are already covered above
        # objdump treats FWAIT as a prefix of the next instruction
        while op in PREFIXES or op in (0x0F, 0x9B) or (mode == 64 and 0x40 <= op <= 0x4F):
            op = rng.randrange(256)
        b.append(op)
    elif kind < 0.85:
        b += [0x0F, rng.choice([x for x in range(256) if x not in (0x38, 0x3A)])]
    else:
        b += [0x0F, rng.choice([0x38, 0x3A]), rng.randrange(256)]
    while len(b) < 15:
        # bias ModRM towards interesting forms
        b.append(rng.randrange(256))
    return bytes(b[:15])


def objdump_lengths(blob, mode):
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(blob)
        f.flush()
        out = subprocess.run(
            ["objdump", "-D", "-b", "binary", "-m", MACHINE[mode], "-M", "intel",
             "--insn-width=16"] + (["-M", "intel64"] if mode == 64 else []) + [f.name],
            capture_output=True, text=True, check=True).stdout
    res = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$", line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        if addr % SLOT == 0:
            res[addr // SLOT] = (len(m.group(2).split()), m.group(3).strip())
    return res


def main():
    global VERBOSE
    if sys.argv[1] == "-v":
        VERBOSE = True
        del sys.argv[1]
    tool = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    failures = 0
    for mode in (64, 32, 16):
        samples = [sample(rng, mode) for _ in range(n)]
        blob = b"".join(s + b"\x90" * (SLOT - len(s)) for s in samples)
        theirs = objdump_lengths(blob, mode)
        ours = subprocess.run([tool, str(mode)], input="".join(s.hex() + "\n" for s in samples),
                              capture_output=True, text=True, check=True).stdout.splitlines()
        only_theirs = collections.Counter()
        only_ours = collections.Counter()
        agree = 0
        for i, s in enumerate(samples):
            st, ln, text = ours[i].split(" ", 2)
            st, ln = int(st), int(ln)
            tl, ttext = theirs.get(i, (0, "(missing)"))
            bad = "(bad)" in ttext or ttext.startswith(".byte") or "(missing)" in ttext
            if st == 0 and not bad:
                if ln != tl:
                    failures += 1
                    print(f"mode {mode}: {s[:max(ln, tl)].hex(' ')}: ours {ln} '{text}',"
                          f" objdump {tl} '{ttext}'")
                else:
                    agree += 1
            elif st == 0 and bad:
                only_ours[text.split(" ")[0]] += 1
                if VERBOSE:
                    print(f"mode {mode}: only ours: {s.hex(' ')}: {text} (objdump {ttext})")
            elif st != 0 and not bad:
                only_theirs[ttext.split(" ")[0]] += 1
                if VERBOSE:
                    print(f"mode {mode}: only objdump: {s.hex(' ')}: {ttext} (ours {st})")
        print(f"mode {mode}: {agree} lengths agree; accepted only by us: "
              f"{dict(only_ours.most_common(12))}")
        print(f"mode {mode}: accepted only by objdump: {dict(only_theirs.most_common(40))}")
    print(f"{failures} length mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
