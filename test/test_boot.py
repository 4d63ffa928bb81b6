"""Issue 2: the firmware boots in both modes, parks extra harts, takes its
configuration from bootargs, and a crash is never silent."""
import sys
from guest import Guest, Runner, nic_banner, nic_device

USER_NET = ["-netdev", "user,id=n0"] + nic_device()


def boots(mode):
    with Guest(mode=mode, net=USER_NET) as g:
        assert g.boot(), "no 'ready' line:\n" + g.out[-800:]
        assert f"({mode.upper()}-mode" in g.out, "wrong mode in banner"
        assert nic_banner(False) in g.out, "NIC not found:\n" + g.out[-600:]
        assert "config: ip 10.0.2.15/24 gw 10.0.2.2 port 7" in g.out, "default config missing"


def smp4():
    with Guest(net=USER_NET, smp=4) as g:
        assert g.boot(), "no 'ready' line"
        g.wait_for(r"ZZZ", 1.0)  # let stray harts print, if they would
        assert g.out.count("\nrvnet ") == 1, "banner printed %d times" % g.out.count("\nrvnet ")
        assert "hart 0 of 4" in g.out


def bootargs():
    with Guest(net=USER_NET, append="ip=10.9.8.7/16 gw=10.9.0.1") as g:
        assert g.boot(), "no 'ready' line"
        assert "config: ip 10.9.8.7/16 gw 10.9.0.1 port 7" in g.out, g.out[-600:]
        text = g.command("ifconfig")
        assert text and "inet 10.9.8.7 mask 255.255.0.0 gw 10.9.0.1" in text, text


def bad_bootargs():
    with Guest(net=USER_NET, append="ip=300.1.2.3/24 port=99999") as g:
        assert g.boot(), "no 'ready' line"
        assert "ignoring bad value 'ip=300.1.2.3/24'" in g.out
        assert "ignoring bad value 'port=99999'" in g.out
        assert "config: ip 10.0.2.15/24 gw 10.0.2.2 port 7" in g.out
    # Well-formed but unusable: our subnet's broadcast, a gateway that is us.
    with Guest(net=USER_NET, append="ip=10.0.2.255/24 gw=10.0.2.15") as g:
        assert g.boot(), "no 'ready' line"
        assert "ignoring bad value 'ip=10.0.2.255/24'" in g.out, g.out[-600:]
        assert "ignoring bad value 'gw=10.0.2.15'" in g.out, g.out[-600:]
        assert "config: ip 10.0.2.15/24 gw 10.0.2.2 port 7" in g.out


def fault():
    with Guest(net=USER_NET, variant="fault") as g:
        rc = g.wait_exit(20)
        assert rc is not None, "QEMU did not stop after the fault"
        assert rc != 0, "QEMU exited 0 after a fault"
        assert "*** TRAP: illegal instruction (cause 2)" in g.out, g.out[-500:]


def poweroff(mode):
    with Guest(mode=mode, net=USER_NET) as g:
        assert g.boot()
        g.command("poweroff", until=r"poweroff")
        rc = g.wait_exit(10)
        assert rc == 0, f"exit code {rc}"


def no_nic():
    with Guest() as g:
        assert g.boot(), "must run without a NIC"
        assert "nic: none found" in g.out
        assert "help" in (g.command("help") or "")


def console():
    with Guest(net=USER_NET) as g:
        assert g.boot()
        text = g.command("help")
        assert text and "stats" in text and "ifconfig" in text
        st = g.stats()
        assert st and st["check_ok"], st
        assert "ok" not in (g.command("bogus") or "") and "unknown command" in g.out


def opts_header():
    """One user options header (test/fixtures/opts.h) overrides stack,
    driver and application options at once."""
    with Guest(net=USER_NET, variant="opts") as g:
        assert g.boot(), "no 'ready' line:\n" + g.out[-800:]
        assert "config: ip 10.0.2.20/24 gw 10.0.2.2 port 9" in g.out, g.out[-800:]
        assert "rx 32 tx 64" in g.out, "ring sizes not overridden"
        text = g.command("ifconfig")
        assert text and "mtu 576" in text, text
        st = g.stats()
        assert st and st["pool.total"] == 128 and st["check_ok"], st


def sifive_u(mode):
    """The same image on QEMU's FU540 model: the SiFive UART is the
    console, the PLIC context and the 1 MHz timebase come from its tree
    (S-mode runs on hart 1, whose S context is 2), and the console takes
    commands through the UART's interrupt."""
    with Guest(mode=mode, machine="sifive_u", smp=2) as g:
        assert g.boot(), "no 'ready' line:\n" + g.out[-800:]
        assert "console: sifive,uart0 at 0x10010000 irq 4" in g.out, g.out[-800:]
        ctx = "context 2," if mode == "s" else "context 0,"
        assert f"plic 0xc000000 {ctx}" in g.out and "(virt numbering)" not in g.out, g.out[-800:]
        assert "timebase 1000000 Hz" in g.out
        assert ("hart 1 of 2" if mode == "s" else "hart 0 of 2") in g.out
        assert "commands:" in (g.command("help") or ""), "console input does not work"


def sifive_u_poweroff(mode, semihosting):
    """No finisher on sifive_u: poweroff asks the SBI first in S-mode
    (OpenSBI there offers system reset for reboot only and refuses
    shutdown), then drives the tree's gpio-restart line, which with
    -no-reboot ends QEMU with 0; or, when enabled, semihosting's SYS_EXIT."""
    with Guest(mode=mode, machine="sifive_u", semihosting=semihosting) as g:
        assert g.boot(), "no 'ready' line:\n" + g.out[-800:]
        g.command("poweroff", until=r"poweroff")
        rc = g.wait_exit(15)
        assert rc == 0, f"exit code {rc}:\n" + g.out[-600:]
        if semihosting:
            assert "*** exit: semihosting SYS_EXIT 0" in g.out, g.out[-600:]
            return
        assert "*** exit: gpio-restart (gpio 10 of 0x10060000, active low)" in g.out, g.out[-600:]
        if mode == "s":
            assert "*** exit: SBI system reset (shutdown)" in g.out, "SRST not tried first"
            assert g.out.index("*** exit: SBI") < g.out.index("*** exit: gpio"), g.out[-600:]


def sifive_u_fault(mode, semihosting):
    """The trap report, then a stop: with semihosting QEMU exits with the
    code (0x100 + cause 2, of which the host sees the low byte); through
    the gpio-restart line it can only stop, with 0."""
    with Guest(mode=mode, machine="sifive_u", variant="fault", semihosting=semihosting) as g:
        rc = g.wait_exit(20)
        assert rc is not None, "QEMU did not stop after the fault:\n" + g.out[-600:]
        assert "*** TRAP: illegal instruction (cause 2)" in g.out, g.out[-600:]
        assert "*** stopping, code 258" in g.out, g.out[-600:]
        if semihosting:
            assert rc == 258 & 0xff, f"exit code {rc}, want 2"
        else:
            assert rc == 0 and "*** exit: gpio-restart" in g.out, f"exit code {rc}:\n" + g.out[-600:]


def sifive_u_semihosting_no_host():
    """The boot argument without QEMU's semihosting: the call is a plain
    breakpoint trap, and the exit goes on with the next way."""
    with Guest(machine="sifive_u", append="semihosting") as g:
        assert g.boot(), "no 'ready' line"
        g.command("poweroff", until=r"poweroff")
        rc = g.wait_exit(15)
        assert rc == 0, f"exit code {rc}:\n" + g.out[-600:]
        assert "*** TRAP: breakpoint (cause 3)" in g.out, g.out[-600:]
        assert "*** exit: that way trapped; trying the next" in g.out, g.out[-600:]
        assert "*** exit: gpio-restart" in g.out, g.out[-600:]


if __name__ == "__main__":
    r = Runner("boot")
    r.run("m-mode", boots, "m")
    r.run("s-mode", boots, "s")
    r.run("smp4-one-banner", smp4)
    r.run("bootargs-ip-gw", bootargs)
    r.run("bootargs-bad-values", bad_bootargs)
    r.run("illegal-instruction-trap", fault)
    r.run("poweroff-m", poweroff, "m")
    r.run("poweroff-s", poweroff, "s")
    r.run("no-nic", no_nic)
    r.run("console", console)
    r.run("opts-header", opts_header)
    r.run("sifive_u-m", sifive_u, "m")
    r.run("sifive_u-s", sifive_u, "s")
    for mode in ("m", "s"):
        r.run(f"sifive_u-poweroff-{mode}", sifive_u_poweroff, mode, False)
        r.run(f"sifive_u-poweroff-{mode}-semihosting", sifive_u_poweroff, mode, True)
        r.run(f"sifive_u-fault-{mode}", sifive_u_fault, mode, False)
        r.run(f"sifive_u-fault-{mode}-semihosting", sifive_u_fault, mode, True)
    r.run("sifive_u-semihosting-no-host", sifive_u_semihosting_no_host)
    sys.exit(r.done())
