"""UDP for real services (issue 15), with the Linux kernel as the client
through a tap in a network namespace the test makes (tap0 = 10.0.2.2/24,
the guest 10.0.2.15, booted with mcast=239.1.2.3 where the case needs the
group):

  mcast-echo        a Linux socket sends to 239.1.2.3:7 (route 224.0.0.0/4
                    on the tap, IP_MULTICAST_IF) and gets one unicast reply
                    from 10.0.2.15:7, byte-exact, small and fragmented; a
                    group the firmware is not in gets nothing.
  igmp-join-leave   the two unsolicited IGMPv2 reports at boot, `mcast leave`
                    on the console sends a Leave to 224.0.0.2 (the group is
                    then not answered), `mcast join` reports again and the
                    echo answers again; tshark and the test's own parser
                    validate every IGMP message (type, group, destination
                    and its MAC, TTL 1, Router Alert, checksum).
  igmp-querier      the netns queries (AF_PACKET frames: TTL 1, Router
                    Alert): a v2 General Query with Max Resp 2 s, a
                    Group-Specific one with 1 s, one for a group the
                    firmware is not in (no answer), a query answered by
                    another member first (no answer: suppression), a v3
                    general query (answered as v2), a v1 query (Max Resp
                    0: a v1 report within 10 s), after which `mcast leave`
                    sends no Leave (RFC 2236 3, v1 router present). Each
                    delay is measured in the capture (QEMU's clock) from
                    the query to the report.
  udp-large         echo of 0..65,507-byte datagrams from a Linux socket
                    (the firmware reassembles Linux's fragments, answers
                    fragment by fragment, Linux reassembles): byte-exact.
  udp-large-flood   the same 64 KiB echoes while another process floods
                    incomplete fragments (never a first one) from two other
                    source addresses, each a new datagram: the firmware
                    evicts the oldest incomplete datagram, so a flood that
                    fills every reassembly slot many times over does not
                    deny the honest client (a table that refused newcomers
                    would, for the 30 s timeout). Allowed: up to
                    FLOOD_RETRIES_MAX retries in all; a flood datagram that
                    starts while a 64 KiB one is still arriving can, with
                    4 slots, evict it when 4 of them do.
  icmp-to-pcb       the firmware's echo reply goes to a Linux port nobody
                    listens on (the request came from a raw socket); Linux
                    answers ICMP port unreachable; icmp.err_delivered must
                    count it (the echo PCB was told), and a forged error
                    quoting a port no PCB has must not (drop_err_nomatch).

Every case runs on M-mode with legacy virtio; mcast-echo, udp-large and
icmp-to-pcb once more on S-mode with modern virtio.

After each case the guest's accounting must hold and no buffer may be
missing (test_tap's check_idle), and every frame the firmware sent must be
well formed in tshark with good checksums (IGMP's too). Every NIC runs
every case: multicast passes virtio-net's MAC table and the GEM's hash
filter, which the driver programs from the groups joined (README).

Captures stay in build/test-logs/udp/ for inspection.
"""
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time
from guest import NIC, Guest, Runner, ROOT, flavour_name, nic_banner, csum
import netns
from test_tap import (check_idle, delta, first_diff, frame_faults, sh, strip_vnet, tap_mac,
                      tshark, GOOD)

GIP, HIP = "10.0.2.15", "10.0.2.2"
GMAC = "52:54:00:12:34:56"
GMAC_B = bytes.fromhex(GMAC.replace(":", ""))
GROUP = "239.1.2.3"
GROUP2 = "239.4.5.6"
PORT = 7
CAPDIR = os.path.join(ROOT, "build", "test-logs", "udp")
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
RA = b"\x94\x04\x00\x00"  # Router Alert (RFC 2113)
UNSOL_MS = 1000           # CFG_IGMP_UNSOL_MS: the second report follows within this
SLACK = 0.5               # s a report may come after its Max Resp Time (scheduling)
FLOOD_RETRIES_MAX = 3


def ip4(a):
    return socket.inet_aton(a)


def group_mac(g):
    a = ip4(g)
    return bytes([1, 0, 0x5e, a[1] & 0x7f, a[2], a[3]])


def ipv4(payload, src, dst, proto, ttl=64, opts=b"", ident=0, frag=0):
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), ident, frag, ttl,
                    proto, 0, ip4(src), ip4(dst)) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def igmp_msg(typ, maxresp, group, extra=b""):
    m = bytearray(struct.pack("!BBH4s", typ, maxresp, 0, ip4(group)) + extra)
    m[2:4] = struct.pack("!H", csum(bytes(m)))
    return bytes(m)


def udp_hdr(src, dst, sport, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ph = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(ph + u) or 0xffff
    return u[:6] + struct.pack("!H", c) + u[8:]


# ---- the capture -------------------------------------------------------------

FIELDS = ["frame.number", "frame.time_epoch", "eth.src", "eth.dst", "frame.len",
          "frame.protocols", "ip.src", "ip.dst", "ip.ttl", "ip.opt.type", "ip.opt.ra",
          "ip.checksum.status", "udp.checksum.status", "icmp.checksum.status",
          "igmp.checksum.status", "igmp.type", "igmp.version", "igmp.max_resp", "igmp.maddr",
          "icmp.type", "icmp.code", "udp.srcport", "ip.reassembled.length",
          "ip.reassembled_in", "ip.flags.mf", "ip.frag_offset", "_ws.expert.severity",
          "_ws.expert.message", "_ws.col.Info"]
def first(v):
    return v.split(",")[0]


def check_capture(pcap):
    """Every frame the firmware sent well formed with good checksums
    (IGMP's included); returns the tshark rows of every frame and the raw
    frames."""
    clean = pcap[:-5] + "-eth.pcap"
    counts = {}
    strip_vnet(pcap, clean, counts, groups=True)
    raw = counts["frames"]
    out = tshark(clean, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
                 "-E", "aggregator=,", *sum((["-e", f] for f in FIELDS), []))
    rows, bad = [], []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        rows.append(v)
        if v.get("eth.src") != GMAC:
            continue
        why = frame_faults(v)
        protos = v["frame.protocols"]
        if protos.startswith("eth:ethertype:ip"):
            if first(v["ip.checksum.status"]) != GOOD:
                why.append(f"IP checksum status {v['ip.checksum.status']}")
            if first(v["ip.src"]) != GIP:
                why.append(f"from {v['ip.src']}")
            fragment = first(v["ip.flags.mf"]) == "1" or first(v["ip.frag_offset"]) not in ("", "0")
            if fragment and not v["ip.reassembled.length"] and not v["ip.reassembled_in"]:
                why.append("fragment never reassembled")
            if protos.startswith("eth:ethertype:ip:udp"):
                if first(v["udp.checksum.status"]) != GOOD:
                    why.append(f"UDP checksum status {v['udp.checksum.status']}")
            elif protos.startswith("eth:ethertype:ip:icmp"):
                if first(v["icmp.checksum.status"]) != GOOD:
                    why.append(f"ICMP checksum status {v['icmp.checksum.status']}")
            elif protos.startswith("eth:ethertype:ip:igmp"):
                if first(v["igmp.checksum.status"]) != GOOD:
                    why.append(f"IGMP checksum status {v['igmp.checksum.status']}")
            elif not fragment or v["ip.reassembled.length"]:
                why.append("IPv4 frame that is neither UDP, ICMP nor IGMP")
        elif not protos.startswith("eth:ethertype:arp"):
            why.append("not IPv4 or ARP")
        if why:
            bad.append(f"#{v['frame.number']} {v['_ws.col.Info']}: {'; '.join(why)}")
    assert not bad, f"{len(bad)} bad frames from the firmware in {clean}:\n    " + \
        "\n    ".join(bad[:20])
    return rows, raw


def parse_igmp(d):
    """An IGMP frame's fields from its bytes, or None: our own parser,
    beside tshark's (checksum recomputed here)."""
    if len(d) < 14 + 20 or d[12:14] != b"\x08\x00" or d[14] >> 4 != 4 or d[14 + 9] != 2:
        return None
    hl = (d[14] & 15) * 4
    tot = struct.unpack("!H", d[16:18])[0]
    m = d[14 + hl:14 + tot]
    return dict(src_mac=d[6:12], dst_mac=d[0:6], ttl=d[14 + 8], opts=d[34:14 + hl],
                src=socket.inet_ntoa(d[26:30]), dst=socket.inet_ntoa(d[30:34]),
                ip_ok=csum(d[14:14 + hl]) == 0, type=m[0] if m else None,
                maxresp=m[1] if len(m) > 1 else None,
                group=socket.inet_ntoa(m[4:8]) if len(m) >= 8 else None,
                len=len(m), csum_ok=len(m) >= 8 and csum(m) == 0)


def fw_igmp(raw):
    """The firmware's IGMP messages in the capture, as (time, fields)."""
    out = []
    for t, d in raw:
        if d[6:12] != GMAC_B:
            continue
        m = parse_igmp(d)
        if m:
            out.append((t, m))
    return out


def check_igmp_msg(m, typ, group, what):
    """One of the firmware's IGMP messages, judged field by field."""
    dst = "224.0.0.2" if typ == 0x17 else group
    assert m["type"] == typ, f"{what}: type {m['type']:#x}, not {typ:#x}"
    assert m["group"] == group, f"{what}: group {m['group']}, not {group}"
    assert m["dst"] == dst and m["dst_mac"] == group_mac(dst), \
        f"{what}: to {m['dst']} at {m['dst_mac'].hex(':')}, not {dst} at {group_mac(dst).hex(':')}"
    assert m["src"] == GIP, f"{what}: from {m['src']}"
    assert m["ttl"] == 1, f"{what}: TTL {m['ttl']}"
    assert m["opts"] == RA, f"{what}: IP options {m['opts'].hex()}, not Router Alert {RA.hex()}"
    assert m["ip_ok"] and m["csum_ok"], f"{what}: IP checksum good {m['ip_ok']}, IGMP {m['csum_ok']}"
    assert m["len"] == 8, f"{what}: {m['len']} bytes of IGMP"
    assert m["maxresp"] == 0, f"{what}: Max Resp {m['maxresp']} in a host's message"


def tshark_igmp(rows, typ, group):
    """tshark's view of the firmware's IGMP messages of one type and group."""
    return [v for v in rows if v["eth.src"] == GMAC and "igmp" in v["frame.protocols"]
            and first(v["igmp.type"]) == f"0x{typ:02x}" and v["igmp.maddr"] == group]


def check_tshark_igmp(rows, typ, group, n):
    vs = tshark_igmp(rows, typ, group)
    assert len(vs) == n, f"tshark: {len(vs)} IGMP type {typ:#x} messages from the firmware, " \
                         f"not {n}: {[v['_ws.col.Info'] for v in vs]}"
    dst = "224.0.0.2" if typ == 0x17 else group
    for v in vs:
        info = f"tshark #{v['frame.number']} {v['_ws.col.Info']}"
        assert v["ip.dst"] == dst and \
            v["eth.dst"] == group_mac(dst).hex(":"), f"{info}: group/destination"
        assert v["ip.ttl"] == "1", f"{info}: TTL {v['ip.ttl']}"
        assert "148" in v["ip.opt.type"].split(",") and v["ip.opt.ra"] == "0", \
            f"{info}: no Router Alert (options {v['ip.opt.type']}, ra {v['ip.opt.ra']})"
        assert v["igmp.checksum.status"] == GOOD, f"{info}: checksum {v['igmp.checksum.status']}"
        assert v["igmp.version"] == ("1" if typ == 0x12 else "2"), f"{info}: version"


# ---- one scenario --------------------------------------------------------------

_seq = [0]


def scenario(name, mode, modern, body, append=f"mcast={GROUP}"):
    """A fresh namespace, tap and guest (filter-dump capture) for one case;
    body(g, tap) returns an optional check of the capture, run with
    (tshark rows, raw frames) once the guest has stopped."""
    _seq[0] += 1
    os.makedirs(CAPDIR, exist_ok=True)
    pcap = os.path.join(CAPDIR, name + ".pcap")
    for p in (pcap, pcap[:-5] + "-eth.pcap"):
        if os.path.exists(p):
            os.unlink(p)
    with netns.NetNS(f"udp{_seq[0]}") as ns:
        tap = ns.tap(addr=f"{HIP}/24")
        r = sh("ip", "route", "add", "224.0.0.0/4", "dev", tap)
        assert r.returncode == 0, f"route 224.0.0.0/4: {r.stderr}"
        with Guest(mode=mode, modern=modern, net=netns.tap_net(tap), append=append,
                   extra=["-object", f"filter-dump,id=f0,netdev=n0,file={pcap}"]) as g:
            assert g.boot(), "no ready line: " + g.out[-500:]
            assert nic_banner(modern) in g.out, f"not on the {nic_banner(modern)}"
            if append and "mcast=" in append:
                assert g.wait_for(f"echo: and on group {GROUP} port 7", 5), \
                    "no group line in the banner: " + g.out[-500:]
            post = body(g, tap)
            check_idle(g)
    rows, raw = check_capture(pcap)
    if post:
        post(rows, raw)
    n_fw = sum(1 for v in rows if v["eth.src"] == GMAC)
    print(f"  {name}: capture {len(rows)} frames, {n_fw} from the firmware, all well formed")


def console(g, cmd, expect):
    out = g.command(cmd)
    assert out is not None and expect in out, f"console {cmd!r}: {out!r}"
    return out


def mcast_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, ip4(HIP))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    s.bind((HIP, 0))
    return s


def group_echo(s, payload, group=GROUP, timeout=2.0, tries=1):
    """Send to group:7; the reply must come from the guest's unicast
    address, byte-exact. Returns the number of tries it took."""
    for k in range(tries):
        s.sendto(payload, (group, PORT))
        s.settimeout(timeout)
        try:
            data, addr = s.recvfrom(65536)
        except socket.timeout:
            continue
        assert addr == (GIP, PORT), f"reply to {group} from {addr}, not {GIP}:{PORT}"
        assert data == payload, f"{len(payload)} bytes to {group}: got {len(data)}, first " \
                                f"difference at {first_diff(data, payload)}"
        return k + 1
    raise AssertionError(f"no reply to {len(payload)} bytes sent to {group}:{PORT} "
                         f"within {timeout} s ({tries} tries)")


def no_reply(s, payload, dst, wait=1.0):
    s.sendto(payload, (dst, PORT))
    r = select.select([s], [], [], wait)[0]
    if r:
        data, addr = s.recvfrom(65536)
        raise AssertionError(f"{len(payload)} bytes to {dst}: a reply of {len(data)} from {addr}")


# ---- cases ---------------------------------------------------------------------

def mcast_echo(g, tap):
    rnd = random.Random(15)
    sizes = [0, 1, 18, 700, 1472, 1473, 3000, 8000]
    s = mcast_socket()
    try:
        st0 = g.stats()
        for n in sizes:
            # the first one also waits for the firmware's ARP for us
            group_echo(s, rnd.randbytes(n), timeout=3.0)
        st1 = g.stats()
        # A group the firmware never joined: kept out by the NIC's filter
        # (virtio's MAC table, the GEM's hash: README), or else dropped by
        # Ethernet or IP; never up to UDP.
        no_reply(s, b"not your group", "239.1.2.4")
        st2 = g.stats()
    finally:
        s.close()
    assert delta(st0, st1, "echo.mcast") == len(sizes) and \
        delta(st0, st1, "echo.replied") == len(sizes), \
        f"echo.mcast {st0['echo.mcast']} -> {st1['echo.mcast']}, replied " \
        f"{st0['echo.replied']} -> {st1['echo.replied']} ({len(sizes)} sent to the group)"
    dropped = delta(st1, st2, "eth.drop_not_ours") + delta(st1, st2, "ip.drop_not_ours")
    assert delta(st1, st2, "echo.rx") == 0 and delta(st1, st2, "udp.rx") == 0 and \
        (dropped == 1 or (dropped == 0 and delta(st1, st2, "nic.rx") == 0)), \
        f"the datagram to 239.1.2.4 was neither filtered by the NIC nor dropped below UDP: " \
        f"nic.rx +{delta(st1, st2, 'nic.rx')}, drop_not_ours +{dropped}, udp.rx +{delta(st1, st2, 'udp.rx')}"
    frag = sum(1 for n in sizes if n > 1472)

    def post(rows, raw):
        replies = [v for v in rows if v["eth.src"] == GMAC and first(v["ip.src"]) == GIP and
                   first(v["ip.dst"]) == HIP and first(v["udp.srcport"]) == str(PORT)]
        assert len(replies) == len(sizes), \
            f"capture: {len(replies)} unicast UDP replies from {GIP}:7 to {HIP}, not {len(sizes)}"
        reass = [v for v in replies if v["ip.reassembled.length"]]
        assert len(reass) >= frag, f"capture: {len(reass)} replies reassembled, {frag} expected"
        to_group = [v for v in rows if v["eth.src"] == GMAC and v["ip.dst"] == GROUP and
                    "udp" in v["frame.protocols"]]
        assert not to_group, f"the firmware sent UDP to the group: {to_group[:2]}"
    return post


def reports_since(raw, t0, typ=None):
    return [(t, m) for t, m in fw_igmp(raw) if t >= t0 and (typ is None or m["type"] == typ)]


def igmp_join_leave(g, tap):
    time.sleep(UNSOL_MS / 1000 + 1.0)  # both unsolicited reports are out
    st0 = g.stats()
    console(g, "mcast leave", "mcast: no group")
    time.sleep(0.3)
    st1 = g.stats()
    s = mcast_socket()
    try:
        no_reply(s, b"anyone still there?", GROUP)
        st2 = g.stats()
        console(g, f"mcast join {GROUP2}", f"mcast: group {GROUP2} port 7")
        time.sleep(UNSOL_MS / 1000 + 0.5)
        group_echo(s, b"and now?", group=GROUP2, timeout=3.0)
        no_reply(s, b"not that one", GROUP)
        # A second join moves the service: a Leave for GROUP2, reports for GROUP.
        console(g, f"mcast join {GROUP}", f"mcast: group {GROUP} port 7")
        time.sleep(UNSOL_MS / 1000 + 0.5)
        group_echo(s, b"back again", timeout=3.0)
        st3 = g.stats()
    finally:
        s.close()
    assert delta(st0, st1, "igmp.tx_leave") == 1, \
        f"igmp.tx_leave {st0['igmp.tx_leave']} -> {st1['igmp.tx_leave']} after mcast leave"
    assert st0["igmp.tx_report"] == 2, f"igmp.tx_report {st0['igmp.tx_report']} at boot, not 2"
    assert delta(st1, st2, "echo.rx") == 0, "the echo still got the group's datagram after leaving"
    assert delta(st2, st3, "igmp.tx_report") == 4 and delta(st2, st3, "igmp.tx_leave") == 1, \
        f"two joins: reports {st2['igmp.tx_report']} -> {st3['igmp.tx_report']} (4 expected), " \
        f"leaves {st2['igmp.tx_leave']} -> {st3['igmp.tx_leave']} (1 expected)"

    def post(rows, raw):
        msgs = fw_igmp(raw)
        seq = [(m["type"], m["group"]) for _, m in msgs]
        want = [(0x16, GROUP), (0x16, GROUP), (0x17, GROUP), (0x16, GROUP2), (0x16, GROUP2),
                (0x17, GROUP2), (0x16, GROUP), (0x16, GROUP)]
        assert seq == want, f"the firmware's IGMP messages: {[(hex(a), b) for a, b in seq]}, " \
                            f"expected {[(hex(a), b) for a, b in want]}"
        for i, ((t, m), (typ, grp)) in enumerate(zip(msgs, want)):
            check_igmp_msg(m, typ, grp, f"IGMP message {i}")
        for a, b in ((0, 1), (3, 4), (6, 7)):  # each join's pair
            gap = msgs[b][0] - msgs[a][0]
            assert 0 < gap <= UNSOL_MS / 1000 + 0.2, \
                f"the repeated report came {gap:.3f} s after the first (1..{UNSOL_MS} ms)"
        check_tshark_igmp(rows, 0x16, GROUP, 4)
        check_tshark_igmp(rows, 0x16, GROUP2, 2)
        check_tshark_igmp(rows, 0x17, GROUP, 1)
        check_tshark_igmp(rows, 0x17, GROUP2, 1)
    return post


class Querier:
    """IGMP queries as whole frames on the tap (AF_PACKET), from 10.0.2.2,
    TTL 1 with Router Alert, as a router sends them."""

    def __init__(self, tap):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind((tap, 0))
        self.mac = bytes.fromhex(tap_mac(tap).replace(":", ""))

    def send(self, msg, dst, src=HIP):
        ip = ipv4(msg, src, dst, 2, ttl=1, opts=RA)
        self.s.send(group_mac(dst) + self.mac + b"\x08\x00" + ip)

    def query(self, maxresp, group="0.0.0.0", v3=False):
        dst = "224.0.0.1" if group == "0.0.0.0" else group
        extra = b"\x02\x7d\x00\x00" if v3 else b""  # QRV 2, QQIC 125, no sources
        self.send(igmp_msg(0x11, maxresp, group, extra), dst)

    def wait_report(self, timeout):
        """The firmware's next IGMP message seen on the tap within timeout
        (host time), or None."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            if not select.select([self.s], [], [], left)[0]:
                continue
            d = self.s.recv(2048)
            if d[6:12] == GMAC_B:
                m = parse_igmp(d)
                if m:
                    return m

    def drain(self):
        while select.select([self.s], [], [], 0)[0]:
            self.s.recv(2048)

    def close(self):
        self.s.close()


def igmp_querier(g, tap):
    time.sleep(UNSOL_MS / 1000 + 1.0)  # the unsolicited reports are out
    q = Querier(tap)
    # (what, maxresp in 1/10 s, group queried, answer expected, v3)
    steps = [("general-v2", 20, "0.0.0.0", True, False),
             ("group-specific", 10, GROUP, True, False),
             ("other-group", 10, "239.9.9.9", False, False),
             ("general-v3", 20, "0.0.0.0", True, True)]
    marks = []  # (what, maxresp s, answered, expected type)
    try:
        st0 = g.stats()
        for what, mr, grp, answered, v3 in steps:
            q.drain()
            q.query(mr, grp, v3)
            m = q.wait_report(mr / 10 + SLACK + 1.0)
            if answered:
                assert m and m["type"] == 0x16 and m["group"] == GROUP, \
                    f"{what} query (Max Resp {mr / 10} s): no v2 report for {GROUP} " \
                    f"within {mr / 10 + SLACK + 1.0} s (seen: {m})"
            else:
                assert m is None, f"{what} query: the firmware answered {m}"
            marks.append((what, mr / 10, answered, 0x16))
        # Suppression: another member's report right after the query.
        q.drain()
        q.query(30)
        q.send(igmp_msg(0x16, 0, GROUP), GROUP, src="10.0.2.3")
        m = q.wait_report(3.0 + SLACK)
        assert m is None, f"query answered by another member first: the firmware reported too: {m}"
        marks.append(("suppressed", 3.0, False, 0x16))
        # IGMPv1 query: Max Resp 0 means 10 s; answered with a v1 report.
        q.drain()
        q.query(0)
        m = q.wait_report(10.0 + SLACK + 1.0)
        assert m and m["type"] == 0x12 and m["group"] == GROUP, \
            f"v1 query: no v1 report for {GROUP} within {10 + SLACK + 1} s (seen: {m})"
        marks.append(("general-v1", 10.0, True, 0x12))
        st1 = g.stats()
        # With a v1 router present a host sends no Leave (RFC 2236 3).
        console(g, "mcast leave", "mcast: no group")
        m = q.wait_report(0.5)
        assert m is None, f"a Leave or report after mcast leave under a v1 router: {m}"
        st2 = g.stats()
    finally:
        q.close()
    # The query for 239.9.9.9 goes to that group's MAC and address: the
    # firmware, not in it, drops it below IGMP.
    assert delta(st0, st1, "igmp.query") == 5 and delta(st0, st1, "igmp.report_heard") == 1, \
        f"igmp.query {st0['igmp.query']} -> {st1['igmp.query']} (5 for us), report_heard " \
        f"{st0['igmp.report_heard']} -> {st1['igmp.report_heard']} (1 sent)"
    assert delta(st0, st1, "igmp.tx_report") == 4, \
        f"igmp.tx_report {st0['igmp.tx_report']} -> {st1['igmp.tx_report']} (4 answers)"
    assert delta(st1, st2, "igmp.tx_leave") == 0, "a Leave under a v1 router"

    def post(rows, raw):
        # Query -> answer delays in the capture (QEMU's clock for both).
        queries = []
        for t, d in raw:
            if d[6:12] != GMAC_B:
                m = parse_igmp(d)
                if m and m["type"] == 0x11:
                    queries.append(t)
        assert len(queries) == len(marks), f"capture: {len(queries)} queries, {len(marks)} sent"
        mine = fw_igmp(raw)
        for (what, mr, answered, typ), t0, t1 in zip(marks, queries, queries[1:] + [1e18]):
            got = [(t, m) for t, m in mine if t0 <= t < t1 and m["type"] in (0x12, 0x16)]
            if not answered:
                assert not got, f"capture: {what} query answered: {got}"
                continue
            assert len(got) == 1, f"capture: {len(got)} reports after the {what} query"
            t, m = got[0]
            check_igmp_msg(m, typ, GROUP, f"answer to {what}")
            dt = t - t0
            assert 0 <= dt <= mr + SLACK, \
                f"capture: {what} query (Max Resp {mr} s) answered after {dt:.3f} s"
            print(f"    {what}: Max Resp {mr:g} s, answered after {dt:.3f} s")
        leaves = [m for _, m in mine if m["type"] == 0x17]
        assert not leaves, f"capture: Leave messages {leaves}"
        check_tshark_igmp(rows, 0x12, GROUP, 1)
        check_tshark_igmp(rows, 0x16, GROUP, 2 + 3)
    return post


LARGE = [0, 1, 1472, 1473, 2952, 8000, 32768, 65507]


def echo_one(s, payload, timeout, tries):
    """Echo payload to GIP:7; the number of tries it took (a reply must be
    byte-exact; a late reply to an earlier try is told apart by content)."""
    for k in range(tries):
        s.sendto(payload, (GIP, PORT))
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                break
            data, addr = s.recvfrom(65536)
            assert addr == (GIP, PORT), f"reply from {addr}"
            if data == payload:
                return k + 1
            assert k > 0, f"sent {len(payload)} bytes, got {len(data)}, first difference " \
                          f"at {first_diff(data, payload)}"
    return None


def udp_large(g, tap):
    rnd = random.Random(64)
    sizes = LARGE + [rnd.randint(1473, 65507) for _ in range(5)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.bind((HIP, 0))
    try:
        st0 = g.stats()
        for n in sizes:
            p = rnd.randbytes(n)
            k = echo_one(s, p, 5.0, 1)
            assert k == 1, f"{n} bytes: no reply within 5 s (stats {g.stats()})"
        st = g.stats()
    finally:
        s.close()
    frag = [n for n in sizes if n > 1472]
    assert delta(st0, st, "echo.replied") == len(sizes), \
        f"echo.replied {st0['echo.replied']} -> {st['echo.replied']} ({len(sizes)} sent)"
    assert delta(st0, st, "ip.reass_ok") == len(frag), \
        f"ip.reass_ok {st0['ip.reass_ok']} -> {st['ip.reass_ok']} ({len(frag)} fragmented)"
    nfrag = sum(-(-(8 + n) // 1480) for n in frag)
    assert delta(st0, st, "ip.tx_frag") == nfrag, \
        f"ip.tx_frag {st0['ip.tx_frag']} -> {st['ip.tx_frag']} ({nfrag} expected)"
    assert delta(st0, st, "ip.tx_frag_copy") == 0, \
        f"fragments copied: {st['ip.tx_frag_copy'] - st0['ip.tx_frag_copy']}"

    def post(rows, raw):
        reass = [v for v in rows if v["eth.src"] == GMAC and v["ip.reassembled.length"]
                 and first(v["udp.srcport"]) == str(PORT)]
        lens = sorted(int(first(v["ip.reassembled.length"])) for v in reass)
        assert lens == sorted(8 + n for n in frag), \
            f"capture: the firmware's reassembled replies are {lens} bytes long"
    return post


FLOOD = r"""
import socket, struct, sys, time
count, secs, rate, gip = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL
srcs = ["10.0.2.99", "10.0.2.100"]
body = bytes(range(256)) * 4
end = time.time() + secs
n = 0
while n < count and time.time() < end:
    src = srcs[n % 2]
    ident = 0x4000 + n % 0xc000
    # never a first fragment (offset 1480 + 8k), more to come: never complete
    frag = 0x2000 | (185 + n % 7)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, frag, 64, 17, 0,
                    socket.inet_aton(src), socket.inet_aton(gip))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    s.sendto(h + body, (gip, 0))
    n += 1
    time.sleep(1.0 / rate)
print(n, flush=True)
"""


def udp_large_flood(g, tap, rate=1000.0, secs=20.0, gap=0.05):
    """Honest 64 KiB echoes paced gap s apart, so that the flood's frames
    (rate a second, each a new incomplete datagram) land between them:
    each flood fragment takes a reassembly slot, and with all 4 taken it
    evicts the oldest. A table that refused newcomers would be full of
    flood datagrams and drop the honest client's first fragments."""
    rnd = random.Random(65)
    sizes = [65507] * 16 + [32768, 50000, 2952, 8000]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.bind((HIP, 0))
    st0 = g.stats()
    flood = subprocess.Popen([sys.executable, "-c", FLOOD, str(int(rate * secs)), str(secs),
                              str(rate), GIP], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    retries = 0
    sent_frames = 0  # frames of the honest client's requests
    try:
        time.sleep(1.0)  # the flood fills every slot first
        stf = g.stats()
        t_h = time.time()
        assert delta(st0, stf, "ip.rx") >= 100, \
            f"the flood does not reach the firmware: ip.rx {st0['ip.rx']} -> {stf['ip.rx']}"
        for i, n in enumerate(sizes):
            assert flood.poll() is None, f"the flood ended early: {flood.communicate()}"
            k = echo_one(s, rnd.randbytes(n), 2.0, 1 + FLOOD_RETRIES_MAX - retries)
            assert k, f"datagram {i} ({n} bytes): no reply in {1 + FLOOD_RETRIES_MAX - retries} " \
                      f"tries of 2 s ({retries} retries before; stats {g.stats()})"
            retries += k - 1
            sent_frames += k * -(-(8 + n) // 1480)
            time.sleep(gap)
        assert flood.poll() is None, "the flood ended before the honest client did"
        st1 = g.stats()
        t_h = time.time() - t_h
    finally:
        s.close()
        if flood.poll() is None:
            flood.kill()
        out, err = flood.communicate(timeout=10)
    flood_rx = delta(stf, st1, "ip.rx") - sent_frames
    evict = delta(stf, st1, "ip.reass_evict")
    assert flood_rx >= rate * t_h / 4, \
        f"only {flood_rx} flood fragments reached the firmware in {t_h:.2f} s (rate {rate}/s)"
    # Every flood fragment is a new datagram: once the slots are full, each evicts one.
    assert evict >= flood_rx - 4, \
        f"{flood_rx} flood fragments but only {evict} datagrams evicted"
    assert delta(stf, st1, "echo.replied") >= len(sizes), \
        f"echo.replied {stf['echo.replied']} -> {st1['echo.replied']}"
    assert delta(stf, st1, "ip.reass_ok") >= len(sizes), \
        f"ip.reass_ok {stf['ip.reass_ok']} -> {st1['ip.reass_ok']}"
    print(f"    flood: {flood_rx} incomplete datagrams reached the firmware in {t_h:.1f} s, "
          f"{evict} evicted; {len(sizes)} echoes of up to 64 KiB went through with "
          f"{retries} retries (at most {FLOOD_RETRIES_MAX} allowed)")
    return None


def icmp_to_pcb(g, tap, sports=(40007, 40008, 40009)):
    # A raw UDP socket (the kernel adds the IP header): the request leaves
    # from a port with no socket behind it, so the echo's reply is refused.
    # Linux rate-limits its ICMP errors per destination (a burst of 6, then
    # 1 a second): off in the test's namespace, so every refusal is sent.
    sh("sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0")
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    r.settimeout(2.0)
    st0 = g.stats()
    try:
        for sp in sports:
            payload = b"who listens on %d?" % sp
            r.sendto(udp_hdr(HIP, GIP, sp, PORT, payload), (GIP, 0))
            # the raw socket sees the reply arrive (Linux still refuses it)
            end = time.time() + 2.0
            while True:
                assert time.time() < end, f"no echo reply to port {sp}"
                d, a = r.recvfrom(65536)
                hl = (d[0] & 15) * 4
                if a[0] == GIP and struct.unpack("!HH", d[hl:hl + 4]) == (PORT, sp):
                    assert d[hl + 8:] == payload, "echo reply payload differs"
                    break
            time.sleep(0.3)
        st1 = g.stats()
        # A forged error quoting a datagram no PCB sent (from port 9999).
        ic = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        try:
            quote = ipv4(udp_hdr(GIP, HIP, 9999, 40007, b"x" * 8), GIP, HIP, 17)[:28]
            m = bytearray(struct.pack("!BBHI", 3, 3, 0, 0) + quote)
            m[2:4] = struct.pack("!H", csum(bytes(m)))
            ic.sendto(bytes(m), (GIP, 0))
        finally:
            ic.close()
        time.sleep(0.5)
        st2 = g.stats()
    finally:
        r.close()
    n = len(sports)
    assert delta(st0, st1, "echo.replied") == n, \
        f"echo.replied {st0['echo.replied']} -> {st1['echo.replied']}"
    got = delta(st0, st1, "icmp.err_delivered")
    assert got == n, f"icmp.err_delivered {st0['icmp.err_delivered']} -> " \
                     f"{st1['icmp.err_delivered']}: {n} port unreachables expected " \
                     f"(drop_err_quote +{delta(st0, st1, 'icmp.drop_err_quote')}, " \
                     f"drop_err_nomatch +{delta(st0, st1, 'icmp.drop_err_nomatch')})"
    assert delta(st1, st2, "icmp.err_delivered") == 0 and \
        delta(st1, st2, "icmp.drop_err_nomatch") == 1, \
        f"forged error for port 9999: err_delivered +{delta(st1, st2, 'icmp.err_delivered')}, " \
        f"drop_err_nomatch +{delta(st1, st2, 'icmp.drop_err_nomatch')} (0 and 1 expected)"

    def post(rows, raw):
        errs = [v for v in rows if v["eth.src"] != GMAC and "icmp" in v["frame.protocols"]
                and first(v["icmp.type"]) == "3" and first(v["icmp.code"]) == "3"
                and first(v["ip.src"]) == HIP and first(v["ip.dst"]) == GIP]
        assert len(errs) == n + 1, f"capture: {len(errs)} ICMP port unreachables to the " \
                                   f"firmware, {n} from Linux + 1 forged expected"
        assert all(first(v["icmp.checksum.status"]) == GOOD for v in errs), \
            "capture: an ICMP error with a bad checksum"
    return post


MCAST_CASES = [("mcast-echo", mcast_echo), ("igmp-join-leave", igmp_join_leave),
               ("igmp-querier", igmp_querier)]
UNICAST_CASES = [("udp-large", udp_large), ("udp-large-flood", udp_large_flood),
                 ("icmp-to-pcb", icmp_to_pcb)]

if __name__ == "__main__":
    r = Runner("udp")
    if not netns.available():
        print("SKIP udp: needs root and /dev/net/tun")
        r.failed += 1
        sys.exit(r.done())
    # RVNET_UDP_CASES=name,name runs only those cases (debugging).
    only = os.environ.get("RVNET_UDP_CASES")
    # Every case on M-mode (legacy virtio); the echo cases once more on the
    # other privilege mode and transport flavour (the GEM has one).
    passes = [("m", False, MCAST_CASES + UNICAST_CASES)]
    if NIC != "gem":
        passes.append(("s", True, [MCAST_CASES[0], UNICAST_CASES[0], UNICAST_CASES[2]]))
    for mode, modern, cases in passes:
        t = flavour_name(modern)
        for name, fn in cases:
            if only and name not in only.split(","):
                continue
            full = f"{name}-{mode}-{t}"
            r.run(full, scenario, full, mode, modern, fn)
    sys.exit(r.done())
