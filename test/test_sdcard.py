"""Issue 12: the HiFive images. build/firmware-s.bin is a U-Boot booti
image (the 64-byte RISC-V Image header at its load address), and
`make sdcard` writes a GPT card image with U-Boot's HiFive layout: the
SPL and u-boot.itb partitions (type GUIDs, sectors, contents byte-exact)
and a bootable FAT partition holding firmware-s.bin and boot.scr. The
SPL and ITB are stand-ins (random bytes): only their placement matters.
Tools: sgdisk (gdisk), mtools, dosfstools, mkimage (u-boot-tools)."""
import os
import re
import struct
import subprocess
import sys
import tempfile
from guest import ROOT, Runner

BUILD = os.path.join(ROOT, "build")
SECTOR = 512
# U-Boot's doc/board/sifive/unmatched.rst and unleashed.rst.
PARTS = {
    1: (34, 2081, "5B193300-FC78-40CD-8002-E86C45580B47"),
    2: (2082, 10273, "2E54B353-1271-4842-806F-E436D6AF6985"),
    3: (16384, None, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"),
}
TMP = tempfile.mkdtemp(prefix="rvnet-sdcard-")


def run(*cmd, check=True):
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check:
        assert p.returncode == 0, f"{' '.join(cmd)}: exit {p.returncode}\n{p.stdout[-1500:]}"
    return p


def stand_in(name, size, seed):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(bytes((i * 131 + seed * 7 + (i >> 9)) & 255 for i in range(size)))
    return path


def header(path):
    with open(path, "rb") as f:
        h = f.read(64)
    names = ("code0 code1 text_offset image_size flags version res1 res2 magic magic2 res3")
    return dict(zip(names.split(), struct.unpack("<IIQQQIIQ8s4sI", h)))


def symbol(elf, name):
    out = run("riscv64-unknown-elf-nm", elf).stdout
    m = re.search(r"^([0-9a-f]+) \w " + re.escape(name) + "$", out, re.M)
    assert m, f"no {name} in {elf}"
    return int(m.group(1), 16)


def image_header(mode):
    """The header as booti reads it: magic2, version 0.2, little endian,
    text_offset where the image is linked (RAM + 0x200000 for S-mode),
    image_size covering bss, noinit and stack; code0 a `j` over it."""
    name = "firmware-s" if mode == "s" else "firmware"
    elf = os.path.join(BUILD, name + ".elf")
    h = header(os.path.join(BUILD, name + ".bin"))
    assert h["magic2"] == b"RSC\x05", h
    assert h["magic"] == b"RISCV\0\0\0", h
    assert h["version"] == 2 and h["flags"] == 0 and h["res3"] == 0, h
    base = symbol(elf, "_start")
    assert h["text_offset"] == base - 0x80000000 == (0x200000 if mode == "s" else 0), h
    assert h["image_size"] == symbol(elf, "__stack_top") - base, h
    assert h["image_size"] > os.path.getsize(os.path.join(BUILD, name + ".bin")), "bss not counted"
    # jal x0, +64: J-type immediate 64 = imm[10:1] = 32, rd = 0, opcode 0x6f.
    assert h["code0"] == (32 << 21) | 0x6F, hex(h["code0"])


def make_card(spl, itb, out=None):
    return run("make", "-s", "sdcard", f"SPL={spl}", f"ITB={itb}", check=False)


def sgdisk(*args):
    return run("sgdisk", *args, os.path.join(BUILD, "sdcard.img")).stdout


def layout():
    spl = stand_in("u-boot-spl.bin", 100_003, 1)
    itb = stand_in("u-boot.itb", 1_234_567, 2)
    p = make_card(spl, itb)
    assert p.returncode == 0, p.stdout[-1500:]
    img = os.path.join(BUILD, "sdcard.img")
    assert "No problems found" in sgdisk("-v"), sgdisk("-v")
    table = sgdisk("-p")
    rows = re.findall(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s", table, re.M)
    assert [int(r[0]) for r in rows] == [1, 2, 3], table
    for num, (start, end, guid) in PARTS.items():
        info = sgdisk("-i", str(num))
        assert f"Partition GUID code: {guid}" in info, info
        s = int(re.search(r"First sector: (\d+)", info).group(1))
        e = int(re.search(r"Last sector: (\d+)", info).group(1))
        assert s == start and (end is None or e == end), f"partition {num}: {s}-{e}"
        if num == 3:
            flags = int(re.search(r"Attribute flags: ([0-9A-Fa-f]+)", info).group(1), 16)
            assert flags & 4, "FAT partition not marked legacy BIOS bootable (U-Boot skips it)"
            fat_sectors = e - s + 1
    with open(img, "rb") as f:
        data = f.read()
    for num, src in ((1, spl), (2, itb)):
        start, end, _ = PARTS[num]
        part = data[start * SECTOR:(end + 1) * SECTOR]
        want = open(src, "rb").read()
        assert part[:len(want)] == want, f"partition {num} does not hold {os.path.basename(src)}"
        assert part[len(want):] == bytes(len(part) - len(want)), f"partition {num}: junk after it"
    # The FAT, read in place through mtools' offset syntax, as on the card.
    fat = f"{img}@@{PARTS[3][0] * SECTOR}"
    listing = run("mdir", "-i", fat, "-b", "::").stdout.split()
    assert sorted(listing) == ["::/boot.scr", "::/firmware-s.bin"], listing
    for name in ("firmware-s.bin", "boot.scr"):
        out = os.path.join(TMP, "got-" + name)
        run("mcopy", "-n", "-i", fat, "::" + name, out)
        assert open(out, "rb").read() == open(os.path.join(BUILD, name), "rb").read(), name
    part3 = os.path.join(TMP, "part3.img")
    with open(part3, "wb") as f:
        f.write(data[PARTS[3][0] * SECTOR:(PARTS[3][0] + fat_sectors) * SECTOR])
    run("fsck.fat", "-n", part3)
    # boot.scr is a U-Boot script image of boot.cmd.
    text = run("mkimage", "-l", os.path.join(BUILD, "boot.scr")).stdout
    assert "Script" in text, text


def too_big():
    """Partition 1 holds 1 MiB, partition 2 4 MiB: a bigger SPL or ITB would
    overwrite its neighbour; the image must not be made."""
    ok_itb = stand_in("itb-ok.bin", 1000, 3)
    big = stand_in("spl-big.bin", 2048 * SECTOR + 1, 4)
    img = os.path.join(BUILD, "sdcard.img")
    if os.path.exists(img):
        os.unlink(img)
    p = make_card(big, ok_itb)
    assert p.returncode != 0 and "its partition holds 1048576" in p.stdout, p.stdout[-800:]
    assert not os.path.exists(img), "an image was written anyway"
    p = make_card(ok_itb, stand_in("itb-big.bin", 8192 * SECTOR + 1, 5))
    assert p.returncode != 0 and "its partition holds 4194304" in p.stdout, p.stdout[-800:]


def usage():
    p = run("make", "-s", "sdcard", check=False)
    assert p.returncode != 0 and "usage: make sdcard SPL=" in p.stdout, p.stdout[-800:]
    p = make_card("/nonexistent/spl", "/nonexistent/itb")
    assert p.returncode != 0 and "no such file" in p.stdout, p.stdout[-800:]


if __name__ == "__main__":
    r = Runner("sdcard")
    r.run("image-header-s", image_header, "s")
    r.run("image-header-m", image_header, "m")
    r.run("layout", layout)
    r.run("too-big", too_big)
    r.run("usage", usage)
    subprocess.run(["rm", "-rf", TMP])
    sys.exit(r.done())
