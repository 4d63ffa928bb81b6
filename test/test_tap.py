"""The Linux kernel as a real client of the echo firmware, through a tap
device in a network namespace the test makes (tap0 = 10.0.2.2/24, the
guest 10.0.2.15): ping (small, full-MTU and fragmented both ways), ARP
(arping, the kernel's neighbour table, the firmware's cache), UDP
sockets (fixed and random sizes up to 8000 bytes, fragmented and
reassembled both ways), 8 concurrent sockets, and ICMP port unreachable
seen by a connected socket as ECONNREFUSED.

Every case runs on a fresh guest whose netdev is recorded by QEMU's
filter-dump; after the case the guest's accounting must hold and no
buffer may be missing, and tshark must find every frame the firmware sent
well formed, with good IPv4/UDP/ICMP checksums and its fragmented replies
reassembled, and at least as many firmware frames as the case drew.

QEMU 7.2's filter-dump writes the virtio-net header in front of each
frame when the tap uses one (vnet_hdr); the capture is rewritten without
it before tshark reads it (the header length is found from the frames).
Frames the kernel sent may carry a partial UDP checksum (checksum offload
towards the guest), so checksums are only judged on the firmware's frames.

Captures stay in build/test-logs/tap/ for inspection.
"""
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import time
from guest import NIC, Guest, Runner, ROOT, flavour_name, nic_banner
import netns

GIP, HIP = "10.0.2.15", "10.0.2.2"
GMAC = "52:54:00:12:34:56"
GMAC_B = bytes.fromhex(GMAC.replace(":", ""))
PORT = 7
CAPDIR = os.path.join(ROOT, "build", "test-logs", "tap")
MAX_UDP = 8000


def frames_for(l4_len, mtu=1500):
    """IPv4 frames one datagram of l4_len bytes (UDP/ICMP header included) takes."""
    per = (mtu - 20) // 8 * 8
    return max(1, -(-l4_len // per))


class Expect:
    """Least counts of firmware frames the capture must hold."""

    def __init__(self):
        self.ip = 0           # IPv4 frames
        self.reassembled = 0  # fragmented datagrams tshark put back together
        self.echo_reply = 0   # ICMP echo replies (checksum verified)
        self.udp_reply = 0    # UDP datagrams from port 7 (checksum verified)
        self.unreach = 0      # ICMP port unreachable
        self.arp_reply = 0
        self.offloaded = 0    # frames sent NEEDS_CSUM (checksum finished by the host)

    def udp(self, n):
        f = frames_for(8 + n)
        self.ip += f
        self.udp_reply += 1
        self.reassembled += f > 1

    def ping(self, n, count):
        f = frames_for(8 + n)
        self.ip += f * count
        self.echo_reply += count
        self.reassembled += count if f > 1 else 0


# ---- helpers --------------------------------------------------------------

def sh(*cmd, timeout=60):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def delta(a, b, key):
    return b[key] - a[key]


def check_idle(g):
    st = g.stats()
    assert st is not None, "no stats: " + g.out[-300:]
    assert st["check_ok"], f"accounting identity broken: {st}"
    total = st["pool.free"] + st["pool.rx_posted"] + st["pool.tx_inflight"] + st.get("pool.reass_held", 0)
    assert total == st["pool.total"], \
        f"buffers lost: free {st['pool.free']} + rx_posted {st['pool.rx_posted']} + " \
        f"tx_inflight {st['pool.tx_inflight']} = {total} != {st['pool.total']}"
    assert st["pool.bad_free"] == 0, f"pool.bad_free {st['pool.bad_free']}"
    return st


def tap_mac(tap):
    r = sh("ip", "-o", "link", "show", "dev", tap)  # /sys shows the home namespace
    m = re.search(r"link/ether ([0-9a-f:]{17})", r.stdout)
    assert m, f"no MAC for {tap}: {r.stdout} {r.stderr}"
    return m.group(1)


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def echo_check(s, payload, what, exp):
    """Send one datagram to the echo port; its reply must be identical."""
    s.sendto(payload, (GIP, PORT))
    try:
        data, addr = s.recvfrom(65536)
    except socket.timeout:
        raise AssertionError(f"{what}: no reply within {s.gettimeout()} s "
                             f"(sent {len(payload)} bytes)") from None
    assert addr == (GIP, PORT), f"{what}: reply from {addr}"
    assert data == payload, f"{what}: sent {len(payload)} bytes, got {len(data)}, " \
                            f"first difference at offset {first_diff(data, payload)}"
    exp.udp(len(payload))


# ---- capture --------------------------------------------------------------

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) >= 24, f"capture {path} is empty"
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise AssertionError(f"capture {path}: not a pcap file")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    assert linktype == 1, f"capture {path}: link type {linktype}, not Ethernet"
    recs, off = [], 24
    while off + 16 <= len(data):
        ts1, ts2, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append((ts1, ts2, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return e, data[:24], recs


def finish_csum(d, start, off):
    """What a device does with a NEEDS_CSUM frame: the Internet checksum
    from start to the end of the frame (the field holds the pseudo-header's
    sum) put at start + off, 0 sent as 0xffff (as Linux does for UDP)."""
    b = d[start:] + (b"\0" if (len(d) - start) % 2 else b"")
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    c = (~s & 0xffff) or 0xffff
    return d[:start + off] + struct.pack("!H", c) + d[start + off + 2:]


NEEDS_CSUM = 1  # virtio_net_hdr.flags


def strip_vnet(path, out, counts=None, groups=False):
    """Rewrite the capture without the virtio-net header in front of each
    frame: the header length (0, 10 or 12) is the one for which every
    frame comes from the guest's MAC or goes to it (or to broadcast, or
    with groups to an IPv4 group's MAC).
    A frame the firmware sent NEEDS_CSUM (checksum offload, VIRTIO_NET_F_
    CSUM) leaves its L4 checksum to the device: its csum_start and
    csum_offset must lie in the frame, and the checksum is finished here
    as the host does before the frame goes anywhere, so that tshark judges
    what the wire carries (counts["offloaded"] counts them; counts["frames"]
    has every frame as (time, bytes))."""
    e, hdr, recs = read_pcap(path)
    assert recs, f"capture {path} holds no frames"

    def ours(d, o):
        return d[o + 6:o + 12] == GMAC_B or d[o:o + 6] in (GMAC_B, b"\xff" * 6) or \
            (groups and d[o:o + 3] == b"\x01\x00\x5e")
    for o in (0, 10, 12):
        if all(ours(d, o) for *_, d in recs):
            break
    else:
        raise AssertionError(f"capture {path}: no header length makes every frame "
                             f"one to or from the guest" + (" or a group" if groups else ""))
    offloaded = 0
    frames = []
    with open(out, "wb") as f:
        f.write(hdr)
        for ts1, ts2, orig, d in recs:
            h, d = d[:o], d[o:]
            if o and h[0] & NEEDS_CSUM and d[6:12] == GMAC_B and len(d) == orig - o:
                start, off = struct.unpack("<HH", h[6:10])
                assert start + off + 2 <= len(d), \
                    f"capture {path}: NEEDS_CSUM at {start}+{off} in a frame of {len(d)} bytes"
                d = finish_csum(d, start, off)
                offloaded += 1
            f.write(struct.pack(e + "IIII", ts1, ts2, len(d), max(orig - o, len(d))))
            f.write(d)
            frames.append((ts1 + ts2 / 1e6, d))
    if counts is not None:
        counts["offloaded"] = offloaded
        counts["frames"] = frames
    return o, len(recs)


TSHARK_PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                "-o", "ip.defragment:TRUE"]  # ICMP checksums are always verified
FIELDS = ["frame.number", "eth.src", "frame.len", "frame.protocols", "ip.checksum.status",
          "udp.checksum.status", "icmp.checksum.status", "icmp.type", "icmp.code",
          "udp.srcport", "arp.opcode", "ip.reassembled.length", "ip.reassembled_in",
          "ip.flags.mf", "ip.frag_offset", "_ws.expert.severity", "_ws.expert.message",
          "_ws.col.Info"]
BAD_FILTER = (f"eth.src == {GMAC} && (_ws.malformed || _ws.expert.severity >= \"Warning\" || "
              "ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\" || "
              "icmp.checksum.status == \"Bad\" || ip.fragment.error || ip.fragment.overlap || "
              "ip.fragment.toolongfragment || ip.fragment.multipletails)")
WARNING = 0x600000  # _ws.expert.severity: chat 0x200000, note 0x400000, warn, error 0x800000
GOOD = "1"  # *.checksum.status: 0 bad, 1 good, 2 unverified


def frame_faults(v):
    """What tshark finds wrong with a frame whatever its protocol (v: its
    fields by name): malformed, an expert warning or worse, oversized."""
    why = []
    if "_ws.malformed" in v["frame.protocols"]:
        why.append("malformed")
    sev = [int(x, 0) for x in v["_ws.expert.severity"].split(",") if x]
    if any(s >= WARNING for s in sev):
        why.append("expert: " + v["_ws.expert.message"])
    if int(v["frame.len"]) > 1514:
        why.append(f"frame of {v['frame.len']} bytes")
    return why


def tshark(pcap, *args):
    r = sh("tshark", "-n", "-2", "-r", pcap, *TSHARK_PREFS, *args, timeout=300)
    assert r.returncode == 0, f"tshark failed ({r.returncode}): {r.stderr.strip()[-500:]}"
    return r.stdout


def check_capture(pcap, exp):
    clean = pcap[:-5] + "-eth.pcap"
    offload = {}
    hl, _ = strip_vnet(pcap, clean, offload)
    out = tshark(clean, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
                 "-E", "aggregator=,", *sum((["-e", f] for f in FIELDS), []))
    bad = []
    n = dict(fw=0, ip=0, reassembled=0, echo_reply=0, udp_reply=0, unreach=0, arp_reply=0)
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        if v.get("eth.src") != GMAC:
            continue
        n["fw"] += 1
        why = frame_faults(v)
        protos = v["frame.protocols"]
        if protos.startswith("eth:ethertype:ip"):
            n["ip"] += 1
            if v["ip.checksum.status"].split(",")[0] != GOOD:
                why.append(f"IP checksum status {v['ip.checksum.status']}")
            fragment = v["ip.flags.mf"].split(",")[0] == "1" or \
                v["ip.frag_offset"].split(",")[0] not in ("", "0")
            if v["ip.reassembled.length"]:
                n["reassembled"] += 1
            elif fragment and not v["ip.reassembled_in"]:
                why.append("fragment never reassembled")
            if protos.startswith("eth:ethertype:ip:udp"):
                if v["udp.checksum.status"].split(",")[0] != GOOD:
                    why.append(f"UDP checksum status {v['udp.checksum.status']}")
                elif v["udp.srcport"].split(",")[0] == str(PORT):
                    n["udp_reply"] += 1
            elif protos.startswith("eth:ethertype:ip:icmp"):
                if v["icmp.checksum.status"].split(",")[0] != GOOD:
                    why.append(f"ICMP checksum status {v['icmp.checksum.status']}")
                else:
                    t, c = v["icmp.type"].split(","), v["icmp.code"].split(",")
                    if t[0] == "0":
                        n["echo_reply"] += 1
                    elif t[0] == "3" and c[0] == "3":
                        n["unreach"] += 1
            elif not fragment or v["ip.reassembled.length"]:
                why.append("IPv4 frame that is neither UDP nor ICMP")
        elif protos.startswith("eth:ethertype:arp"):
            if v["arp.opcode"] == "2":
                n["arp_reply"] += 1
        else:
            why.append("not IPv4 or ARP")
        if why:
            bad.append(f"#{v['frame.number']} {v['_ws.col.Info']}: {'; '.join(why)}")
    assert not bad, f"{len(bad)} bad frames from the firmware in {clean}:\n    " + \
        "\n    ".join(bad[:20])
    # The same verdict through display filters (catches what the fields hide).
    flagged = tshark(clean, "-Y", BAD_FILTER).strip()
    assert not flagged, f"tshark flags firmware frames in {clean}:\n" + flagged[:2000]
    short = [f"{k} {n[k]} < {getattr(exp, k)}" for k in
             ("ip", "reassembled", "echo_reply", "udp_reply", "unreach", "arp_reply")
             if n[k] < getattr(exp, k)]
    assert n["fw"] > 0 and not short, \
        f"capture {clean} holds too few firmware frames ({n['fw']}): " + ", ".join(short)
    n["vnet_hdr"] = hl
    n["offloaded"] = offload["offloaded"]
    assert n["offloaded"] >= exp.offloaded, \
        f"capture {clean}: {n['offloaded']} frames left their checksum to the device, " \
        f"at least {exp.offloaded} expected"
    return n


# ---- one scenario ---------------------------------------------------------

_seq = [0]


def scenario(name, mode, modern, body, app="echo", variant=""):
    """A fresh namespace, tap and guest (with filter-dump) for one case."""
    _seq[0] += 1
    os.makedirs(CAPDIR, exist_ok=True)
    pcap = os.path.join(CAPDIR, name + ".pcap")
    for p in (pcap, pcap[:-5] + "-eth.pcap"):
        if os.path.exists(p):
            os.unlink(p)
    exp = Expect()
    with netns.NetNS(f"tap{_seq[0]}") as ns:
        tap = ns.tap(addr=f"{HIP}/24")
        with Guest(mode=mode, modern=modern, app=app, net=netns.tap_net(tap), variant=variant,
                   extra=["-object", f"filter-dump,id=f0,netdev=n0,file={pcap}"]) as g:
            assert g.boot(), "no ready line: " + g.out[-500:]
            transport = nic_banner(modern)
            assert app != "echo" or transport in g.out, f"not on the {transport}"
            body(g, tap, exp)
            check_idle(g)
    n = check_capture(pcap, exp)
    print(f"  {name}: capture {n['fw']} firmware frames ({n['ip']} IPv4, "
          f"{n['reassembled']} reassembled, {n['echo_reply']} echo replies, "
          f"{n['udp_reply']} UDP replies, {n['unreach']} unreachable, "
          f"{n['arp_reply']} ARP replies; {n['vnet_hdr']}-byte vnet header stripped, "
          f"{n['offloaded']} checksums left to the device) all good")


# ---- cases ----------------------------------------------------------------

def ping(g, tap, exp, sizes=(56, 1472, 4000, 8000), count=5):
    # The kernel knows the guest's MAC already, so it sends no ARP request
    # the firmware could learn from: the firmware has to resolve 10.0.2.2
    # itself (and hold its first reply) before it can answer.
    r = sh("ip", "neigh", "replace", GIP, "lladdr", GMAC, "dev", tap, "nud", "permanent")
    assert r.returncode == 0, r.stderr
    st0 = g.stats()
    for n in sizes:
        r = sh("ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", "-w", "10",
               "-s", str(n), GIP, timeout=30)
        summary = [ln for ln in r.stdout.splitlines() if "transmitted" in ln]
        assert summary and re.search(rf"\b{count} packets transmitted, {count} received, "
                                     r"(\+\d+ duplicates, )?0% packet loss", summary[0]) and \
            r.returncode == 0, f"ping -s {n}: {summary or r.stdout[-300:]} {r.stderr.strip()} " \
                               f"(stats {g.stats()})"
        assert "DUP!" not in r.stdout and "wrong data" not in r.stdout, \
            f"ping -s {n}: duplicates or corrupted replies:\n{r.stdout[-1000:]}"
        exp.ping(n, count)
    st = g.stats()
    frag = sum(count for n in sizes if frames_for(8 + n) > 1)
    assert delta(st0, st, "icmp.echo_replied") == count * len(sizes), \
        f"echo_replied {st0['icmp.echo_replied']} -> {st['icmp.echo_replied']}"
    assert delta(st0, st, "ip.reass_ok") == frag, \
        f"reass_ok {st0['ip.reass_ok']} -> {st['ip.reass_ok']} (expected +{frag})"
    assert delta(st0, st, "ip.tx_frag") >= sum(count * frames_for(8 + n) for n in sizes
                                               if frames_for(8 + n) > 1)
    # A reassembled ping is answered in place, fragment by fragment (a
    # chain: no copy), back to the link address it came from: no ARP.
    assert delta(st0, st, "ip.tx_frag_copy") == 0, f"fragments copied: {st}"


def arp(g, tap, exp):
    st0 = g.stats()
    r = sh("arping", "-c", "3", "-w", "6", "-I", tap, GIP, timeout=20)
    replies = re.findall(rf"reply from {re.escape(GIP)} \[([0-9a-fA-F:]+)\]", r.stdout)
    assert len(replies) == 3 and "Received 3 response" in r.stdout, \
        f"arping: {r.stdout.strip()} {r.stderr.strip()}"
    assert all(m.lower() == GMAC for m in replies), f"arping replies from {replies}"
    exp.arp_reply += 3
    # The kernel's own neighbour entry (arping does not make one): one ping.
    r = sh("ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", "-w", "10", GIP, timeout=20)
    assert r.returncode == 0 and ", 0% packet loss" in r.stdout, f"ping: {r.stdout[-300:]}"
    exp.ping(56, 2)
    r = sh("ip", "neigh", "show", GIP, "dev", tap)
    assert re.search(rf"lladdr {GMAC} (REACHABLE|STALE|DELAY|PROBE)", r.stdout), \
        f"ip neigh show {GIP} dev {tap}: {r.stdout.strip()!r}"
    st = g.stats()
    assert delta(st0, st, "arp.tx_reply") >= 3, f"arp.tx_reply {st0['arp.tx_reply']} -> " \
                                                 f"{st['arp.tx_reply']}"
    assert st["arp.conflict"] == 0 and st["arp.drop_malformed"] == 0, st
    mac = tap_mac(tap)
    table = g.command("arp") or ""
    assert re.search(rf"{re.escape(HIP)}\s+{mac}", table), f"firmware ARP cache: {table!r}"


def udp_sizes(g, tap, exp, sizes=None, random_count=200):
    rnd = random.Random(7)
    if sizes is None:
        sizes = [0, 1, 1472, 1473, 3000, MAX_UDP]
    todo = list(sizes) + [rnd.randint(0, MAX_UDP) for _ in range(random_count)]
    st0 = g.stats()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3.0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    try:
        for i, n in enumerate(todo):
            echo_check(s, rnd.randbytes(n), f"datagram {i} ({n} bytes)", exp)
    finally:
        s.close()
    st = g.stats()
    frag = sum(1 for n in todo if n > 1472)
    assert delta(st0, st, "echo.replied") == len(todo), \
        f"echo.replied {st0['echo.replied']} -> {st['echo.replied']} ({len(todo)} sent)"
    assert delta(st0, st, "ip.reass_ok") == frag, \
        f"reass_ok {st0['ip.reass_ok']} -> {st['ip.reass_ok']} (expected +{frag})"


def udp_8000(g, tap, exp):
    udp_sizes(g, tap, exp, sizes=[MAX_UDP] * 5, random_count=0)


def concurrent(g, tap, exp, nsock=8, per=50, window=4, limit=60.0):
    """nsock sockets, each with up to `window` datagrams outstanding, sends
    interleaved round robin; each reply must reach the socket that sent it."""
    rnd = random.Random(8)
    socks = []
    try:
        for _ in range(nsock):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((HIP, 0))
            s.setblocking(False)
            socks.append(s)
        ports = {s.getsockname()[1] for s in socks}
        assert len(ports) == nsock
        msgs = []
        for k in range(nsock):
            m = []
            for j in range(per):
                n = 3000 if j % 10 == 9 else rnd.randint(16, 1472)  # some fragmented
                m.append(struct.pack("!4sBH", b"rvnt", k, j) + rnd.randbytes(n - 7))
            msgs.append(m)
        sent = [0] * nsock
        out = [dict() for _ in range(nsock)]  # seq -> payload, outstanding
        got = [set() for _ in range(nsock)]
        st0 = g.stats()
        end = time.time() + limit
        while any(len(x) < per for x in got):
            assert time.time() < end, f"not done in {limit} s: received {[len(x) for x in got]}"
            for k, s in enumerate(socks):
                while sent[k] < per and len(out[k]) < window:
                    j = sent[k]
                    s.sendto(msgs[k][j], (GIP, PORT))
                    out[k][j] = msgs[k][j]
                    sent[k] += 1
            ready = select.select(socks, [], [], 3.0)[0]
            assert ready, f"no reply for 3 s; outstanding per socket " \
                          f"{[sorted(o) for o in out]}, received {[len(x) for x in got]}, " \
                          f"stats {g.stats()}"
            for s in ready:
                k = socks.index(s)
                for _ in range(64):
                    try:
                        data, addr = s.recvfrom(65536)
                    except BlockingIOError:
                        break
                    assert addr == (GIP, PORT), f"socket {k}: reply from {addr}"
                    assert len(data) >= 7 and data[:4] == b"rvnt", \
                        f"socket {k}: foreign datagram of {len(data)} bytes"
                    kk, j = struct.unpack("!BH", data[4:7])
                    assert kk == k, f"socket {k} received socket {kk}'s datagram {j}"
                    assert j not in got[k], f"socket {k}: datagram {j} came back twice"
                    assert j in out[k], f"socket {k}: datagram {j} came back before it was sent"
                    assert data == out[k][j], f"socket {k} datagram {j}: sent {len(out[k][j])} " \
                        f"bytes, got {len(data)}, first difference at " \
                        f"{first_diff(data, out[k][j])}"
                    del out[k][j]
                    got[k].add(j)
                    exp.udp(len(data))
        # Nothing more may come.
        extra = select.select(socks, [], [], 0.5)[0]
        assert not extra, "a socket received more than it sent"
        st = g.stats()
        assert delta(st0, st, "echo.replied") == nsock * per, \
            f"echo.replied {st0['echo.replied']} -> {st['echo.replied']}"
    finally:
        for s in socks:
            s.close()


def port_unreachable(g, tap, exp, ports=(9999, 12345, 40000)):
    st0 = g.stats()
    for p in ports:
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.settimeout(2.0)
        try:
            c.connect((GIP, p))
            c.send(b"anyone on port %d?" % p)
            try:
                data = c.recv(2048)
                raise AssertionError(f"port {p}: a reply of {len(data)} bytes, not an error")
            except ConnectionRefusedError:
                pass
            except socket.timeout:
                raise AssertionError(f"port {p}: no ICMP port unreachable within 2 s "
                                     f"(stats {g.stats()})") from None
        finally:
            c.close()
        exp.unreach += 1
        exp.ip += 1
    st = g.stats()
    k = len(ports)
    assert delta(st0, st, "udp.drop_no_port") == k, \
        f"udp.drop_no_port {st0['udp.drop_no_port']} -> {st['udp.drop_no_port']}"
    assert delta(st0, st, "icmp.tx_err_sent") == k, \
        f"icmp.tx_err_sent {st0['icmp.tx_err_sent']} -> {st['icmp.tx_err_sent']}"
    # A connected socket on the echo port still gets its answer.
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(2.0)
    try:
        c.connect((GIP, PORT))
        c.send(b"still there?")
        assert c.recv(2048) == b"still there?", "no echo after the errors"
        exp.udp(12)
    finally:
        c.close()


FULL = [("ping", ping), ("arp", arp), ("udp-sizes", udp_sizes), ("concurrent", concurrent),
        ("port-unreachable", port_unreachable)]
SUBSET = [("ping", ping), ("udp-8000", udp_8000), ("port-unreachable", port_unreachable)]
CONFIGS = [("m", False, FULL), ("s", False, SUBSET), ("m", True, SUBSET), ("s", True, SUBSET)]
if NIC == "gem":  # one transport: every case in both modes
    CONFIGS = [("m", False, FULL), ("s", False, FULL + [("udp-8000", udp_8000)])]


def features(g):
    m = re.search(r"features (0x[0-9a-f]+)", g.out)
    assert m, "no feature bits in the banner"
    return int(m.group(1), 16)


def csum_offload(g, tap, exp):
    """Default build on a tap: checksum offload negotiated both ways
    (GUEST_CSUM, CSUM). The host's own datagrams arrive NEEDS_CSUM and are
    taken as verified, their payload not summed; the in-place replies go
    back NEEDS_CSUM, the host finishing their checksums (check_capture
    finishes them as it does, and tshark checks the result), and none is
    completed in software."""
    f = features(g)
    assert f & 2, "VIRTIO_NET_F_GUEST_CSUM not negotiated on a tap"
    assert f & 1, "VIRTIO_NET_F_CSUM not negotiated on a tap"
    udp_sizes(g, tap, exp, sizes=[0, 18, 1472, 3000], random_count=20)
    exp.offloaded = 3  # the three unfragmented replies at least (3000 bytes: fragments)
    st = g.stats()
    assert st["nic.csum_fixed"] == 0, st
    assert st["udp.drop_csum"] == 0, st


def gem_tx_csum(g, tap, exp):
    """GEM build with TX checksum offload (CFG_GEM_TX_CSUM=1): the MAC
    (QEMU: TXCOEN) rewrites the IP and UDP checksums the stack computed;
    tshark must still find every one good, fragments included."""
    ping(g, tap, exp, sizes=(56, 4000), count=2)
    udp_sizes(g, tap, exp, sizes=[0, 1, 2, 18, 1472, 3000, MAX_UDP], random_count=20)


def csum_software(g, tap, exp):
    """nocsum build (CFG_GUEST_CSUM=0): no offload asked for, every
    checksum verified in software, same answers."""
    assert not features(g) & 2, "GUEST_CSUM negotiated in the nocsum build"
    ping(g, tap, exp, sizes=(56, 4000), count=2)  # first: it checks our own ARP
    udp_sizes(g, tap, exp, sizes=[0, 18, 1472, 3000], random_count=20)
    st = g.stats()
    assert st["nic.csum_fixed"] == 0, st
    assert st["udp.drop_csum"] == 0, st

if __name__ == "__main__":
    r = Runner("tap")
    if not netns.available():
        print("SKIP tap: needs root and /dev/net/tun")
        r.failed += 1
        sys.exit(r.done())
    for mode, modern, cases in CONFIGS:
        t = flavour_name(modern)
        for name, fn in cases:
            full = f"{name}-{mode}-{t}"
            r.run(full, scenario, full, mode, modern, fn)
    if NIC == "gem":
        r.run("tx-csum-offload-m-gem", scenario, "tx-csum-offload-m-gem", "m", False,
              gem_tx_csum, "echo", "gem-txcsum")
    else:
        r.run("csum-offload-m-legacy", scenario, "csum-offload-m-legacy", "m", False,
              csum_offload)
        r.run("csum-software-m-legacy", scenario, "csum-software-m-legacy", "m", False,
              csum_software, "echo", "nocsum")
    sys.exit(r.done())
