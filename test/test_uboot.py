"""Issue 12: the U-Boot path on QEMU sifive_u. Debian's u-boot-qemu
(qemu-riscv64_smode) runs there under OpenSBI; QEMU's loader puts
build/firmware-s.bin at ${kernel_addr_r} and build/boot.scr at
${scriptaddr} (this U-Boot has no SD card or GEM driver to load them
itself), and then `booti` by hand and boot.scr (rvnet_src=mem) must start
the firmware on U-Boot's device tree: banner, ready, a console that
answers, the bootargs boot.scr set, and echo through the GEM once the
banner shows one. Without u-boot-qemu the group prints SKIP and counts
nothing."""
import os
import socket
import sys
from guest import ROOT, Guest, Runner, free_port

UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf"
# qemu-riscv64's environment: kernel_addr_r and scriptaddr (printenv);
# its defaults assume 256 MiB of RAM.
KERNEL_ADDR = 0x84000000
SCRIPT_ADDR = 0x8C100000
MEMORY = "256M"
PROMPT = r"\n=> "


def uboot(port, load_script=False, guest_ip=""):
    """U-Boot at its prompt, with the image (and boot.scr) in memory;
    hostfwd to guest_ip (QEMU's default: 10.0.2.15, the firmware's)."""
    extra = ["-device", f"loader,file={os.path.join(ROOT, 'build', 'firmware-s.bin')},"
             f"addr={KERNEL_ADDR:#x}"]
    if load_script:
        extra += ["-device", f"loader,file={os.path.join(ROOT, 'build', 'boot.scr')},"
                  f"addr={SCRIPT_ADDR:#x}"]
    net = ["-nic", f"user,hostfwd=udp:127.0.0.1:{port}-{guest_ip}:7"] if port else None
    g = Guest(mode="s", machine="sifive_u", kernel=UBOOT, memory=MEMORY, net=net, extra=extra)
    # Stop the autoboot countdown: its boot targets find nothing here, but
    # it takes seconds to say so.
    if g.wait_for(r"Hit any key to stop autoboot", 30):
        g.proc.stdin.write(b" ")
        g.proc.stdin.flush()
    if not g.wait_for(PROMPT, 30):
        g.stop()
        raise AssertionError("no U-Boot prompt:\n" + g.out[-1500:])
    return g


def echo_works(port, sizes=(0, 1, 18, 64, 512, 1472)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    try:
        for n in sizes:
            p = bytes((i * 5 + n) & 255 for i in range(n))
            for _ in range(3):  # the first one also waits for ARP
                s.sendto(p, ("127.0.0.1", port))
                try:
                    if s.recvfrom(2048)[0] == p:
                        break
                except socket.timeout:
                    pass
            else:
                raise AssertionError(f"no echo of {n} bytes through the GEM")
    finally:
        s.close()


def maybe_echo(out, port):
    """The echo through the GEM, once the image has its driver."""
    if "nic: gem" in out:
        echo_works(port)
    else:
        print("     (no GEM driver in this image: echo not checked)", flush=True)


def started(g, since):
    """The firmware came up on U-Boot's hand-off; the echo checked when it has a NIC."""
    assert g.wait_for(r"ready in \d+ ms", 30, since), "no 'ready' line:\n" + g.out[-1500:]
    out = g.out[since:]
    assert "Moving Image from 0x84000000 to 0x80200000" in out, out[-1500:]
    assert "(S-mode, app echo), hart 1 of 2" in out, out[-1500:]
    assert "console: sifive,uart0 at 0x10010000" in out, out[-1500:]
    assert "commands:" in (g.command("help") or ""), "console does not answer"
    return out


def finish(g):
    g.command("poweroff", until=r"\*\*\* poweroff")
    rc = g.wait_exit(15)
    assert rc == 0, f"poweroff: exit {rc}\n" + g.out[-600:]


def booti_by_hand():
    port = free_port()
    with uboot(port) as g:
        since = len(g.out)
        g.command(f"booti {KERNEL_ADDR:#x} - ${{fdtcontroladdr}}", until=r"Starting kernel")
        out = started(g, since)
        maybe_echo(out, port)
        finish(g)


def boot_scr():
    """boot.scr as the board runs it, but from memory: its bootargs reach
    the firmware through U-Boot's device tree (a1), not QEMU's."""
    port = free_port()
    with uboot(port, load_script=True, guest_ip="10.0.2.30") as g:
        since = len(g.out)
        g.command('env set rvnet_src mem; env set rvnet_args "ip=10.0.2.30/24 port=7"; '
                  "source ${scriptaddr}", until=r"Starting kernel")
        out = started(g, since)
        assert "rvnet: booti 0x84000000 - " in out, out[-1500:]
        assert 'bootargs: "ip=10.0.2.30/24 port=7"' in out, out[-1500:]
        assert "config: ip 10.0.2.30/24 gw 10.0.2.2 port 7" in out, out[-1500:]
        maybe_echo(out, port)
        finish(g)


def boot_scr_refuses():
    """A source it does not know, or a load that fails (this U-Boot has no
    SD card), leaves U-Boot at its prompt without jumping anywhere."""
    with uboot(None, load_script=True) as g:
        for src, why in (("bogus", "rvnet_src is bogus: it must be mmc, tftp or mem"),
                         ("mmc", "loading firmware-s.bin from mmc 0:3")):
            text = g.command(f"env set rvnet_src {src}; source ${{scriptaddr}}",
                             until=r"rvnet: not started[^\n]*\n=> ", timeout=15)
            assert text and why in text, f"rvnet_src={src}:\n" + g.out[-800:]
            assert "booti" not in text.split("source", 1)[1], text
        assert "rvnet " not in g.out and "Starting kernel" not in g.out, g.out[-800:]


if __name__ == "__main__":
    r = Runner("uboot")
    if not os.path.exists(UBOOT):
        print(f"SKIP uboot: {UBOOT} missing (Debian package u-boot-qemu)", flush=True)
        sys.exit(r.done())
    r.run("booti-by-hand", booti_by_hand)
    r.run("boot.scr-from-memory", boot_scr)
    r.run("boot.scr-refuses", boot_scr_refuses)
    n = r.done()
    sys.exit(n)
