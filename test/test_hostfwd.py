"""Issue 6: the echo service through QEMU user networking (hostfwd), on
both privilege modes and both virtio-mmio transports."""
import os
import random
import socket
import sys
from guest import NIC, Guest, Runner, flavour_name, flavours, free_port, nic_banner, user_net



def echo(sock, port, payload, tries=1):
    for _ in range(tries):
        sock.sendto(payload, ("127.0.0.1", port))
        try:
            data, _ = sock.recvfrom(65536)
            return data
        except socket.timeout:
            continue
    return None


def check_idle(g):
    st = g.stats()
    assert st is not None, "no stats"
    assert st["check_ok"], "accounting identity broken"
    free, posted = st["pool.free"], st["pool.rx_posted"]
    assert free + posted + st["pool.tx_inflight"] + st.get("pool.reass_held", 0) == st["pool.total"], \
        f"buffers lost: {st}"
    return st


def run_echo(mode, modern, variant="", banner=""):
    port = free_port()
    with Guest(mode=mode, modern=modern, net=user_net(port), variant=variant) as g:
        assert g.boot(), "no ready line"
        assert nic_banner(modern) in g.out, g.out[-600:]
        assert banner in g.out, f"no '{banner}' in the banner: " + g.out[-600:]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        # The first datagram also waits for ARP (the gateway's MAC).
        assert echo(s, port, b"hello", tries=3) == b"hello", "first echo failed"
        s.settimeout(1.0)
        for n in range(0, 1473):
            p = bytes((i * 7 + n) & 255 for i in range(n))
            r = echo(s, port, p)
            assert r == p, f"size {n}: got {None if r is None else len(r)} bytes"
        rnd = random.Random(862)
        lost = 0
        for i in range(10000):
            p = rnd.randbytes(rnd.randint(0, 1472))
            r = echo(s, port, p)
            if r != p:
                lost += 1
        assert lost == 0, f"{lost} of 10000 random datagrams lost or corrupted"
        st = check_idle(g)
        assert st["echo.replied"] >= 11474, st["echo.replied"]
        s.close()


if __name__ == "__main__":
    r = Runner("hostfwd")
    for mode in ("m", "s"):
        for modern in flavours():
            r.run(f"echo-{mode}-{flavour_name(modern)}", run_echo, mode, modern)
    if NIC == "gem":  # the 16-byte descriptors too (CFG_GEM_DESC64=1)
        r.run("echo-m-gem-desc64", run_echo, "m", False, "gem-desc64", "desc 64-bit")
    sys.exit(r.done())
