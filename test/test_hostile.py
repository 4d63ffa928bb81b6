"""Robustness end to end: malformed and hostile frames, hand-built with
struct and injected on a tap device (raw AF_PACKET socket) into the echo
firmware, in a network namespace the test makes (tap0 = 10.0.2.2/24).

Every case sends its frames, checks what the guest sent back (the answer
it must give, or silence where none is allowed), then checks that a
normal UDP echo from an ordinary socket still works and that the counter
naming the reason moved, with the accounting identity intact.

Two kinds cannot travel over a tap as asked, and take the nearest way in:
  runt      the kernel refuses AF_PACKET frames shorter than an Ethernet
            header (EINVAL), so runts come in over QEMU's UDP socket
            backend instead (one datagram = one frame, any length);
  oversize  the tap carries frames > 1514 once its MTU is raised, but
            QEMU drops them itself: the guest's receive buffers hold
            1514 bytes (no mergeable buffers), so nothing reaches the
            firmware; the case checks exactly that, and that a full
            1514-byte frame still works.

Then a flood on a second guest: a million datagrams of mixed sizes (some
fragmented), offered far faster than the guest can answer, after which
it must answer at once with its pool whole and its counters consistent.
"""
import errno
import random
import re
import select
import socket
import struct
import sys
import time
from guest import NIC, Guest, Runner, nic_device, csum
import netns

IMAGE_VARIANT = ""  # build/firmware.elf
# Every NIC filters destination MACs in hardware, so a frame for another
# host never reaches the stack: the GEM by its specific address, virtio-net
# by the MAC table the driver programs over the control queue (QEMU offers
# VIRTIO_NET_F_CTRL_RX). The GEM also reports every frame as at least 60
# bytes (QEMU pads a shorter one as a wire would, the tail being whatever
# the buffer held), so the stack sees no short frame.
MAC_FILTER = True
PADS_TO_60 = NIC == "gem"
# The passes: (privilege mode, modern virtio). On sifive_u both modes; on
# virtio-pci the legacy device in M-mode and the modern one in S-mode (so
# both device kinds and both modes meet every case); on virtio-mmio, the
# main configuration, M-mode legacy (the tap and hostfwd groups cover the
# rest there).
PASSES = {"gem": (("m", False), ("s", False)),
          "virtio-pci": (("m", False), ("s", True))}.get(NIC, (("m", False),))
MODE, MODERN = "m", False  # the current pass

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
GMAC = bytes.fromhex("525400123456")
BMAC = b"\xff" * 6
FAKE = bytes.fromhex("02deadbeef01")
OTHER = bytes.fromhex("02000000aa99")
MCAST_MAC = bytes.fromhex("01005e000001")
GIP, HIP = "10.0.2.15", "10.0.2.2"
SUBNET_BCAST = "10.0.2.255"
ALL_BCAST = "255.255.255.255"
SPORT = 40007  # our source port for hand-built datagrams (an absorbing socket is bound to it)
T_WATCH = 0.3  # how long silence is watched for
T_REPLY = 1.0  # how long an expected answer may take

ETH_IP, ETH_ARP = 0x0800, 0x0806
IP_MF = 0x2000


# ---- frame building -------------------------------------------------------

def ip4(a):
    return socket.inet_aton(a)


def eth(payload, etype=ETH_IP, dst=GMAC, src=None):
    return dst + (src or H.hmac) + struct.pack("!H", etype) + payload


def ipv4(payload, src=HIP, dst=GIP, proto=17, ident=None, frag=0, ttl=64, opts=b"",
         vhl=None, total=None, bad_csum=False):
    """An IPv4 header (+ payload); vhl/total override the true values."""
    if ident is None:
        ident = random.randrange(0x10000)
    hl = 20 + len(opts)
    assert hl % 4 == 0
    v = vhl if vhl is not None else 0x40 | hl // 4
    t = total if total is not None else hl + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", v, 0, t, ident, frag, ttl, proto, 0, ip4(src),
                    ip4(dst)) + opts
    c = csum(h)
    if bad_csum:
        c ^= 0x5a5a
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def udp(payload, sport=SPORT, dport=7, src=HIP, dst=GIP, ulen=None, ck=None):
    """A UDP header + payload; ck None = correct checksum, else the value."""
    n = 8 + len(payload)
    ul = ulen if ulen is not None else n
    h = struct.pack("!HHHH", sport, dport, ul, 0)
    if ck is None:
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, n)
        ck = csum(pseudo + h + payload) or 0xffff
    return h[:6] + struct.pack("!H", ck) + payload


def icmp(typ, code, body, bad_csum=False):
    m = struct.pack("!BBH", typ, code, 0) + body
    c = csum(m) ^ (0x1111 if bad_csum else 0)
    return m[:2] + struct.pack("!H", c) + m[4:]


def arp(op=1, sha=None, spa=HIP, tha=b"\0" * 6, tpa=GIP, htype=1, ptype=ETH_IP, hlen=6,
        plen=4):
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + (sha or H.hmac) + ip4(spa) + \
        tha + ip4(tpa)


def udp_ip(payload, src=HIP, dst=GIP, sport=SPORT, dport=7, **kw):
    return ipv4(udp(payload, sport, dport, src, dst), src=src, dst=dst, **kw)


def fragments(dgram_payload, proto, sizes, ident, src=HIP, dst=GIP):
    """IP fragments of one transport payload: a list of (offset, ip packet)."""
    out, off = [], 0
    for n in sizes:
        chunk = dgram_payload[off:off + n]
        more = off + n < len(dgram_payload)
        out.append((off, ipv4(chunk, src, dst, proto, ident, (off // 8) | (IP_MF if more else 0))))
        off += n
    assert off == len(dgram_payload)
    return out


def rnd_payload(n):
    return bytes(random.randrange(256) for _ in range(n))


# ---- frame parsing --------------------------------------------------------

class Frame:
    def __init__(self, f):
        self.raw = f
        self.dst, self.src = f[0:6], f[6:12]
        self.type = struct.unpack("!H", f[12:14])[0] if len(f) >= 14 else None
        self.arp_op = self.ip = self.proto = None
        b = f[14:]
        if self.type == ETH_ARP and len(b) >= 28:
            self.arp_op = struct.unpack("!H", b[6:8])[0]
            self.arp_sha, self.arp_tha = b[8:14], b[18:24]
            self.arp_spa, self.arp_tpa = socket.inet_ntoa(b[14:18]), socket.inet_ntoa(b[24:28])
        elif self.type == ETH_IP and len(b) >= 20:
            hl = (b[0] & 15) * 4
            self.ip = b
            self.total = struct.unpack("!H", b[2:4])[0]
            self.ident, self.frag = struct.unpack("!HH", b[4:8])
            self.proto = b[9]
            self.ip_src, self.ip_dst = socket.inet_ntoa(b[12:16]), socket.inet_ntoa(b[16:20])
            self.ip_csum_ok = csum(b[:hl]) == 0
            l4 = b[hl:self.total]
            self.l4 = l4
            if self.proto == 17 and len(l4) >= 8 and not self.frag & 0x3fff:
                self.sport, self.dport, self.ulen, self.uck = struct.unpack("!HHHH", l4[:8])
                self.data = l4[8:self.ulen]
                pseudo = b[12:20] + struct.pack("!BBH", 0, 17, len(l4))
                self.udp_csum_ok = self.uck != 0 and csum(pseudo + l4) == 0
            elif self.proto == 1 and len(l4) >= 8:
                self.icmp_type, self.icmp_code = l4[0], l4[1]
                self.icmp_csum_ok = csum(l4) == 0
                self.quote = l4[8:]

    def is_udp_reply(self, payload, dport=SPORT):
        return self.proto == 17 and getattr(self, "sport", None) == 7 and \
            self.dport == dport and self.ip_src == GIP and self.data == payload

    def is_icmp(self, typ, code=None):
        return self.proto == 1 and getattr(self, "icmp_type", None) == typ and \
            (code is None or self.icmp_code == code)

    def __repr__(self):
        return self.raw[:80].hex()


def hexes(frames, n=96):
    return " | ".join(f[:n].hex() + ("..." if len(f) > n else "") + f" ({len(f)}B)"
                      for f in frames)


# ---- the harness around one guest ----------------------------------------

class Host:
    """The host end of tap0: a raw socket to inject and watch frames, an
    ordinary UDP socket for the normal echo, one absorbing SPORT."""

    def __init__(self, tap):
        self.tap = tap
        self.g = None
        self.raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.raw.bind((tap, 0))
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.hmac = self.raw.getsockname()[4]
        self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.u.bind((HIP, 0))
        self.sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sink.bind((HIP, SPORT))  # takes the answers to SPORT, so no port unreachable

    def close(self):
        for s in (self.raw, self.u, self.sink):
            s.close()

    def boot(self):
        if self.g is not None:
            self.g.stop()
        self.g = Guest(mode=MODE, modern=MODERN, variant=IMAGE_VARIANT, net=netns.tap_net(self.tap))
        assert self.g.boot(), "no ready line:\n" + self.g.out[-800:]
        assert self.echo(tries=3), "first echo failed"

    def alive(self):
        return self.g is not None and self.g.proc.poll() is None

    def stats(self):
        st = self.g.stats()
        assert st is not None, "no stats (guest dead?)\n" + self.g.out[-800:]
        return st

    def send(self, f):
        self.raw.send(f)

    def drain(self):
        while select.select([self.raw], [], [], 0)[0]:
            self.raw.recv(65536)
        while select.select([self.sink], [], [], 0)[0]:
            self.sink.recv(65536)

    def collect(self, timeout, until=None):
        """Frames the guest sent within timeout (stop early once until(frame))."""
        got = []
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0 or not select.select([self.raw], [], [], left)[0]:
                return got
            data, addr = self.raw.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING or data[6:12] != GMAC:
                continue
            fr = Frame(data)
            got.append(fr)
            if until is not None and until(fr):
                return got

    def echo(self, payload=None, tries=2, timeout=1.0):
        """A normal echo through the kernel's UDP socket; True if it came back."""
        if payload is None:
            payload = rnd_payload(random.randint(1, 200))
        for _ in range(tries):
            self.u.sendto(payload, (GIP, 7))
            end = time.time() + timeout
            while True:
                left = end - time.time()
                if left <= 0 or not select.select([self.u], [], [], left)[0]:
                    break
                data, src = self.u.recvfrom(65536)
                if data == payload and src == (GIP, 7):
                    return True
        return False

    def arp_table(self):
        text = self.g.command("arp") or ""
        return {m.group(1): (m.group(2), m.group(3)) for m in
                re.finditer(r"^(\d+\.\d+\.\d+\.\d+)\s+([0-9a-f:]{17})\s+(\w+)", text, re.M)}, text


H = None  # the current Host (frame builders use its MAC)


def mac_str(m):
    return ":".join(f"{b:02x}" for b in m)


def delta(st0, st1):
    return {k: st1[k] - st0.get(k, 0) for k in st1
            if isinstance(st1[k], int) and not isinstance(st1[k], bool) and st1[k] != st0.get(k, 0)}


def no_answer(fr):
    """Frames the guest must not send in reply to a hostile frame: any IPv4,
    any ARP reply (its own ARP requests are resolution, not answers)."""
    return fr.type == ETH_IP or (fr.type == ETH_ARP and fr.arp_op == 2)


def hostile(frames, counters, expect=None, quiet=True, watch=T_WATCH, exactly_one=False):
    """The common case: send frames, check the answer (expect: a predicate
    one frame from the guest must satisfy) or the silence (quiet), then a
    normal echo, then that every counter in counters moved."""
    h = H
    assert h.alive(), "guest is not running"
    st0 = h.stats()
    h.drain()
    for f in frames:
        h.send(f)
    sent = hexes(frames)
    if expect is not None:
        got = h.collect(T_REPLY, until=expect)
        assert any(expect(x) for x in got), \
            f"no expected answer to [{sent}]; guest sent {got}"
        if exactly_one:
            more = h.collect(watch)
            assert not any(expect(x) for x in more), f"answered twice: {more}"
    elif quiet:
        got = [x for x in h.collect(watch) if no_answer(x)]
        assert not got, f"guest answered [{sent}] with {got}"
    assert h.echo(), f"normal echo failed after [{sent}]"
    st1 = h.stats()
    d = delta(st0, st1)
    padded = PADS_TO_60 and any(len(f) < 60 for f in frames)
    for c in counters:
        assert c in st1, f"no counter {c}"
        if d.get(c, 0) >= 1:
            continue
        # Padded to 60 bytes (zeros, as on a wire), the frame is another
        # one: it may fail a different check first, or be a valid frame
        # that asks for nothing. Silence and the accounting still hold.
        assert padded, f"{c} did not move; deltas {d}; frames [{sent}]"
        moved = [k for k in d if k.split(".")[0] in ("eth", "arp", "ip", "icmp", "udp")
                 and not k.endswith((".rx", ".tx", ".delivered", ".to_ip", ".to_arp"))]
        print(f"  {c}: the frame arrived padded to 60 bytes; moved: {', '.join(moved)}")
    assert st1["check_ok"], f"accounting identity broken; deltas {d}; frames [{sent}]"
    assert st1["pool.bad_free"] == 0, f"bad_free {st1['pool.bad_free']}"
    return d


def ok_udp(payload, **kw):
    return lambda fr: fr.is_udp_reply(payload, **kw)


# ---- the cases --------------------------------------------------------------

ECHO = b"hostile-echo-probe"


def good_echo_ip(**kw):
    return udp_ip(ECHO, **kw)


def c_eth_header_only():
    hostile([eth(b"")], ["ip.drop_short"])


def c_unknown_ethertype():
    hostile([eth(rnd_payload(46), etype=0x88B5)], ["eth.drop_type"])


def c_vlan_tag():
    tag = struct.pack("!HH", 5, ETH_IP)  # VID 5, then the inner type
    hostile([eth(tag + good_echo_ip(), etype=0x8100)], ["eth.drop_vlan"])


def c_qinq_tag():
    tag = struct.pack("!HHHH", 5, 0x8100, 6, ETH_IP)
    hostile([eth(tag + good_echo_ip(), etype=0x88A8)], ["eth.drop_vlan"])


def c_src_mac_multicast():
    hostile([eth(good_echo_ip(), src=MCAST_MAC)], ["eth.drop_src_mcast"])


def c_src_mac_broadcast():
    hostile([eth(good_echo_ip(), src=BMAC)], ["eth.drop_src_mcast"])


def c_src_mac_zero():
    """No station has the zero MAC: a reply to it would go nowhere."""
    hostile([eth(good_echo_ip(), src=bytes(6))], ["eth.drop_src_zero"])


def c_src_mac_ours():
    """A looped or spoofed frame from our own MAC: its reply would be
    addressed to ourselves."""
    hostile([eth(good_echo_ip(), src=GMAC)], ["eth.drop_src_ours"])


def not_ours(frames):
    """Silence; the stack counts the frame, or the MAC's filter keeps it out."""
    d = hostile(frames, [] if MAC_FILTER else ["eth.drop_not_ours"])
    if MAC_FILTER:
        assert not d.get("eth.drop_not_ours"), f"the address filter let it in: {d}"


def c_dst_mac_other_host():
    not_ours([eth(good_echo_ip(), dst=OTHER)])


def c_dst_mac_multicast():
    """All-hosts' MAC, which every NIC passes (we are in that group),
    carrying a datagram to our own address: the stack drops it."""
    hostile([eth(good_echo_ip(), dst=MCAST_MAC)], ["eth.drop_not_ours"])


def c_oversize_frame():
    """> 1514 bytes: the tap carries it (MTU raised), QEMU cannot place it
    in a 1514-byte receive buffer and drops it; the guest must not see it
    (or, if it ever does, count it as oversize), and a full-size frame
    right after still works."""
    h = H
    netns.sh("ip", "link", "set", h.tap, "mtu", "2000")
    try:
        big = eth(udp_ip(rnd_payload(1600 - 14 - 28)))
        assert len(big) == 1600
        st0 = h.stats()
        h.drain()
        h.send(big)
        got = [x for x in h.collect(T_WATCH) if no_answer(x)]
        assert not got, f"guest answered a 1600-byte frame: {got}"
        st1 = h.stats()
        d = delta(st0, st1)
        assert d.get("eth.drop_oversize", 0) >= 1 or d.get("nic.rx", 0) == 0, \
            f"a 1600-byte frame reached the guest uncounted: {d}"
        note = "counted eth.drop_oversize" if d.get("eth.drop_oversize", 0) else \
            "dropped by QEMU before the guest (1514-byte RX buffers)"
        print(f"  oversize: 1600-byte frame {note}")
    finally:
        netns.sh("ip", "link", "set", h.tap, "mtu", "1500")
    # The largest frame that can reach the guest: 1514 bytes, echoed whole.
    p = rnd_payload(1472)
    f = eth(udp_ip(p))
    assert len(f) == 1514
    hostile([f], ["echo.replied"], expect=ok_udp(p))


def c_arp_truncated():
    hostile([eth(arp()[:20], ETH_ARP, dst=BMAC)], ["arp.drop_malformed"])


def c_arp_bad_htype():
    hostile([eth(arp(htype=6), ETH_ARP, dst=BMAC)], ["arp.drop_malformed"])


def c_arp_bad_ptype():
    hostile([eth(arp(ptype=0x86DD), ETH_ARP, dst=BMAC)], ["arp.drop_malformed"])


def c_arp_bad_hlen():
    hostile([eth(arp(hlen=8), ETH_ARP, dst=BMAC)], ["arp.drop_malformed"])


def c_arp_bad_plen():
    hostile([eth(arp(plen=16), ETH_ARP, dst=BMAC)], ["arp.drop_malformed"])


def c_arp_bad_opcode():
    hostile([eth(arp(op=3), ETH_ARP, dst=BMAC)], ["arp.drop_malformed"])


def gw_mac_unchanged(why):
    table, text = H.arp_table()
    got = table.get(HIP)
    assert got is not None and got[0] == mac_str(H.hmac), \
        f"{why}: ARP entry for {HIP} is {got}, expected {mac_str(H.hmac)}; `arp` printed:\n{text}"


def c_arp_sender_broadcast_mac():
    hostile([eth(arp(sha=BMAC), ETH_ARP, dst=BMAC)], ["arp.drop_bad_sender"])
    gw_mac_unchanged("after an ARP request from a broadcast sender MAC")


def c_arp_sender_zero_mac():
    hostile([eth(arp(sha=b"\0" * 6), ETH_ARP, dst=BMAC)], ["arp.drop_bad_sender"])
    gw_mac_unchanged("after an ARP request from a zero sender MAC")


def c_arp_sender_our_mac():
    hostile([eth(arp(sha=GMAC), ETH_ARP, dst=BMAC)], ["arp.drop_bad_sender"])
    gw_mac_unchanged("after an ARP request claiming the guest's own MAC")


def c_arp_sender_ip_broadcast():
    hostile([eth(arp(sha=FAKE, spa=SUBNET_BCAST), ETH_ARP, dst=BMAC)], ["arp.drop_bad_sender"])


def c_arp_sender_ip_multicast():
    hostile([eth(arp(sha=FAKE, spa="224.0.0.9"), ETH_ARP, dst=BMAC)], ["arp.drop_bad_sender"])


def c_arp_unsolicited_new():
    """An unsolicited reply for an address the guest never asked about
    must not make an entry."""
    f = eth(arp(op=2, sha=FAKE, spa="10.0.2.77", tha=GMAC), ETH_ARP, src=FAKE)
    hostile([f], ["arp.ignored"])
    table, text = H.arp_table()
    assert "10.0.2.77" not in table, f"unsolicited reply created an entry:\n{text}"


def c_arp_update_existing():
    """RFC 826's merge rule (issue 4): an ARP packet naming an address that
    is already in the cache updates it, even an unsolicited reply; only
    creating entries is restricted (see c_arp_unsolicited_new). The guest
    must not answer it, and must come back to the real MAC as soon as the
    real host speaks ARP again."""
    h = H
    f = eth(arp(op=2, sha=FAKE, spa=HIP, tha=GMAC), ETH_ARP, src=FAKE)
    try:
        table, text = h.arp_table()
        assert table.get(HIP, ("",))[0] == mac_str(h.hmac), \
            f"before: no entry {HIP} at {mac_str(h.hmac)} in `arp`:\n{text}"
        st0 = h.stats()
        h.drain()
        h.send(f)
        got = [x for x in h.collect(T_WATCH) if no_answer(x)]
        assert not got, f"guest answered the unsolicited reply: {got}"
        st1 = h.stats()
        d = delta(st0, st1)
        assert d.get("arp.learned", 0) >= 1, f"arp.learned did not move; deltas {d}"
        table, text = h.arp_table()
        assert table.get(HIP, ("",))[0] == mac_str(FAKE), f"entry not updated:\n{text}"
        assert st1["check_ok"], d
    finally:
        # The real host asks for the guest again: its request names HIP with
        # the real MAC, so the merge rule restores the entry.
        netns.sh("ip", "neigh", "flush", "dev", h.tap)
        ok = h.echo(tries=3)
        table, text = h.arp_table()
    assert ok, "normal echo failed after the kernel re-resolved the guest"
    assert table.get(HIP, ("",))[0] == mac_str(h.hmac), f"after kernel ARP:\n{text}"


def c_arp_claims_our_ip():
    """Someone announces the guest's own address: counted as a conflict,
    the guest defends it (announces itself) and keeps answering."""
    f = eth(arp(op=1, sha=FAKE, spa=GIP, tpa=GIP), ETH_ARP, dst=BMAC, src=FAKE)
    defend = lambda fr: fr.type == ETH_ARP and fr.arp_sha == GMAC and fr.arp_spa == GIP  # noqa
    d = hostile([f], ["arp.conflict"], expect=defend)
    assert d.get("arp.defended", 0) >= 1, d
    # Still answers an ordinary request for its address.
    q = eth(arp(op=1), ETH_ARP, dst=BMAC)
    reply = lambda fr: fr.type == ETH_ARP and fr.arp_op == 2 and fr.arp_sha == GMAC and \
        fr.arp_spa == GIP and fr.arp_tpa == HIP and fr.dst == H.hmac  # noqa
    hostile([q], ["arp.replied"], expect=reply)


def c_ip_truncated_header():
    hostile([eth(good_echo_ip()[:10])], ["ip.drop_short"])


def c_ip_version_6():
    v6 = struct.pack("!IHBB", 6 << 28, 16, 17, 64) + b"\xfe\x80" + b"\0" * 13 + b"\x02" + \
        b"\xfe\x80" + b"\0" * 13 + b"\x0f" + udp(b"ipv6-in-ipv4!!!!"[:8])
    hostile([eth(v6)], ["ip.drop_version"])


def c_ip_ihl_below_5():
    hostile([eth(udp_ip(ECHO, vhl=0x44))], ["ip.drop_hlen"])


def c_ip_ihl_beyond_total():
    # IHL 15 (60 bytes) in a datagram whose total length says 40
    p = udp_ip(rnd_payload(60), vhl=0x4f, total=40)
    hostile([eth(p)], ["ip.drop_hlen"])


def c_ip_bad_checksum():
    hostile([eth(udp_ip(ECHO, bad_csum=True))], ["ip.drop_csum"])


def c_ip_total_beyond_frame():
    hostile([eth(udp_ip(ECHO, total=1000))], ["ip.drop_short"])


def c_eth_padding():
    """A short echo in a minimum (60-byte) frame padded with junk: echoed
    with the datagram's own length, not the frame's."""
    p = b"pad!"
    f = eth(udp_ip(p))
    f += b"\xaa" * (60 - len(f))
    exp = lambda fr: fr.is_udp_reply(p) and fr.total == 32 and fr.ulen == 12 and \
        fr.udp_csum_ok and fr.ip_csum_ok  # noqa
    hostile([f], ["echo.replied"], expect=exp)


def c_ip_options():
    """Valid options (router alert, NOPs, end of list): still answered."""
    p = rnd_payload(40)
    opts = bytes([0x94, 4, 0, 0, 1, 1, 1, 0])
    exp = lambda fr: fr.is_udp_reply(p) and fr.udp_csum_ok and fr.ip_csum_ok  # noqa
    hostile([eth(udp_ip(p, opts=opts))], ["echo.replied", "ip.delivered"], expect=exp)


def src_case(addr):
    return lambda: hostile([eth(udp_ip(ECHO, src=addr))], ["ip.drop_src"])


def c_dst_other_host():
    hostile([eth(udp_ip(ECHO, dst="10.0.2.99"))], ["ip.drop_not_ours"])


def c_dst_zero():
    hostile([eth(udp_ip(ECHO, dst="0.0.0.0"))], ["ip.drop_not_ours"])


def c_arp_request_other_ip():
    """A stranger asks for someone else: no answer, and no entry for it."""
    f = eth(arp(sha=FAKE, spa="10.0.2.66", tpa="10.0.2.99"), ETH_ARP, dst=BMAC, src=FAKE)
    hostile([f], ["arp.ignored"])
    table, text = H.arp_table()
    assert "10.0.2.66" not in table, f"a request for another host created an entry:\n{text}"


def c_dst_multicast():
    hostile([eth(udp_ip(ECHO, dst="224.0.0.251"))], ["ip.drop_not_ours"])


def c_unknown_protocol():
    ident = 0x4242
    pk = ipv4(rnd_payload(16), proto=253, ident=ident)

    def exp(fr):
        return fr.is_icmp(3, 2) and fr.ip_dst == HIP and fr.icmp_csum_ok and \
            len(fr.quote) >= 28 and fr.quote[9] == 253 and fr.quote[4:6] == struct.pack("!H", ident)
    hostile([eth(pk)], ["ip.drop_proto", "icmp.tx_err_sent"], expect=exp)


def c_udp_truncated_header():
    hostile([eth(ipv4(udp(ECHO)[:4]))], ["udp.drop_short"])


def c_udp_length_below_8():
    hostile([eth(ipv4(udp(ECHO, ulen=4)))], ["udp.drop_short"])


def c_udp_length_beyond_ip():
    hostile([eth(ipv4(udp(ECHO, ulen=200)))], ["udp.drop_short"])


def c_udp_bad_checksum():
    good = udp(ECHO)
    ck = struct.unpack("!H", good[6:8])[0] ^ 0x0404
    hostile([eth(ipv4(udp(ECHO, ck=ck or 1)))], ["udp.drop_csum"])


def c_udp_checksum_zero():
    p = rnd_payload(33)
    exp = lambda fr: fr.is_udp_reply(p) and fr.udp_csum_ok  # noqa
    hostile([eth(ipv4(udp(p, ck=0)))], ["echo.replied"], expect=exp)


def c_udp_closed_port():
    def exp(fr):
        return fr.is_icmp(3, 3) and fr.ip_dst == HIP and fr.icmp_csum_ok and \
            len(fr.quote) >= 28 and fr.quote[22:24] == struct.pack("!H", 9999)
    hostile([eth(udp_ip(ECHO, dport=9999))], ["udp.drop_no_port", "icmp.tx_err_sent"], expect=exp)


def c_udp_closed_port_subnet_bcast():
    hostile([eth(udp_ip(ECHO, dst=SUBNET_BCAST, dport=9999), dst=BMAC)], ["udp.drop_no_port"])


def c_udp_closed_port_all_bcast():
    hostile([eth(udp_ip(ECHO, dst=ALL_BCAST, dport=9999), dst=BMAC)], ["udp.drop_no_port"])


def c_udp_closed_port_bcast_ip_unicast_mac():
    hostile([eth(udp_ip(ECHO, dst=SUBNET_BCAST, dport=9999))], ["udp.drop_no_port"])


def sport_case(port):
    # From the service's own port: another echo service, a loop (drop_loop).
    counter = "echo.drop_loop" if port == 7 else "echo.drop_src"
    return lambda: hostile([eth(udp_ip(ECHO, sport=port))], [counter])


def c_echo_to_subnet_bcast():
    hostile([eth(udp_ip(ECHO, dst=SUBNET_BCAST), dst=BMAC)], ["echo.drop_bcast"])


def c_echo_to_all_bcast():
    hostile([eth(udp_ip(ECHO, dst=ALL_BCAST), dst=BMAC)], ["echo.drop_bcast"])


def ping(dst=GIP, bad_csum=False, ident=0x1234, seq=1, data=b"hostile-ping-data"):
    return ipv4(icmp(8, 0, struct.pack("!HH", ident, seq) + data, bad_csum), dst=dst, proto=1)


def c_icmp_echo_valid():
    exp = lambda fr: fr.is_icmp(0, 0) and fr.icmp_csum_ok and fr.ip_dst == HIP and \
        fr.l4[4:] == struct.pack("!HH", 0x1234, 7) + b"hostile-ping-data"  # noqa
    hostile([eth(ping(seq=7))], ["icmp.echo_replied"], expect=exp)


def c_icmp_bad_checksum():
    hostile([eth(ping(bad_csum=True))], ["icmp.drop_csum"])


def c_icmp_truncated():
    hostile([eth(ipv4(bytes([8, 0, 0xf7, 0xff]), proto=1))], ["icmp.drop_short"])


def c_icmp_echo_subnet_bcast():
    hostile([eth(ping(dst=SUBNET_BCAST), dst=BMAC)], ["icmp.drop_bcast_echo"])


def c_icmp_echo_all_bcast():
    hostile([eth(ping(dst=ALL_BCAST), dst=BMAC)], ["icmp.drop_bcast_echo"])


def quoted_udp():
    """What an error message would quote: a datagram the guest sent us."""
    return udp_ip(b"12345678", src=GIP, dst=HIP, sport=7, dport=SPORT)[:28]


# An error quoting a datagram of the echo's PCB (port 7, from us) goes to
# that PCB (udp.h: udp_err); one quoting anything but UDP is dropped.
def c_icmp_error_unreachable():
    hostile([eth(ipv4(icmp(3, 3, b"\0" * 4 + quoted_udp()), proto=1))], ["icmp.err_delivered"])


def c_icmp_error_time_exceeded():
    hostile([eth(ipv4(icmp(11, 0, b"\0" * 4 + quoted_udp()), proto=1))], ["icmp.err_delivered"])


def c_icmp_error_about_icmp_error():
    inner = ipv4(icmp(3, 1, b"\0" * 4 + quoted_udp()), src=GIP, dst=HIP, proto=1)[:28]
    hostile([eth(ipv4(icmp(3, 3, b"\0" * 4 + inner), proto=1))], ["icmp.drop_err_quote"])


def c_icmp_unsolicited_echo_reply():
    hostile([eth(ipv4(icmp(0, 0, b"\x12\x34\0\1nobody-asked"), proto=1))], ["icmp.consumed"])


def frag_frames(payload, sizes, ident, sport=SPORT):
    u = udp(payload, sport=sport)
    return [eth(p) for _, p in fragments(u, 17, sizes, ident)]


def whole_udp(payload):
    """A predicate for the reply to a reassembled echo: the guest answers
    a chain fragment by fragment in place, so the reply is put back
    together from its fragments (by offset) before it is compared."""
    pieces = {}

    def whole(fr):
        if fr.proto != 17 or fr.ip_src != GIP:
            return False
        if not fr.frag & (IP_MF | 0x1fff):
            return fr.is_udp_reply(payload)
        pieces.setdefault(fr.ident, {})[(fr.frag & 0x1fff) * 8] = (fr.l4, fr.frag & IP_MF)
        got, off, out = pieces[fr.ident], 0, b""
        while off in got:
            out += got[off][0]
            if not got[off][1]:
                return out[8:] == payload and len(out) == 8 + len(payload)
            off += len(got[off][0])
        return False
    return whole


def c_frag_overlap_different():
    u = udp(rnd_payload(40))  # 48 bytes
    f1 = ipv4(u[:24], ident=0x5101, frag=0 | IP_MF)
    other = bytes(b ^ 0xff for b in u[16:32])
    f2 = ipv4(other, ident=0x5101, frag=2 | IP_MF)  # bytes 16..32: 16..24 overlap, differ
    f3 = ipv4(u[32:], ident=0x5101, frag=4)
    # f3 before f2: the conflict discards the datagram with nothing after
    # it to start a new one (which would hold a slot for 30 s)
    d = hostile([eth(f1), eth(f3), eth(f2)], ["ip.drop_frag", "ip.reass_bad"])
    assert d.get("ip.reass_ok", 0) == 0, f"a datagram with conflicting fragments completed: {d}"


def c_frag_overlap_same_data():
    """Fragments that overlap, even with the same bytes, discard the
    datagram (RFC 5722; the pieces of a chain never overlap)."""
    p = rnd_payload(40)
    u = udp(p)
    f1 = ipv4(u[:24], ident=0x5102, frag=0 | IP_MF)
    f2 = ipv4(u[16:32], ident=0x5102, frag=2 | IP_MF)  # overlaps f1 with the same bytes
    f3 = ipv4(u[32:], ident=0x5102, frag=4)
    d = hostile([eth(f1), eth(f2), eth(f3)], ["ip.reass_bad"])
    assert d.get("ip.reass_ok", 0) == 0, f"an overlapping datagram completed: {d}"


def c_frag_oversize_reassembly():
    """Past the old 8 KiB copy slots: held now (chains reach 65,535),
    and unanswered while the hole stays."""
    u = udp(rnd_payload(1472))
    f1 = ipv4(u[:1480], ident=0x5103, frag=0 | IP_MF)
    f2 = ipv4(rnd_payload(16), ident=0x5103, frag=8184 // 8)  # ends at 8200 > 8192
    hostile([eth(f1), eth(f2)], ["ip.frag_held"])


def c_frag_ping_of_death():
    """The last fragment at offset 65528: the datagram would pass 65535."""
    f1 = ipv4(udp(rnd_payload(1472))[:1480], ident=0x5104, frag=IP_MF)
    f2 = ipv4(rnd_payload(1000), ident=0x5104, frag=0x1fff)
    hostile([eth(f1), eth(f2)], ["ip.drop_frag"])


def c_frag_unaligned():
    """A non-last fragment whose length is no multiple of 8."""
    hostile([eth(ipv4(udp(rnd_payload(40))[:13], ident=0x5105, frag=IP_MF))], ["ip.drop_frag"])


def c_frag_tiny():
    """An echo in 8-byte fragments (15 of them): echoed whole, once."""
    p = rnd_payload(112)
    frames = frag_frames(p, [8] * 15, 0x5106)
    hostile(frames, ["ip.reass_ok", "echo.replied"], expect=whole_udp(p))


def c_frag_duplicates():
    """Duplicated fragments, out of order: echoed correctly, once."""
    p = rnd_payload(1000)
    fr = frag_frames(p, [256, 256, 256, 240], 0x5107)
    order = [fr[3], fr[1], fr[1], fr[0], fr[0], fr[0], fr[2]]  # the last one completes it
    hostile(order, ["ip.reass_ok", "echo.replied", "ip.frag_held"], expect=whole_udp(p))


def c_frag_conflicting_length():
    """A last fragment ending before data already stored: discarded, with
    the datagram it claims to end."""
    f1 = ipv4(udp(rnd_payload(1472))[:1480], ident=0x5108, frag=IP_MF)
    f2 = ipv4(rnd_payload(8), ident=0x5108, frag=1)  # last, ends at 16 < 1480
    hostile([eth(f1), eth(f2)], ["ip.drop_frag", "ip.reass_bad"])


def c_icmp_echo_fragmented():
    """A 3000-byte ping in three fragments: answered, in fragments that
    put back together give the same data."""
    data = rnd_payload(3000)
    msg = icmp(8, 0, struct.pack("!HH", 0x77, 1) + data)
    frames = [eth(p) for _, p in fragments(msg, 1, [1480, 1480, 48], 0x5109)]
    pieces = {}

    def whole(fr):
        if fr.proto != 1 or fr.ip_src != GIP:
            return False
        pieces.setdefault(fr.ident, {})[(fr.frag & 0x1fff) * 8] = (fr.l4, fr.frag & IP_MF)
        got = pieces[fr.ident]
        off, out = 0, b""
        while off in got:
            out += got[off][0]
            if not got[off][1]:
                return out[:1] == b"\0" and csum(out) == 0 and out[4:] == msg[4:]
            off += len(got[off][0])
        return False
    d = hostile(frames, ["ip.reass_ok", "icmp.echo_replied"], expect=whole)
    assert d.get("ip.tx_frag", 0) >= 3, d


def c_frag_slot_flood():
    """First fragments of many datagrams (distinct IDs) fill every
    reassembly slot, each newcomer evicting the oldest; unfragmented echo
    still works meanwhile, and so does a 3000-byte echo the kernel
    fragments (it evicts the oldest stale datagram); the rest time out
    (time exceeded sent), and a fragmented echo comes back whole."""
    h = H
    firsts = [eth(ipv4(udp(rnd_payload(2000))[:1480], ident=0x6000 + i, frag=IP_MF))
              for i in range(12)]
    st_before = h.stats()
    d = hostile(firsts, ["ip.frag_held", "ip.reass_evict"])
    t_full = time.time()
    held = d.get("ip.frag_held", 0)
    assert held >= 1, d
    # Slots full: plain echoes are untouched.
    for _ in range(5):
        assert h.echo(), "unfragmented echo failed while the reassembly slots are full"
    st0 = h.stats()
    big = rnd_payload(3000)
    full_ok = h.echo(big, tries=1, timeout=0.5)
    st1 = h.stats()
    dd = delta(st0, st1)
    print(f"  slots full: {held} datagrams started, 3000-byte echo "
          f"{'answered' if full_ok else 'refused'} (reass_evict +{dd.get('ip.reass_evict', 0)})")
    assert full_ok, "a fragmented echo was refused while stale datagrams filled the slots"
    # What is left to time out: the datagrams started, less those evicted.
    held -= st1["ip.reass_evict"] - st_before["ip.reass_evict"]
    # Wait out CFG_REASS_TIMEOUT_MS (30 s) once; collect the time-exceeded errors.
    h.drain()
    tx = []
    end = t_full + 40
    while time.time() < end:
        tx += [x for x in h.collect(1.0) if x.is_icmp(11, 1)]
        st = h.stats()
        if st["ip.reass_timeout"] - st0["ip.reass_timeout"] >= held:
            break
    waited = time.time() - t_full
    st2 = h.stats()
    dt = st2["ip.reass_timeout"] - st0["ip.reass_timeout"]
    assert dt >= held, f"slots did not time out in {waited:.0f} s: {delta(st0, st2)}"
    assert 25 <= waited, f"slots timed out after {waited:.1f} s, before CFG_REASS_TIMEOUT_MS"
    tx += [x for x in h.collect(0.3) if x.is_icmp(11, 1)]
    assert tx, "no ICMP time exceeded (reassembly) sent for the expired datagrams"
    assert all(x.ip_dst == HIP and x.icmp_csum_ok for x in tx), tx
    print(f"  slots timed out after {waited:.1f} s, {len(tx)} time-exceeded sent")
    st0 = h.stats()
    big = rnd_payload(3000)
    assert h.echo(big, tries=2, timeout=1.0), "3000-byte fragmented echo failed after time-out"
    st1 = h.stats()
    dd = delta(st0, st1)
    assert dd.get("ip.reass_ok", 0) >= 1 and dd.get("ip.tx_frag", 0) >= 3, dd
    assert st1["check_ok"], dd


CASES = [
    ("eth-header-only", c_eth_header_only),
    ("unknown-ethertype", c_unknown_ethertype),
    ("vlan-tag", c_vlan_tag),
    ("qinq-tag", c_qinq_tag),
    ("src-mac-multicast", c_src_mac_multicast),
    ("src-mac-broadcast", c_src_mac_broadcast),
    ("src-mac-ours", c_src_mac_ours),
    ("src-mac-zero", c_src_mac_zero),
    ("dst-mac-other-host", c_dst_mac_other_host),
    ("dst-mac-multicast", c_dst_mac_multicast),
    ("oversize-frame", c_oversize_frame),
    ("arp-truncated", c_arp_truncated),
    ("arp-bad-htype", c_arp_bad_htype),
    ("arp-bad-ptype", c_arp_bad_ptype),
    ("arp-bad-hlen", c_arp_bad_hlen),
    ("arp-bad-plen", c_arp_bad_plen),
    ("arp-bad-opcode", c_arp_bad_opcode),
    ("arp-sender-broadcast-mac", c_arp_sender_broadcast_mac),
    ("arp-sender-zero-mac", c_arp_sender_zero_mac),
    ("arp-sender-our-mac", c_arp_sender_our_mac),
    ("arp-sender-ip-broadcast", c_arp_sender_ip_broadcast),
    ("arp-sender-ip-multicast", c_arp_sender_ip_multicast),
    ("arp-request-other-ip", c_arp_request_other_ip),
    ("arp-unsolicited-new-entry", c_arp_unsolicited_new),
    ("arp-claims-our-ip", c_arp_claims_our_ip),
    ("ip-truncated-header", c_ip_truncated_header),
    ("ip-version-6", c_ip_version_6),
    ("ip-ihl-below-5", c_ip_ihl_below_5),
    ("ip-ihl-beyond-total", c_ip_ihl_beyond_total),
    ("ip-bad-checksum", c_ip_bad_checksum),
    ("ip-total-beyond-frame", c_ip_total_beyond_frame),
    ("eth-padding", c_eth_padding),
    ("ip-options", c_ip_options),
    ("src-ip-limited-broadcast", src_case(ALL_BCAST)),
    ("src-ip-subnet-broadcast", src_case(SUBNET_BCAST)),
    ("src-ip-multicast", src_case("224.0.0.1")),
    ("src-ip-class-e", src_case("240.0.0.1")),
    ("src-ip-loopback", src_case("127.0.0.1")),
    ("src-ip-zero", src_case("0.0.0.0")),
    ("dst-ip-other-host", c_dst_other_host),
    ("dst-ip-multicast", c_dst_multicast),
    ("dst-ip-zero", c_dst_zero),
    ("unknown-protocol", c_unknown_protocol),
    ("udp-truncated-header", c_udp_truncated_header),
    ("udp-length-below-8", c_udp_length_below_8),
    ("udp-length-beyond-ip", c_udp_length_beyond_ip),
    ("udp-bad-checksum", c_udp_bad_checksum),
    ("udp-checksum-zero", c_udp_checksum_zero),
    ("udp-closed-port", c_udp_closed_port),
    ("udp-closed-port-subnet-bcast", c_udp_closed_port_subnet_bcast),
    ("udp-closed-port-all-bcast", c_udp_closed_port_all_bcast),
    ("udp-closed-port-bcast-ip-unicast-mac", c_udp_closed_port_bcast_ip_unicast_mac),
    ("echo-from-port-19", sport_case(19)),
    ("echo-from-port-7", sport_case(7)),
    ("echo-from-port-0", sport_case(0)),
    ("echo-from-port-53", sport_case(53)),
    ("echo-to-subnet-bcast", c_echo_to_subnet_bcast),
    ("echo-to-all-bcast", c_echo_to_all_bcast),
    ("icmp-echo-valid", c_icmp_echo_valid),
    ("icmp-bad-checksum", c_icmp_bad_checksum),
    ("icmp-truncated", c_icmp_truncated),
    ("icmp-echo-subnet-bcast", c_icmp_echo_subnet_bcast),
    ("icmp-echo-all-bcast", c_icmp_echo_all_bcast),
    ("icmp-error-unreachable", c_icmp_error_unreachable),
    ("icmp-error-time-exceeded", c_icmp_error_time_exceeded),
    ("icmp-error-about-icmp-error", c_icmp_error_about_icmp_error),
    ("icmp-unsolicited-echo-reply", c_icmp_unsolicited_echo_reply),
    ("frag-overlap-different-data", c_frag_overlap_different),
    ("frag-overlap-same-data", c_frag_overlap_same_data),
    ("frag-oversize-reassembly", c_frag_oversize_reassembly),
    ("frag-ping-of-death", c_frag_ping_of_death),
    ("frag-unaligned", c_frag_unaligned),
    ("frag-tiny-8-bytes", c_frag_tiny),
    ("frag-duplicates", c_frag_duplicates),
    ("frag-conflicting-length", c_frag_conflicting_length),
    ("icmp-echo-fragmented", c_icmp_echo_fragmented),
    ("arp-update-existing-entry", c_arp_update_existing),
    ("frag-slot-flood", c_frag_slot_flood),
]


# ---- runts, over QEMU's UDP socket backend --------------------------------

def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def runt_case():
    """Frames of 1, 6 and 13 bytes (the kernel refuses them on a tap:
    EINVAL). QEMU's UDP socket backend passes one datagram as one frame of
    any length; the guest counts them as runts and still echoes."""
    h = H
    try:
        h.send(GMAC + h.hmac + b"\x08")
        tap_ok = True
    except OSError as e:
        assert e.errno == errno.EINVAL, e
        tap_ok = False
    print(f"  runt: a 13-byte frame on the tap is {'accepted' if tap_ok else 'refused (EINVAL)'}; "
          f"sending runts through QEMU's socket backend")
    mine, qemu = free_udp_port(), free_udp_port()
    net = ["-netdev", f"socket,id=n0,udp=127.0.0.1:{mine},localaddr=127.0.0.1:{qemu}",
           ] + nic_device()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", mine))
    with Guest(mode=MODE, modern=MODERN, variant=IMAGE_VARIANT, net=net) as g:
        assert g.boot(), "no ready line:\n" + g.out[-800:]
        st0 = g.stats()
        runts = [(GMAC + FAKE + b"\x08\x00")[:n] for n in (1, 6, 13)]
        for r in runts:
            s.sendto(r, ("127.0.0.1", qemu))

        def frames(timeout):
            out, end = [], time.time() + timeout
            while True:
                left = end - time.time()
                if left <= 0 or not select.select([s], [], [], left)[0]:
                    return out
                out.append(Frame(s.recv(65536)))
        got = [x for x in frames(T_WATCH) if no_answer(x)]
        assert not got, f"guest answered runts: {got}"
        # a normal echo over this link: introduce ourselves, then echo
        s.sendto(GMAC + FAKE + struct.pack("!H", ETH_ARP) + arp(sha=FAKE), ("127.0.0.1", qemu))
        p = rnd_payload(50)
        s.sendto(GMAC + FAKE + struct.pack("!H", ETH_IP) + udp_ip(p), ("127.0.0.1", qemu))
        got = frames(T_REPLY)
        assert any(x.is_udp_reply(p) for x in got), f"no echo after the runts: {got}"
        st1 = g.stats()
        d = delta(st0, st1)
        if PADS_TO_60:  # no runt reaches the stack: filtered, or padded and dropped
            arrived = d.get("nic.rx", 0) - 2  # less our ARP and echo
            drops = sum(v for k, v in d.items() if ".drop_" in k)
            assert drops >= arrived, f"a runt was not dropped: {d}"
        else:
            # QEMU's MAC filter (the driver turned PROMISC off) compares six
            # bytes of the 1-byte one, which are not our MAC, and keeps it
            # out; every runt that gets in is counted as one
            arrived = d.get("nic.rx", 0) - 2  # less our ARP and echo
            assert arrived >= len(runts) - 1 and d.get("eth.drop_runt", 0) == arrived, \
                f"eth.drop_runt: {d}"
        assert st1["check_ok"] and st1["pool.bad_free"] == 0, d
    s.close()


# ---- the flood, on its own guest ------------------------------------------

FLOOD_MAX = 1_000_000
FLOOD_SECONDS = 60.0


def flood_frames():
    """Prebuilt datagrams (each a list of frames): payloads of 18, 512 and
    1472 bytes, and one in eight of 3000 bytes in three fragments."""
    rng = random.Random(7)
    out = []
    for i in range(256):
        sport = 41000 + i % 4
        if i % 8 == 7:
            p = bytes(rng.randrange(256) for _ in range(3000))
            u = udp(p, sport=sport)
            out.append([eth(f) for _, f in fragments(u, 17, [1480, 1480, 48], 0x8000 + i)])
        else:
            n = (18, 512, 1472)[i % 3]
            p = bytes(rng.randrange(256) for _ in range(n))
            out.append([eth(udp_ip(p, sport=sport, ident=0x8000 + i))])
    return out


def tap_counters(tap):
    for line in open("/proc/net/dev"):
        if line.strip().startswith(tap + ":"):
            v = line.split(":", 1)[1].split()
            return {"rx": int(v[1]), "tx": int(v[9]), "tx_drop": int(v[11])}
    return {}


def flood(tap):
    h = H
    h.boot()
    sinks = []
    for i in range(4):  # take (and mostly drop) the answers: no port unreachable storm
        k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        k.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        k.bind((HIP, 41000 + i))
        sinks.append(k)
    h.raw.close()  # would only copy every flood frame
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # send only
    tx.bind((tap, 0))
    try:
        dgrams = flood_frames()
        m = len(dgrams)
        st0 = h.stats()
        tap0 = tap_counters(tap)
        offered = frames = refused = 0
        t0 = time.time()
        deadline = t0 + FLOOD_SECONDS
        send = tx.send
        while offered < FLOOD_MAX:
            if offered % 4096 == 0 and time.time() > deadline:
                break
            for f in dgrams[offered % m]:
                while True:
                    try:
                        send(f)
                        break
                    except OSError as e:  # ENOBUFS: the queue pushes back
                        if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                            raise
                        refused += 1
                        time.sleep(0.0002)
                frames += 1
            offered += 1
        t_flood = time.time() - t0
        # At once: a normal echo answered within 1 s. Asked every 200 ms:
        # the first may not even reach the guest (the tap's queue is still
        # full, and the kernel drops it there).
        t1 = time.time()
        ok = h.echo(tries=5, timeout=0.2)
        lat = time.time() - t1
        late = None
        if not ok:  # for the report: does it come back at all?
            while time.time() - t1 < 10 and late is None:
                if h.echo(tries=1, timeout=0.5):
                    late = time.time() - t1
        g = h.g
        st1 = g.stats()
        assert st1 is not None, "no stats after the flood:\n" + g.out[-800:]
        st = g.stats()  # a pass later
        tapd = {k: v - tap0.get(k, 0) for k, v in tap_counters(tap).items()}
        d = delta(st0, st)
        keys = ["nic.rx", "nic.tx", "nic.rx_nobuf", "nic.tx_full", "nic.irqs", "eth.rx",
                "ip.rx", "ip.delivered", "ip.frag_held", "ip.reass_ok", "ip.reass_evict",
                "ip.drop_frag", "ip.tx_frag", "udp.delivered", "echo.replied",
                "eth.tx_err", "ip.tx_err", "udp.tx_err"]
        print(f"  flood: offered {offered} datagrams ({frames} frames, {refused} pushed back) "
              f"in {t_flood:.1f} s = {offered / t_flood:.0f}/s; tap took {tapd.get('tx', 0)}, "
              f"dropped {tapd.get('tx_drop', 0)}; echo " +
              (f"answered in {lat * 1000:.0f} ms" if ok else
               f"NOT answered within 1 s (first answer after {late} s)"))
        print("  flood: " + " ".join(f"{k}={d.get(k, 0)}" for k in keys))
        print(f"  flood: pool free={st['pool.free']}/{st['pool.total']} "
              f"rx_posted={st['pool.rx_posted']} tx_inflight={st['pool.tx_inflight']} "
              f"low={st.get('pool.low')} alloc_fail={st.get('pool.alloc_fail')} "
              f"bad_free={st['pool.bad_free']} check={'ok' if st['check_ok'] else 'FAILED'}")
        assert ok, f"no echo within 1 s after the flood (first answer after {late} s)"
        assert offered >= min(FLOOD_MAX, 100000), f"only {offered} datagrams offered"
        assert d.get("nic.rx", 0) > 10000, f"the guest saw only {d.get('nic.rx', 0)} frames"
        assert d.get("echo.replied", 0) > 1000, d
        assert st1["check_ok"] and st["check_ok"], "accounting identity broken after the flood"
        assert st["pool.bad_free"] == 0, st["pool.bad_free"]
        # sent buffers are taken back in batches (CFG_RECLAIM_BATCH, 32)
        assert st["pool.tx_inflight"] <= 32, f"tx_inflight {st['pool.tx_inflight']} when idle"
        assert st["pool.free"] + st["pool.rx_posted"] + st["pool.tx_inflight"] + st.get("pool.reass_held", 0) == \
            st["pool.total"], f"buffers lost: {st}"
        for _ in range(20):
            assert h.echo(tries=1, timeout=1.0), "echo failed after the flood"
        # Fragmented echo: works, unless the flood's partial datagrams still
        # hold every reassembly slot (they expire after 30 s), which the
        # counters then show.
        st2 = g.stats()
        big_ok = h.echo(rnd_payload(3000), tries=3, timeout=1.0)
        d2 = delta(st2, g.stats())
        print(f"  flood: 3000-byte echo afterwards "
              f"{'answered' if big_ok else 'refused'}")
        assert big_ok, f"3000-byte echo failed (the oldest stale datagrams are evicted): {d2}"
    finally:
        tx.close()
        for k in sinks:
            k.close()


# ---- the NIC's multicast filter -----------------------------------------------

GROUP = "239.1.2.3"


def group_mac(g):
    a = ip4(g)
    return bytes([1, 0, 0x5e, a[1] & 0x7f, a[2], a[3]])


def gem_bucket(mac):
    """The GEM's hash bucket: the address as a 48-bit little-endian number,
    folded six bits at a time with XOR."""
    v, h = int.from_bytes(mac, "little"), 0
    while v:
        h ^= v & 63
        v >>= 6
    return h


def group_echo(h, g):
    """A datagram to GROUP from SPORT: echoed unicast to H.sink."""
    p = rnd_payload(40)
    h.drain()
    h.send(eth(udp_ip(p, dst=GROUP), dst=group_mac(GROUP)))
    end = time.time() + 2.0
    while time.time() < end:
        if select.select([h.sink], [], [], 0.2)[0] and h.sink.recv(65536) == p:
            return True
    return False


def mcast_filter_case(tap):
    """Booted with mcast=239.1.2.3, after the port programmed the NIC's
    filter (virtio-net: CTRL_VQ and CTRL_RX negotiated, the MAC table;
    the GEM: its hash): datagrams to the group are answered, and frames to
    a group we did not join never reach the stack (eth.drop_not_ours and
    nic.rx stand still). On the GEM, a group in the bucket of ours does
    reach it: the hash is the filter, and the stack drops the rest."""
    h = H
    h.g = Guest(mode=MODE, modern=MODERN, variant=IMAGE_VARIANT, net=netns.tap_net(tap),
                append="mcast=" + GROUP)
    assert h.g.boot(), "no ready line:\n" + h.g.out[-800:]
    assert h.echo(tries=3), "first echo failed"
    if NIC != "gem":
        m = re.search(r"features (0x[0-9a-f]+)", h.g.out)
        assert m and (int(m.group(1), 16) >> 17) & 3 == 3, "CTRL_VQ and CTRL_RX not negotiated"
    assert group_echo(h, GROUP), "no answer to a datagram to " + GROUP
    joined = {gem_bucket(MCAST_MAC), gem_bucket(group_mac(GROUP))}
    cands = [f"239.2.0.{i}" for i in range(1, 255)]
    other = next(c for c in cands if gem_bucket(group_mac(c)) not in joined)
    n = 40
    st0 = h.stats()
    for i in range(n):
        h.send(eth(udp_ip(rnd_payload(40), dst=other), dst=group_mac(other)))
    time.sleep(0.5)
    assert group_echo(h, GROUP), "no answer to the group after the others"
    st1 = h.stats()
    d = delta(st0, st1)
    assert st1["nic.filter_errors"] == 0, "the filter was refused:\n" + h.g.out[-800:]
    assert not d.get("eth.drop_not_ours") and not d.get("ip.drop_not_ours"), \
        f"frames to {other} reached the stack: {d}"
    assert st1["nic.rx"] - st0["nic.rx"] < n, f"the NIC took the frames to {other}: {d}"
    if NIC == "gem":
        twin = next(c for c in cands if gem_bucket(group_mac(c)) == gem_bucket(group_mac(GROUP)))
        st0 = h.stats()
        for i in range(n):
            h.send(eth(udp_ip(rnd_payload(40), dst=twin), dst=group_mac(twin)))
        time.sleep(0.5)
        d = delta(st0, h.stats())
        assert d.get("eth.drop_not_ours") == n, f"{twin} shares a bucket with {GROUP}: {d}"
    print(f"  mcast-filter: {GROUP} answered, {n} frames to {other} kept out by the NIC")
    h.g.stop()


# ---- main -------------------------------------------------------------------

def run_case(fn):
    if not H.alive():
        # the previous case killed it: say how, and carry on with a fresh one
        print("  guest died; console tail:\n" + H.g.out[-600:], flush=True)
        H.boot()
    fn()


def one_pass(r, sfx):
    global H
    random.seed(1)
    with netns.NetNS("hostile") as ns:
        tap = ns.tap(addr=HIP + "/24")
        H = Host(tap)
        try:
            r.run("boot" + sfx, H.boot)
            if H.alive():
                for name, fn in CASES:
                    r.run(name + sfx, run_case, fn)
                r.run("runt" + sfx, runt_case)
                H.g.stop()
                r.run("mcast-filter" + sfx, mcast_filter_case, tap)
                H.g.stop()
                r.run("flood" + sfx, flood, tap)
        finally:
            if H.g is not None:
                H.g.stop()
            H.close()


def main():
    global MODE, MODERN
    r = Runner("hostile")
    if not netns.available():
        print("SKIP hostile: needs root and /dev/net/tun")
        r.failed += 1
        return r.done()
    t0 = time.time()
    for MODE, MODERN in PASSES:  # case names of a second pass end in -s
        one_pass(r, "" if (MODE, MODERN) == PASSES[0] else f"-{MODE}")
    print(f"  hostile: {time.time() - t0:.0f} s in all")
    return r.done()


if __name__ == "__main__":
    sys.exit(main())
