#!/usr/bin/env python3
"""Seed corpus for test/fuzz/fuzz_net.c, in its record format:
[op][len lo][len hi][data]. Deterministic; run from anywhere:
    python3 test/fuzz/make_corpus.py [outdir]   (default: test/fuzz/corpus)
"""
import os
import struct
import sys

OUR_MAC = bytes.fromhex("525400123456")
PEER_MAC = bytes.fromhex("020000000002")
BCAST = b"\xff" * 6
OUR_IP, PEER_IP = 0x0A00020F, 0x0A000202
HOST3_IP, HOST3_MAC = 0x0A000203, bytes.fromhex("020000000003")
UDP, ICMP = 17, 1
MF = 0x2000


def csum(data, start=0):
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def rec(op, n, data=b""):
    return bytes([op]) + struct.pack("<H", n) + data


def frame(d):
    return rec(0, len(d), d)


def tick(ms):
    return rec(1, ms // 10)


def eth(dst, src, typ, payload):
    return dst + src + struct.pack("!H", typ) + payload


def ip(src, dst, proto, payload, ident=1, frag=0, opts=b"", ttl=64):
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBHII", 0x40 | hl // 4, 0, hl + len(payload), ident, frag, ttl,
                    proto, 0, src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(src, dst, sport, dport, payload):
    n = 8 + len(payload)
    u = struct.pack("!HHHH", sport, dport, n, 0) + payload
    pseudo = sum(struct.unpack("!HHHH", struct.pack("!II", src, dst))) + UDP + n
    c = csum(u, pseudo) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


def icmp(typ, code, rest, payload):
    m = struct.pack("!BBH", typ, code, 0) + rest + payload
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def arp(eth_dst, op, sha, spa, tha, tpa):
    a = struct.pack("!HHBBH6sI6sI", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)
    return eth(eth_dst, sha, 0x0806, a).ljust(60, b"\0")


def pay(n, seed=0):
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


def to_us(l3, dst_mac=OUR_MAC, src_mac=PEER_MAC):
    return frame(eth(dst_mac, src_mac, 0x0800, l3))


LEARN = frame(arp(BCAST, 1, PEER_MAC, PEER_IP, b"\0" * 6, OUR_IP))
PEER_REPLY = frame(arp(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP))


def udp_to_us(dport, payload, sport=40000, src=PEER_IP, dst=OUR_IP, **kw):
    return ip(src, dst, UDP, udp(src, dst, sport, dport, payload), **kw)


def frags(l3_payload, proto, ident, size, src=PEER_IP, dst=OUR_IP):
    """Fragment an IP payload into IP packets of at most `size` payload bytes."""
    out = []
    for off in range(0, len(l3_payload), size):
        more = off + size < len(l3_payload)
        out.append(ip(src, dst, proto, l3_payload[off:off + size], ident,
                      (MF if more else 0) | off // 8))
    return out


def tmpl(op, ctl, proto, frag, ident, payload, optwords=0, opts=b""):
    d = bytes([ctl, proto]) + struct.pack("!HH", frag, ident) + bytes([optwords]) + opts + payload
    return rec(op, len(d), d)


def app_send(sel, port, payload):
    d = bytes([sel]) + struct.pack("!H", port) + payload
    return rec(4, len(d), d)


def icmp_err(sel, kind, ctl, dport, extra=b""):
    """Record 14: an ICMP error quoting a datagram of PCB sel (fuzz_net.c op_icmp_err)."""
    d = bytes([sel, kind, ctl]) + struct.pack("!H", dport) + extra
    return rec(14, len(d), d)


def mcast(act, a, b, rest=b""):
    """Record 16 (first byte 15): multicast (fuzz_net.c op_mcast): join, leave, IGMP in, UDP to a group."""
    d = bytes([act, a, b]) + rest
    return rec(15, len(d), d)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    c = {}

    # ---- ARP ----
    c["arp_request_for_us"] = LEARN + tick(100)
    c["arp_request_unicast"] = frame(arp(OUR_MAC, 1, PEER_MAC, PEER_IP, b"\0" * 6, OUR_IP))
    c["arp_reply_resolves"] = (app_send(1, 9999, b"hello") + tick(500) +
                               frame(arp(OUR_MAC, 2, HOST3_MAC, HOST3_IP, OUR_MAC, OUR_IP)) + tick(100))
    c["arp_queue_timeout"] = (app_send(2, 9999, b"a") + app_send(2, 9999, b"b") +
                              app_send(2, 9999, b"c") + tick(1000) + tick(1000) + tick(3000))
    c["arp_gratuitous"] = (LEARN + frame(arp(BCAST, 1, bytes.fromhex("020000000099"), PEER_IP,
                                             b"\0" * 6, PEER_IP)) +
                           frame(arp(BCAST, 2, PEER_MAC, PEER_IP, BCAST, PEER_IP)))
    c["arp_conflict"] = (frame(arp(BCAST, 1, HOST3_MAC, OUR_IP, b"\0" * 6, OUR_IP)) +
                         frame(arp(BCAST, 2, HOST3_MAC, OUR_IP, b"\0" * 6, OUR_IP)) + tick(11000) +
                         frame(arp(BCAST, 1, HOST3_MAC, OUR_IP, b"\0" * 6, OUR_IP)))
    c["arp_probe"] = frame(arp(BCAST, 1, HOST3_MAC, 0, b"\0" * 6, OUR_IP))
    c["arp_other_target"] = frame(arp(BCAST, 1, HOST3_MAC, HOST3_IP, b"\0" * 6, 0x0A000263))
    c["arp_template"] = (rec(10, 4, bytes([1, 2, 0, 1])) + rec(10, 4, bytes([2, 3, 0, 0])) +
                         rec(10, 4, bytes([1, 15, 0, 1])) + rec(10, 4, bytes([1, 5, 4, 1])))
    # app sends: echo replies go back to the link source without an ARP lookup
    c["arp_refresh"] = (LEARN + app_send(0, 5555, b"1") + tick(290000) + app_send(0, 5555, b"2") +
                        tick(1200) + app_send(0, 5555, b"3") + PEER_REPLY + tick(20000))
    c["arp_cache_full"] = b"".join(
        frame(arp(BCAST, 1, bytes([2, 0, 0, 0, 1, h]), 0x0A000200 | h, b"\0" * 6, OUR_IP))
        for h in range(20, 32)) + app_send(2, 7777, b"x")

    # ---- ICMP ----
    for n in (56, 1400):
        c["icmp_echo_%d" % n] = LEARN + to_us(ip(PEER_IP, OUR_IP, ICMP, icmp(8, 0, b"\x12\x34\0\1", pay(n))))
    c["icmp_echo_unresolved"] = (to_us(ip(PEER_IP, OUR_IP, ICMP, icmp(8, 0, b"\0\7\0\1", pay(32)))) +
                                 tick(300) + PEER_REPLY)
    c["icmp_echo_bcast"] = to_us(ip(PEER_IP, 0x0A0002FF, ICMP, icmp(8, 0, b"\0\7\0\1", pay(32))), BCAST)
    c["icmp_other_types"] = (to_us(ip(PEER_IP, OUR_IP, ICMP, icmp(0, 0, b"\0\7\0\1", pay(8)))) +
                             to_us(ip(PEER_IP, OUR_IP, ICMP, icmp(3, 3, b"\0" * 4, pay(28)))))
    c["icmp_options"] = LEARN + to_us(ip(PEER_IP, OUR_IP, ICMP, icmp(8, 0, b"\0\1\0\1", pay(20)),
                                         opts=b"\x01\x01\x01\x00"))

    # ---- UDP ----
    for n in (0, 18, 64, 1472):
        c["udp_echo_%d" % n] = LEARN + to_us(udp_to_us(7, pay(n, n)))
    c["udp_echo_nocsum"] = LEARN + to_us(ip(PEER_IP, OUR_IP, UDP, struct.pack("!HHHH", 40000, 7, 12, 0) + b"ping"))
    c["udp_closed_port"] = LEARN + to_us(udp_to_us(1234, pay(20)))
    c["udp_bcast"] = (to_us(udp_to_us(7, pay(10), dst=0x0A0002FF), BCAST) +
                      to_us(udp_to_us(1234, pay(10), dst=0xFFFFFFFF), BCAST))
    c["udp_deny_port"] = LEARN + to_us(udp_to_us(7, pay(10), sport=19))
    c["udp_queue"] = b"".join(to_us(udp_to_us(9, pay(10, i))) for i in range(5)) + rec(7, 0) + rec(8, 0)
    c["udp_connected"] = (to_us(udp_to_us(5001, pay(10), sport=5000)) +
                          to_us(udp_to_us(5001, pay(10), sport=5002)) + rec(7, 0))
    c["udp_offlink_peer"] = LEARN + to_us(udp_to_us(7, pay(30), src=0xC6336401))

    # ---- fragments ----
    dgram = udp(PEER_IP, OUR_IP, 40000, 7, pay(3000, 3))
    f3 = frags(dgram, UDP, 0x100, 1480)
    c["frag3_in_order"] = LEARN + b"".join(to_us(f) for f in f3)
    c["frag3_out_of_order"] = LEARN + b"".join(to_us(f3[i]) for i in (2, 0, 0, 1))
    small = frags(udp(PEER_IP, OUR_IP, 40000, 7, pay(40, 5)), UDP, 0x101, 16)
    c["frag_small_reverse"] = LEARN + b"".join(to_us(f) for f in reversed(small))
    big = frags(udp(PEER_IP, OUR_IP, 40000, 7, pay(7992, 9)), UDP, 0x102, 1480)
    c["frag_8000"] = LEARN + b"".join(to_us(f) for f in big) + tick(1000)
    c["frag_timeout"] = LEARN + to_us(f3[0]) + to_us(f3[1]) + tick(31000)
    bad = bytearray(f3[1])
    bad[40] ^= 0xFF
    bad = ip(PEER_IP, OUR_IP, UDP, bytes(bad[20:]), 0x100, MF | 185)
    c["frag_overlap_conflict"] = LEARN + to_us(f3[0]) + to_us(f3[1]) + to_us(bad) + to_us(f3[2])
    c["frag_slots_full"] = b"".join(to_us(frags(udp(PEER_IP, OUR_IP, 1, 7, pay(100)), UDP, 0x200 + i, 56)[0])
                                    for i in range(3)) + tick(31000)
    c["frag_bcast"] = b"".join(to_us(f, BCAST) for f in frags(udp(PEER_IP, 0x0A0002FF, 40000, 7, pay(100)),
                                                              UDP, 0x103, 56, dst=0x0A0002FF))
    icmp_big = icmp(8, 0, b"\0\1\0\1", pay(2500, 1))
    c["frag_icmp_echo"] = LEARN + b"".join(to_us(f) for f in frags(icmp_big, ICMP, 0x300, 1480))

    # ---- templated records (ops 5 and 6) ----
    u7 = struct.pack("!HHHH", 40000, 7, 0, 0) + pay(64)
    c["tmpl_udp_echo"] = LEARN + tmpl(6, 0, UDP, 0, 1, u7) + tmpl(6, 0x80, UDP, 0, 2, u7)
    c["tmpl_udp_options"] = LEARN + tmpl(6, 0, UDP, 0, 3, u7, 1, b"\x94\x04\0\0")
    c["tmpl_icmp_echo"] = LEARN + tmpl(6, 0, ICMP, 0, 4, b"\x08\0\0\0\0\1\0\1" + pay(48))
    c["tmpl_bcast"] = tmpl(6, 0x09, UDP, 0, 5, u7) + tmpl(6, 0x11, ICMP, 0, 6, b"\x08\0\0\0\0\1\0\1")
    c["tmpl_offlink_src"] = tmpl(6, 0x04, UDP, 0, 7, u7)
    c["tmpl_proto_unreach"] = LEARN + tmpl(5, 0, 6, 0, 8, pay(20))
    tf = frags(dgram, UDP, 0x400, 1480)
    c["tmpl_frags"] = LEARN + b"".join(
        tmpl(5, 0, UDP, struct.unpack("!H", f[6:8])[0], 0x400, f[20:]) for f in tf)

    # ---- the app, the driver, the clock ----
    c["app_send_all"] = (LEARN + b"".join(app_send(s, 5555, pay(100, s)) for s in range(8)) +
                         app_send(0, 5555, pay(1480)) + tick(500) + PEER_REPLY +
                         frame(arp(OUR_MAC, 2, HOST3_MAC, HOST3_IP, OUR_MAC, OUR_IP)))
    c["tx_fail"] = (rec(2, 3) + LEARN + to_us(udp_to_us(7, pay(20))) +
                    to_us(ip(PEER_IP, OUR_IP, ICMP, icmp(8, 0, b"\0\1\0\1", pay(8)))) + rec(2, 0) +
                    to_us(udp_to_us(7, pay(20))))
    c["pool_exhaust"] = (LEARN + rec(3, 0x8000) + to_us(udp_to_us(7, pay(20))) + rec(3, 0x8001) +
                         to_us(udp_to_us(7, pay(20))) + to_us(udp_to_us(1234, pay(20))) + rec(3, 0x8002) +
                         to_us(udp_to_us(1234, pay(20))) + rec(3, 0) + to_us(udp_to_us(7, pay(20))))
    c["mtu_576"] = rec(11, 508) + LEARN + to_us(udp_to_us(7, pay(500))) + b"".join(
        to_us(f) for f in frags(udp(PEER_IP, OUR_IP, 40000, 7, pay(1200)), UDP, 0x500, 552))
    c["clock_wrap"] = (LEARN + rec(9, 0xFFFF) + to_us(f3[0]) + tick(20000) + to_us(f3[1]) +
                       to_us(f3[2]) + app_send(2, 5555, b"x") + tick(2000))
    # the harness's clock: slots opened at more times than it tracks, wraps with work pending
    c["reass_many_births"] = b"".join(
        to_us(ip(PEER_IP, OUR_IP, UDP, pay(16), 0x600 + i, MF)) +
        to_us(ip(PEER_IP, OUR_IP, UDP, pay(16), 0x600 + i, MF | 1023)) + tick(500)
        for i in range(24)) + to_us(ip(PEER_IP, OUR_IP, UDP, pay(16), 0x700, MF)) + tick(100)
    c["clock_wrap_frag"] = (to_us(f3[0]) + tick(20000) + rec(9, 0xFFFF) + tick(5000) + rec(9, 0xFFFF) +
                            tick(40000))
    c["clock_wrap_arp"] = app_send(2, 5555, b"x") + tick(500) + rec(9, 0xFFFF) + tick(1500) + rec(9, 1) + tick(700)
    c["icmp_rate_limit"] = LEARN + b"".join(to_us(udp_to_us(1234, pay(4, i))) for i in range(14)) + tick(200) + \
        to_us(udp_to_us(1234, pay(4)))

    # ---- malformed frames ----
    good = eth(OUR_MAC, PEER_MAC, 0x0800, udp_to_us(7, pay(10)))
    c["bad_link"] = b"".join(frame(f) for f in (
        good[:10], good + b"\0" * 1500, eth(bytes.fromhex("01005e000001"), PEER_MAC, 0x0800, good[14:]),
        eth(OUR_MAC, bytes.fromhex("030000000001"), 0x0800, good[14:]),
        eth(OUR_MAC, PEER_MAC, 0x8100, b"\0\1\x08\0" + good[14:]), eth(OUR_MAC, PEER_MAC, 0x86DD, pay(40)),
        eth(BCAST, PEER_MAC, 0x0806, b"\0\1\x08\0\6\4\0\1")))
    l3 = udp_to_us(7, pay(10))
    bad_ip = [l3[:19], b"\x65" + l3[1:], b"\x44" + l3[1:], l3[:10] + b"\0\0" + l3[12:],
              l3[:2] + b"\x04\0" + l3[4:], udp_to_us(7, pay(10), src=0x0A0002FF),
              udp_to_us(7, pay(10), src=0x7F000001), udp_to_us(7, pay(10), dst=0x0A000263),
              udp_to_us(7, pay(10), dst=0xE0000001), l3 + b"\0" * 20]
    lo = bytearray(udp_to_us(7, pay(10), opts=b"\x01\x01\x01\x00"))
    lo[10] ^= 0x55  # options and a bad header checksum
    bad_ip.append(bytes(lo))
    bu = bytearray(l3)
    bu[27] ^= 1
    c["bad_ip"] = LEARN + b"".join(to_us(x) for x in bad_ip) + to_us(bytes(bu))
    c["bad_udp"] = LEARN + b"".join(to_us(ip(PEER_IP, OUR_IP, UDP, u)) for u in (
        b"\0\1\0\7", struct.pack("!HHHH", 1, 7, 4, 0), struct.pack("!HHHH", 1, 7, 200, 0) + pay(8)))

    # ---- ICMP errors told to the PCB that sent the datagram they quote ----
    c["icmp_err_conn"] = (LEARN + icmp_err(1, 0, 0, 0) + icmp_err(1, 3, 0, 0) + icmp_err(1, 4, 0, 0) +
                          icmp_err(1, 0, 1, 5000, struct.pack("!I", HOST3_IP)) +
                          icmp_err(1, 0, 1, 5001, struct.pack("!I", PEER_IP)))
    c["icmp_err_queue"] = (LEARN + icmp_err(0, 0, 0, 53) + rec(7, 0) + icmp_err(0, 1, 0x40, 53) +
                           icmp_err(0, 3, 0, 53) + rec(7, 0) + rec(8, 0) + icmp_err(0, 0, 0, 53))
    c["icmp_err_app"] = (LEARN + icmp_err(2, 0, 0, 9999) + app_send(0, 9999, b"x") +
                         icmp_err(2, 0, 0, 9999) + icmp_err(2, 5, 0, 9999) +
                         app_send(5, 67, b"b") + app_send(13, 67, b"b"))
    c["icmp_err_blind"] = (LEARN + icmp_err(3, 0, 0, 5000, struct.pack("!H", 7)) +
                           icmp_err(3, 0, 0, 5000, struct.pack("!H", 5001)) +
                           b"".join(icmp_err(0, 0, ctl, 53, b"\x0a") for ctl in (2, 4, 8, 0x10, 0x20, 0x50)))
    # op 15 (byte 27): fragmented datagrams up to 65,507 bytes, reassembled
    # as chains: [ctl][size hi][size lo][chunk][seed]
    def bigfrag(ctl, size, chunk, seed):
        return rec(27, 5, bytes([ctl, size >> 8, size & 0xFF, chunk, seed]))
    c["bigfrag_echo"] = (LEARN + bigfrag(1, 65507 >> 8, 0, 1) + bigfrag(1, 65507, 0, 2) +
                         bigfrag(0, 3000, 36, 3) + bigfrag(4, 5000, 100, 4))
    c["bigfrag_bad"] = (LEARN + bigfrag(8 | 1, 9000, 0, 5) + bigfrag(12 | 1, 9000, 0, 6) +
                        bigfrag(0x20 | 1, 9000, 0, 7) + bigfrag(0x40 | 1, 9000, 0, 8) +
                        bigfrag(0x10 | 1, 9000, 0, 9) + bigfrag(2 | 1, 9000, 0, 10) + rec(7, 0) +
                        bigfrag(0, 20000, 0, 11) + tick(31000))
    c["bigfrag_mtu"] = (rec(11, 508) + LEARN + bigfrag(0, 20000, 68, 12) + bigfrag(2, 4000, 68, 13) +
                        rec(7, 0))

    # ---- multicast: IGMPv2 and groups (record 16, first byte 15 mod 28) ----
    c["mcast_join_query"] = (LEARN + mcast(0, 0, 0) + mcast(0, 1, 1) + tick(1500) +
                             mcast(2, 0, 20, bytes([4, 0, 0, 0])) + tick(2500) +
                             mcast(2, 0, 10, bytes([0, 0, 1, 0])) + tick(1500) +
                             mcast(2, 0, 0, bytes([4, 0, 0, 0])) + tick(11000) + mcast(1, 0, 0))
    c["mcast_v3_suppress"] = (LEARN + mcast(0, 2, 0) + mcast(0, 3, 1) + tick(1500) +
                              mcast(2, 0, 100, bytes([4, 1, 0, 0])) + mcast(2, 1, 0, bytes([2, 0, 1, 0])) +
                              mcast(2, 0, 30, bytes([4, 2, 0, 0])) + mcast(2, 0, 30, bytes([4, 0, 0, 1])) +
                              tick(11000) + mcast(4, 0, 0) + tick(100))
    c["mcast_udp_echo"] = (LEARN + mcast(0, 0, 0) + mcast(0, 0, 1) + mcast(0, 0, 2) +
                           mcast(3, 0, 0, b"both") + mcast(3, 0, 1, b"echo me") + mcast(3, 2, 0, b"alias") +
                           mcast(3, 4, 1, b"all-hosts") + mcast(3, 1, 0, b"unjoined") + mcast(1, 0, 2) +
                           mcast(3, 0, 1, b"left") + tick(2000))

    total = 0
    for name, data in sorted(c.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        total += len(data)
    print("%d files, %d bytes in %s" % (len(c), total, out))


if __name__ == "__main__":
    main()
