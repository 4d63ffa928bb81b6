"""Drive one QEMU guest running rvnet: boot it, read its console, type
commands, read its counters, stop it. Used by every integration test."""
import os
import re
import select
import signal
import socket
import struct
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def csum(b):
    """RFC 1071 Internet checksum of b (the sum's complement, ready to store)."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def free_port():
    """A UDP port on 127.0.0.1 free right now, for a hostfwd rule."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# Which NIC the integration tests drive: RVNET_NIC=virtio-mmio (default),
# virtio-pci or gem; each test group runs unchanged on any of them
# (test/qemu_run.sh sets it per run). The machine follows from the NIC.
NIC = os.environ.get("RVNET_NIC", "virtio-mmio")
MACHINES = {"virtio-mmio": "virt", "virtio-pci": "virt", "gem": "sifive_u"}
MACHINE = MACHINES.get(NIC, "virt")


def nic_device(netdev="n0"):
    """The QEMU arguments that attach netdev to the guest as NIC."""
    if NIC == "virtio-pci":
        # Slot 3, with an unrelated PCI device in front of it (slot 2), so
        # enumeration and BAR placement are exercised; Debian ships no
        # efi-virtio.rom, hence romfile=.
        return ["-device", "virtio-rng-pci,romfile=,addr=2",
                "-device", f"virtio-net-pci,netdev={netdev},romfile=,addr=3"]
    if NIC == "gem":
        return ["-net", f"nic,netdev={netdev}"]
    return ["-device", f"virtio-net-device,netdev={netdev}"]


def nic_modern_args(modern):
    """Select the virtio transport flavour: modern (virtio 1.0) or legacy."""
    if NIC == "virtio-mmio":
        return ["-global", "virtio-mmio.force-legacy=false"] if modern else []
    if NIC == "virtio-pci":
        return ["-global", "virtio-net-pci.disable-legacy=" + ("on" if modern else "off"),
                "-global", "virtio-net-pci.disable-modern=" + ("off" if modern else "on")]
    return []


def nic_banner(modern):
    """What the boot banner says about the NIC on this transport."""
    if NIC == "virtio-pci":
        return "virtio-pci " + ("modern" if modern else "legacy")
    if NIC == "gem":
        return "nic: gem"
    return "virtio-mmio " + ("modern" if modern else "legacy")


def flavours():
    """The transport flavours a group runs through: virtio's legacy and
    modern interfaces (modern=False/True); the GEM has one."""
    return (False,) if NIC == "gem" else (False, True)


def flavour_name(modern):
    return "gem" if NIC == "gem" else ("modern" if modern else "legacy")


def user_net(port):
    """QEMU user networking forwarding 127.0.0.1:port to the guest's UDP 7."""
    return ["-netdev", f"user,id=n0,hostfwd=udp:127.0.0.1:{port}-:7"] + nic_device()


def image(mode="m", app="echo", variant=""):
    name = "firmware" + ("-s" if mode == "s" else "") + ("" if app == "echo" else "-" + app)
    return os.path.join(ROOT, "build", name + (("-" + variant) if variant else "") + ".elf")


class Guest:
    def __init__(self, mode="m", app="echo", net=None, append=None, smp=1, modern=False,
                 extra=(), variant="", icount=False, machine=None, kernel=None, memory="128M",
                 semihosting=False):
        """kernel: another image for -kernel (a boot loader) instead of ours.
        semihosting: let the firmware stop QEMU with its exit code where
        the machine has no finisher (boot argument and QEMU option)."""
        self.mode = mode
        self.elf = kernel or image(mode, app, variant)
        machine = machine or MACHINE
        if machine == "sifive_u" and smp < 2:
            smp = 2  # hart 0 is the E51; OpenSBI boots S-mode on hart 1
        # -no-reboot: a guest reset (sifive_u's gpio-restart line, how the
        # firmware powers off there) ends QEMU instead of booting again.
        cmd = ["qemu-system-riscv64", "-M", machine, "-m", memory, "-smp", str(smp),
               "-nographic", "-bios", "default" if mode == "s" else "none",
               "-kernel", self.elf, "-no-reboot"]
        if net is None:
            cmd += ["-net", "none"]
        else:
            cmd += net
        if net is not None:
            cmd += nic_modern_args(modern)
        if semihosting:
            append = (append + " " if append else "") + "semihosting"
            cmd += ["-semihosting-config", "enable=on,target=native"]
        if append:
            cmd += ["-append", append]
        if icount:
            cmd += ["-icount", "shift=0"]
        cmd += list(extra)
        self.cmd = cmd
        self.out = ""
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=ROOT)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if r:
            data = self.proc.stdout.read()
            if data:
                self.out += data.decode("utf-8", "replace")
                return True
        return False

    def wait_for(self, pattern, timeout=10.0, start=0):
        """Wait until the console output (from offset start) matches; the match or None."""
        end = time.time() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.out, start)
            if m:
                return m
            left = end - time.time()
            if left <= 0 or self.proc.poll() is not None and not self._read(0):
                return rx.search(self.out, start)
            self._read(min(left, 0.2))

    def boot(self, timeout=20.0):
        return self.wait_for(r"ready in \d+ ms", timeout) is not None

    def command(self, cmd, until=r"\n> ", timeout=10.0):
        """Type a console command; the output it printed (None on time-out)."""
        start = len(self.out)
        self.proc.stdin.write((cmd + "\r").encode())
        self.proc.stdin.flush()
        m = self.wait_for(until, timeout, start)
        return self.out[start:m.end()] if m else None

    def stats(self):
        """All counters from the 'stats' command as {'layer.name': value}."""
        text = self.command("stats", until=r"check [^\n]*\n")
        if text is None:
            return None
        st = {}
        for line in text.splitlines():
            parts = line.split()
            if not parts:
                continue
            layer = parts[0]
            for kv in parts[1:]:
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    if "/" in v:  # pool free=N/TOTAL
                        v, total = v.split("/", 1)
                        st[layer + ".total"] = int(total)
                    try:
                        st[layer + "." + k] = int(v)
                    except ValueError:
                        pass
            if layer == "check":
                st["check_ok"] = parts[1:2] == ["ok"]
        return st

    def wait_exit(self, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                self._read(0)
                return self.proc.returncode
            self._read(0.1)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._read(0)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


class Runner:
    """Tiny test runner: run(name, fn) where fn raises AssertionError on failure."""

    def __init__(self, group):
        self.group = group
        self.passed = self.failed = 0

    def run(self, name, fn, *args):
        t0 = time.time()
        try:
            fn(*args)
        except AssertionError as e:
            self.failed += 1
            print(f"FAIL {self.group}/{name}: {e}", flush=True)
            return
        except Exception as e:  # a crash of the test itself is a failure too
            self.failed += 1
            print(f"FAIL {self.group}/{name}: {type(e).__name__}: {e}", flush=True)
            return
        self.passed += 1
        print(f"ok   {self.group}/{name} ({time.time() - t0:.1f}s)", flush=True)

    def done(self):
        print(f"{self.group}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0
