"""A network namespace made by the test itself, entered by this process
(so QEMU and every socket we open live in it), and removed at the end."""
import ctypes
import os
import subprocess

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


class NetNS:
    def __init__(self, tag):
        self.name = f"rvnet-{tag}-{os.getpid()}"
        self.home = None

    def __enter__(self):
        sh("ip", "netns", "add", self.name)
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)
        sh("ip", "link", "set", "lo", "up")
        return self

    def tap(self, name="tap0", addr=None):
        sh("ip", "tuntap", "add", "dev", name, "mode", "tap")
        sh("sysctl", "-q", "-w", f"net.ipv6.conf.{name}.disable_ipv6=1", check=False)
        if addr:
            sh("ip", "addr", "add", addr, "dev", name)
        sh("ip", "link", "set", name, "up")
        return name

    def __exit__(self, *a):
        if self.home is not None:
            _libc.setns(self.home, CLONE_NEWNET)
            os.close(self.home)
        sh("ip", "netns", "del", self.name, check=False)


def available():
    return os.geteuid() == 0 and os.path.exists("/dev/net/tun")


def tap_net(ifname="tap0"):
    from guest import nic_device
    return ["-netdev", f"tap,id=n0,ifname={ifname},script=no,downscript=no"] + nic_device()
