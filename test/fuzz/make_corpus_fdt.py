#!/usr/bin/env python3
"""Seed corpus for test/fuzz/fuzz_fdt.c: [target byte][input]. Deterministic;
run from anywhere:
    python3 test/fuzz/make_corpus_fdt.py [outdir]   (default: test/fuzz/corpus_fdt)
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")


def fdt(root, version=17):
    """A blob from nested (name, [(prop, value)], [children]) tuples."""
    strings, st = b"", b""

    def name_off(p):
        nonlocal strings
        if p.encode() + b"\0" not in strings:
            strings += p.encode() + b"\0"
        return strings.index(p.encode() + b"\0")

    def node(n):
        name, props, kids = n
        out = struct.pack(">I", 1) + (name.encode() + b"\0").ljust((len(name) + 4) & ~3, b"\0")
        for p, v in props:
            out += struct.pack(">III", 3, len(v), name_off(p)) + v.ljust((len(v) + 3) & ~3, b"\0")
        return out + b"".join(node(k) for k in kids) + struct.pack(">I", 2)

    st = node(root) + struct.pack(">I", 9)
    off_st = 40 + 16  # header, then an empty memory reservation map
    total = off_st + len(st) + len(strings)
    hdr = struct.pack(">10I", 0xD00DFEED, total, off_st, off_st + len(st), 40, version, 16, 0,
                      len(strings), len(st))
    return hdr + b"\0" * 16 + st + strings


def u32(*v):
    return struct.pack(">%dI" % len(v), *v)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus_fdt")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    c = {}

    for name in sorted(f for f in os.listdir(FIXTURES) if f.endswith(".dtb")):
        with open(os.path.join(FIXTURES, name), "rb") as f:
            c["fdt_" + name[:-4]] = b"\0" + f.read()
    v16 = bytearray(c["fdt_virt"])
    v16[1 + 20:1 + 24] = u32(16)  # no size_dt_struct: the reader works it out
    c["fdt_virt_v16"] = bytes(v16)

    # more virtio nodes than the reader keeps, a bootargs longer than its
    # buffer, and nesting near the reader's depth limit
    mmio = [("virtio_mmio@%x" % (0x10001000 + 0x1000 * i),
             [("compatible", b"virtio,mmio\0"), ("reg", u32(0, 0x10001000 + 0x1000 * i, 0, 0x1000)),
              ("interrupts", u32(1 + i))], []) for i in range(10)]
    deep = ("d", [], [])
    for _ in range(14):
        deep = ("d", [("#address-cells", u32(1))], [deep])
    args = ("console=ttyS0 " * 20 + "ip=10.1.2.3/8 port=77").encode() + b"\0"
    c["fdt_handmade"] = b"\0" + fdt(("", [("#address-cells", u32(2)), ("#size-cells", u32(2))], [
        ("chosen", [("bootargs", args)], []),
        ("memory@80000000", [("device_type", b"memory\0"), ("reg", u32(0, 0x80000000, 0, 0x8000000))], []),
        ("soc", [("#address-cells", u32(2)), ("#size-cells", u32(2))], mmio), deep]))

    for i, s in enumerate((
            "console=ttyS0  ip=10.9.8.7/16 gw=10.9.0.1\tport=9 quiet",
            "ip=300.1.1.1 ip=1.2.3.4/0 ip=127.0.0.1 gw=224.0.0.1 port=0 port=65536 ip=1.2.3.4/33 gw=1.2.3",
            "ip=" + "1" * 100 + " port=0" + "9" * 70,
            "ip=1.2.3.4/32 port=65535 gw=1.2.3.4.5 ip=01.002.3.4/1")):
        c["args_%d" % i] = b"\1" + s.encode()
    for i, s in enumerate(("10.0.2.15", "255.255.255.255", "1.2.3.4.", "1..2.3", "0001.2.3.4")):
        c["ip_%d" % i] = b"\2" + s.encode()

    for name, data in sorted(c.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d files in %s" % (len(c), out))


if __name__ == "__main__":
    main()
