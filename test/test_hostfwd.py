"""Issue 6: the echo service through QEMU user networking (hostfwd), on
both privilege modes and both virtio-mmio transports."""
import os
import random
import re
import socket
import sys
import time
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


def run_busy_poll():
    """poll=200 (busy-polling after traffic, its window on the cycle
    counter): the window is set up, echoes come back, the loop polls
    between them (passes that went on without sleeping), and once the
    traffic stops it sleeps again: an idle second takes the tick's few
    passes and few thousand instructions (-icount, 1 ns each), not a
    spin's millions."""
    port = free_port()
    with Guest(net=user_net(port), append="poll=200", icount=True) as g:
        assert g.boot(), "no ready line"
        m = re.search(r"loop: polling the NIC 200 us after its last frame before sleeping "
                      r"\((\d+) cycles\)", g.out)
        assert m and int(m.group(1)) > 0, "no busy-poll window: " + g.out[-600:]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        assert echo(s, port, b"hello", tries=3) == b"hello", "first echo failed"
        g.command("reset")
        for n in range(200):
            p = bytes((i * 3 + n) & 255 for i in range(n))
            assert echo(s, port, p) == p, f"size {n}: lost or corrupted"
        st = g.stats()
        polled = st["loop.passes"] - st["loop.wakeups"]
        assert polled > 0, f"no pass went on polling: {st}"
        time.sleep(0.3)  # the window has long run out
        g.command("reset")
        time.sleep(1.0)
        st = check_idle(g)
        # busy_instret is added up when the loop sleeps, so a loop that
        # never sleeps shows in its passes, not there
        assert st["loop.passes"] < 300 and st["loop.busy_instret"] < 2000000, \
            f"an idle second with poll=200 is not asleep: {st}"
        s.close()


if __name__ == "__main__":
    r = Runner("hostfwd")
    for mode in ("m", "s"):
        for modern in flavours():
            r.run(f"echo-{mode}-{flavour_name(modern)}", run_echo, mode, modern)
    if NIC == "gem":  # the 16-byte descriptors too (CFG_GEM_DESC64=1)
        r.run("echo-m-gem-desc64", run_echo, "m", False, "gem-desc64", "desc 64-bit")
    r.run("busy-poll", run_busy_poll)
    sys.exit(r.done())
