#!/usr/bin/env python3
"""Multicast, live: build/firmware.elf with mcast=239.1.2.3 on QEMU's UDP
socket netdev (one datagram = one frame, no root, no tap), on
virtio-net-device, its MAC table programmed over the control queue: the
two IGMPv2 reports at boot (TTL 1, Router Alert, to the group's MAC), a
General Query answered within its Max Resp Time, and a datagram to the
group echoed unicast to its sender (after an ARP exchange). That the
guest sees them shows the table holds all-hosts and the group.
Run from the repository root after `make`; not yet in `make test`.
Ends with "LIVE ok" or "LIVE FAIL"."""
import socket, struct, subprocess, sys, time
def free_port():
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]; t.close(); return p
HOST = "127.0.0.1"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((HOST, 0)); s.settimeout(0.2)
MPORT, GPORT = s.getsockname()[1], free_port()
OURMAC = bytes.fromhex("020000000002"); GMAC = bytes.fromhex("525400123456")
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b)//2), b)); s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def ip(src, dst, proto, payload, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20+len(payload), 1, 0, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
def gmac(g):
    a = socket.inet_aton(g); return bytes([1, 0, 0x5e, a[1] & 0x7f, a[2], a[3]])
q = subprocess.Popen(["qemu-system-riscv64", "-M", "virt", "-m", "128M", "-nographic", "-bios", "none",
    "-kernel", "build/firmware.elf", "-netdev", f"socket,id=n0,udp={HOST}:{MPORT},localaddr={HOST}:{GPORT}",
    "-device", "virtio-net-device,netdev=n0", "-append", "mcast=239.1.2.3"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
def frames(secs):
    end = time.time() + secs; out = []
    while time.time() < end:
        try: out.append((time.time(), s.recv(2048)))
        except socket.timeout: pass
    return out
def send(f): s.sendto(f, (HOST, GPORT))
def igmp(f):
    if f[12:14] != b"\x08\x00" or f[23] != 2: return None
    hl = (f[14] & 15) * 4; m = f[14+hl:14+hl+8]
    return dict(dmac=f[:6].hex(), ttl=f[22], hl=hl, ra=f[34:38].hex(), type=m[0], group=socket.inet_ntoa(m[4:8]),
                dst=socket.inet_ntoa(f[30:34]), csum_ok=csum(m) == 0)
ok = True
t0 = time.time(); fs = frames(3)
reps = [igmp(f) for _, f in fs if igmp(f)]
print("boot:", reps)
ok &= len(reps) == 2 and all(r["type"] == 0x16 and r["group"] == "239.1.2.3" and r["ttl"] == 1 and r["ra"] == "94040000" and r["csum_ok"] and r["dmac"] == "01005e010203" for r in reps)
# General Query, Max Resp 2 s
m = bytearray(struct.pack("!BBH4s", 0x11, 20, 0, b"\0\0\0\0")); m[2:4] = struct.pack("!H", csum(bytes(m)))
t = time.time(); send(gmac("224.0.0.1") + OURMAC + b"\x08\x00" + ip("10.0.2.2", "224.0.0.1", 2, bytes(m), ttl=1))
fs = frames(3); reps = [(ts - t, igmp(f)) for ts, f in fs if igmp(f)]
print("query:", reps)
ok &= len(reps) == 1 and reps[0][0] <= 2.3
# UDP to the group, port 7: the guest ARPs for 10.0.2.2, then answers unicast
u = struct.pack("!HHHH", 40000, 7, 8 + 5, 0) + b"hello"
send(gmac("239.1.2.3") + OURMAC + b"\x08\x00" + ip("10.0.2.2", "239.1.2.3", 17, u))
got = None
for _, f in frames(2):
    if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01":  # ARP request: answer
        tpa = f[38:42]
        rep = f[6:12] + OURMAC + b"\x08\x06" + bytes.fromhex("0001080006040002") + OURMAC + tpa + f[22:28] + f[28:32]
        send(rep + b"\0" * 18)
for _, f in frames(2):
    if f[12:14] == b"\x08\x00" and f[23] == 17:
        got = f
print("echo:", got and (f"dst mac {got[:6].hex()} src {socket.inet_ntoa(got[26:30])} dst {socket.inet_ntoa(got[30:34])} payload {got[42:]}"))
ok &= bool(got) and got[:6] == OURMAC and got[26:30] == socket.inet_aton("10.0.2.15") and got[42:47] == b"hello"
q.terminate(); out = q.communicate()[0].decode(errors="replace")
print("\n".join(l for l in out.splitlines() if "echo" in l or "group" in l))
print("LIVE", "ok" if ok else "FAIL"); sys.exit(0 if ok else 1)
