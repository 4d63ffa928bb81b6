"""Issue 14: the DHCP client (net/dhcp.c) against real and scripted servers.

- hostfwd: `-append ip=dhcp` under QEMU user networking: the lease from
  QEMU's built-in server (10.0.2.15), then echo; with and without
  virtio-rng; and the default image answering within a second of boot.
- dnsmasq: started by the test in its own network namespace on the tap,
  with a pool that is not 10.0.2.x and a 2-minute lease (dnsmasq's
  least): lease obtained, echo at that address from the Linux client, the
  renewal at T1 in the capture, `dhcp release` on the console.
- scripted: a DHCP server in Python on a raw AF_PACKET socket on the tap,
  for what a real server will not do on demand: NAK, no answer to the
  renewal (rebinding, expiry, DISCOVER again), an ARP reply to the probe
  (DECLINE), two servers offering, option overload, malformed and
  truncated messages, an OFFER with another xid, a rogue server after
  BOUND, INIT-REBOOT after the link goes down and up. Lease times are in
  seconds, so the whole life of a lease runs in the test.

Every frame the firmware sends is recorded by QEMU's filter-dump and
checked by tshark (DHCP dissector included): no malformed field, no
warning, good IPv4 and UDP checksums; after each case the guest's
accounting must hold and no buffer may be missing. Every process the
test starts is ended by its PID, every namespace removed. Captures stay in
build/test-logs/dhcp/.
"""
import ipaddress
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from guest import Guest, Runner, ROOT, free_port, user_net, NIC, csum
import netns
from test_tap import GMAC, GMAC_B, strip_vnet, tshark, check_idle

CAPDIR = os.path.join(ROOT, "build", "test-logs", "dhcp")
MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE = range(1, 8)
NAMES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE"}
BOUND_RE = r"dhcp: bound, inet ([0-9.]+)/(\d+)"
# A lease takes the exchange plus RFC 5227's probing: 0..1 s, then three
# probes 1..2 s apart, then 2 s of quiet; and up to 1 s before the DISCOVER.
LEASE_TIMEOUT = 20


def ip2b(a):
    return socket.inet_aton(a)


def b2ip(b):
    return socket.inet_ntoa(bytes(b))


def udp_frame(smac, dmac, sip, dip, sport, dport, payload):
    ulen = 8 + len(payload)
    pseudo = ip2b(sip) + ip2b(dip) + struct.pack("!BBH", 0, 17, ulen)
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = csum(pseudo + u) or 0xffff
    u = u[:6] + struct.pack("!H", c) + u[8:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0x1234, 0, 64, 17, 0, ip2b(sip), ip2b(dip))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return dmac + smac + b"\x08\x00" + h + u


def opt(code, data):
    return bytes([code, len(data)]) + data


def o_ip(code, *addrs):
    return opt(code, b"".join(ip2b(a) for a in addrs))


def o_u32(code, v):
    return opt(code, struct.pack("!I", v))


def bootreply(xid, yiaddr, chaddr, options, sname=b"", file=b""):
    return (struct.pack("!BBBBIHH", 2, 1, 6, 0, xid, 0, 0) + ip2b("0.0.0.0") + ip2b(yiaddr) +
            ip2b("0.0.0.0") + ip2b("0.0.0.0") + chaddr.ljust(16, b"\0") + sname.ljust(64, b"\0") +
            file.ljust(128, b"\0") + MAGIC + options)


def parse_opts(b):
    out, i = {}, 0
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        code, n = b[i], b[i + 1]
        out[code] = b[i + 2:i + 2 + n]
        i += 2 + n
    return out


class Msg:
    """A DHCP message the firmware sent, as the scripted server saw it."""

    def __init__(self, t, frame):
        self.t = t
        self.eth_dst = frame[0:6]
        ih = frame[14:]
        self.ip_src, self.ip_dst = b2ip(ih[12:16]), b2ip(ih[16:20])
        m = ih[28:]
        self.xid, self.secs = struct.unpack("!IH", m[4:10])
        self.ciaddr = b2ip(m[12:16])
        self.chaddr = m[28:34]
        self.opts = parse_opts(m[240:])
        self.type = self.opts.get(53, b"\0")[0]

    def ip_opt(self, code):
        v = self.opts.get(code)
        return b2ip(v) if v and len(v) == 4 else None

    def __repr__(self):
        return (f"{NAMES.get(self.type, self.type)} xid {self.xid:#x} {self.ip_src}->{self.ip_dst} "
                f"ciaddr {self.ciaddr} req {self.ip_opt(50)} srv {self.ip_opt(54)} at {self.t:.1f}")


class Server(threading.Thread):
    """A scripted DHCP server (or several) on a raw socket on the tap. The
    scenario's on_dhcp(srv, msg) and on_probe(srv, target_ip) answer."""

    def __init__(self, ifname, scenario, ip, mac):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.sock.bind((ifname, 0))
        self.scenario = scenario
        self.ip, self.mac = ip, mac
        self.msgs = []
        self.probes = []
        self.errors = []
        self.t0 = time.time()
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            if not select.select([self.sock], [], [], 0.1)[0]:
                continue
            frame, addr = self.sock.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING or frame[6:12] != GMAC_B:
                continue
            try:
                self.handle(frame)
            except Exception as e:  # reported by the test, not lost in a thread
                self.errors.append(f"{type(e).__name__}: {e}")

    def handle(self, f):
        t = time.time() - self.t0
        etype = f[12:14]
        if etype == b"\x08\x06" and len(f) >= 42 and f[20:22] == b"\x00\x01" and f[28:32] == b"\0" * 4:
            target = b2ip(f[38:42])
            self.probes.append((t, target))
            self.scenario.on_probe(self, target)
        elif etype == b"\x08\x00" and f[23] == 17 and len(f) >= 14 + 28 + 240 and \
                struct.unpack("!H", f[36:38])[0] == 67:
            m = Msg(t, f)
            self.msgs.append(m)
            self.scenario.on_dhcp(self, m)

    def send(self, frame):
        self.sock.send(frame)

    def reply(self, m, mtype, yiaddr, lease=None, t1=None, t2=None, extra=b"", server=None,
              server_mac=None, xid=None, bcast=False, options=None, sname=b"", file=b"",
              mask="255.255.255.0", chaddr=None):
        """A BOOTREPLY to m: unicast to yiaddr at the client's MAC unless
        bcast (or a NAK), from server (default: ours)."""
        server = server or self.ip
        smac = server_mac or self.mac
        if options is None:
            options = opt(53, bytes([mtype])) + o_ip(54, server)
            if mtype != NAK:
                options += o_ip(1, mask) + o_ip(3, self.ip) + o_ip(6, self.ip) + o_ip(42, self.ip)
                if lease is not None:
                    options += o_u32(51, lease)
                if t1 is not None:
                    options += o_u32(58, t1)
                if t2 is not None:
                    options += o_u32(59, t2)
            options += extra + b"\xff"
        payload = bootreply(m.xid if xid is None else xid, yiaddr if mtype != NAK else "0.0.0.0",
                            chaddr or m.chaddr, options, sname, file)
        to_bcast = bcast or mtype == NAK
        dip = "255.255.255.255" if to_bcast else yiaddr
        dmac = b"\xff" * 6 if to_bcast else m.chaddr
        self.send(udp_frame(smac, dmac, server, dip, 67, 68, payload))

    def arp_reply(self, mac, ip):
        """ip is at mac (a claim): a reply to the guest's probe."""
        a = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac + ip2b(ip) + GMAC_B + b"\0" * 4
        self.send(GMAC_B + mac + b"\x08\x06" + a + b"\0" * 18)

    def stop(self):
        self.halt.set()
        self.join(5)
        self.sock.close()

    def of(self, mtype):
        return [m for m in self.msgs if m.type == mtype]

    def wait(self, cond, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return
            assert not self.errors, self.errors
            time.sleep(0.05)
        raise AssertionError(f"{what}: not within {timeout} s; seen {self.msgs}")


class Basic:
    """Answers like a plain server: one address, the lease it is told."""

    def __init__(self, yiaddr, lease=3600, t1=None, t2=None):
        self.yiaddr, self.lease, self.t1, self.t2 = yiaddr, lease, t1, t2
        self.answer = True

    def on_probe(self, srv, target):
        pass

    def on_dhcp(self, srv, m):
        if not self.answer:
            return
        if m.type == DISCOVER:
            srv.reply(m, OFFER, self.yiaddr, self.lease, self.t1, self.t2)
        elif m.type == REQUEST:
            srv.reply(m, ACK, self.yiaddr, self.lease, self.t1, self.t2)


# ---- capture ----------------------------------------------------------------

DHCP_FIELDS = ["frame.number", "eth.src", "frame.protocols", "ip.checksum.status",
               "udp.checksum.status", "dhcp.option.dhcp", "_ws.expert.severity",
               "_ws.expert.message", "_ws.col.Info"]
WARNING = 0x600000


def check_capture(pcap):
    """Every frame the firmware sent, through tshark: well formed, good
    checksums; its DHCP messages by type, in order."""
    clean = pcap[:-5] + "-eth.pcap"
    strip_vnet(pcap, clean)
    out = tshark(clean, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
                 "-E", "aggregator=,", *sum((["-e", f] for f in DHCP_FIELDS), []))
    bad, types = [], []
    for line in out.splitlines():
        v = dict(zip(DHCP_FIELDS, line.split("\t")))
        if v.get("eth.src") != GMAC:
            continue
        why = []
        protos = v["frame.protocols"]
        if "_ws.malformed" in protos:
            why.append("malformed")
        if any(int(x, 0) >= WARNING for x in v["_ws.expert.severity"].split(",") if x):
            why.append("expert: " + v["_ws.expert.message"])
        if protos.startswith("eth:ethertype:ip"):
            if v["ip.checksum.status"] != "1":
                why.append("IP checksum " + v["ip.checksum.status"])
            if ":udp" in protos and v["udp.checksum.status"] != "1":
                why.append("UDP checksum " + v["udp.checksum.status"])
        if ":dhcp" in protos:
            if not v["dhcp.option.dhcp"]:
                why.append("DHCP without a message type")
            else:
                types.append(int(v["dhcp.option.dhcp"]))
        if why:
            bad.append(f"#{v['frame.number']} {v['_ws.col.Info']}: {'; '.join(why)}")
    assert not bad, f"{len(bad)} bad frames from the firmware in {clean}:\n    " + \
        "\n    ".join(bad[:20])
    flagged = tshark(clean, "-Y", f"eth.src == {GMAC} && (_ws.malformed || "
                     "_ws.expert.severity >= \"Warning\")").strip()
    assert not flagged, f"tshark flags firmware frames in {clean}:\n" + flagged[:2000]
    return types


def pcap_for(name):
    os.makedirs(CAPDIR, exist_ok=True)
    pcap = os.path.join(CAPDIR, name + ".pcap")
    for p in (pcap, pcap[:-5] + "-eth.pcap"):
        if os.path.exists(p):
            os.unlink(p)
    return pcap


_seq = [0]


def tap_case(name, body, append="ip=dhcp", tap_addr="192.168.88.1/24"):
    """A namespace, a tap (the host side at tap_addr) and a guest with
    filter-dump; body(g, tap, pcap) does the rest. The capture is checked
    after the guest is gone."""
    _seq[0] += 1
    pcap = pcap_for(name)
    with netns.NetNS(f"dhcp{_seq[0]}") as ns:
        tap = ns.tap(addr=tap_addr)
        with Guest(net=netns.tap_net(tap), append=append,
                   extra=["-object", f"filter-dump,id=f0,netdev=n0,file={pcap}"]) as g:
            assert g.boot(), "no ready line: " + g.out[-500:]
            body(g, tap, pcap)
            check_idle(g)
    return check_capture(pcap)


def scripted(name, scenario, body, server_ip="192.168.88.1"):
    """tap_case with a scripted server on the tap."""
    holder = {}

    def run(g, tap, pcap):
        srv = Server(tap, scenario, server_ip, tap_mac_bytes(tap))
        srv.start()
        holder["srv"] = srv
        try:
            body(g, srv)
            assert not srv.errors, srv.errors
        finally:
            srv.stop()
    types = tap_case(name, run)
    return holder["srv"], types


def tap_mac_bytes(tap):
    r = netns.sh("ip", "-o", "link", "show", "dev", tap)
    m = re.search(r"link/ether ([0-9a-f:]{17})", r.stdout)
    return bytes.fromhex(m.group(1).replace(":", ""))


def bound(g, timeout=LEASE_TIMEOUT, start=0):
    m = g.wait_for(BOUND_RE, timeout, start)
    assert m, "no lease: " + g.out[-1500:]
    return m.group(1)


def echo_ok(addr, port=7, tries=3, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        for i in range(tries):
            payload = b"dhcp echo %d" % i
            s.sendto(payload, (addr, port))
            try:
                data, peer = s.recvfrom(2048)
                if data == payload and peer == (addr, port):
                    return True
            except socket.timeout:
                pass
        return False
    finally:
        s.close()


def stat(g, key):
    st = g.stats()
    assert st is not None, "no stats"
    return st[key]


# ---- hostfwd: QEMU's own server ------------------------------------------

def hostfwd(mode, rng):
    port = free_port()
    extra = ["-device", "virtio-rng-device"] if rng else []
    with Guest(mode=mode, net=user_net(port), append="ip=dhcp hostname=rvnet-qemu", extra=extra) as g:
        assert g.boot(), "no ready line: " + g.out[-800:]
        assert "config: ip dhcp hostname rvnet-qemu port 7" in g.out, g.out[-800:]
        if rng:
            assert "entropy: virtio-rng (32 bytes)" in g.out, g.out[-800:]
        else:
            assert "entropy: no virtio-rng" in g.out, g.out[-800:]
        t0 = time.time()
        assert bound(g) == "10.0.2.15", g.out[-500:]
        took = time.time() - t0
        text = g.command("ifconfig")
        assert text and "inet 10.0.2.15 mask 255.255.255.0 gw 10.0.2.2" in text, text
        assert re.search(r"dhcp bound server 10\.0\.2\.2 lease 86400 s left \d+ s "
                         r"t1 in \d+ s t2 in \d+ s\r?\ndns 10\.0\.2\.3", text), text
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        try:
            for n in (0, 1, 100, 1472):
                p = bytes((i * 7 + n) & 255 for i in range(n))
                for _ in range(3):
                    s.sendto(p, ("127.0.0.1", port))
                    try:
                        data, _ = s.recvfrom(2048)
                        break
                    except socket.timeout:
                        data = None
                assert data == p, f"echo of {n} bytes after the lease: {data!r}"
        finally:
            s.close()
        st = check_idle(g)
        assert st["dhcp.offer"] == 1 and st["dhcp.ack"] == 1, st
        assert st["dhcp.tx_discover"] >= 1 and st["dhcp.tx_request"] >= 1, st
        assert st["arp.tx_request"] >= 3, "no ARP probes before using the address"
        print(f"  lease from QEMU's server {took:.1f} s after ready")


def default_static_fast():
    """The default image keeps the static address: an echo within a
    second of boot, with no DHCP at all (what make run relies on)."""
    port = free_port()
    with Guest(net=user_net(port)) as g:
        assert g.boot(), "no ready line"
        t0 = time.time()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            ok = False
            while time.time() - t0 < 1.0 and not ok:
                s.sendto(b"quick", ("127.0.0.1", port))
                try:
                    ok = s.recvfrom(64)[0] == b"quick"
                except socket.timeout:
                    pass
            assert ok, "no echo within 1 s of ready"
        finally:
            s.close()
        assert "config: ip 10.0.2.15/24 gw 10.0.2.2 port 7" in g.out
        assert stat(g, "dhcp.tx_discover") == 0


# ---- dnsmasq ----------------------------------------------------------------

DNSMASQ = "/usr/sbin/dnsmasq" if os.path.exists("/usr/sbin/dnsmasq") else "dnsmasq"


def dnsmasq_case():
    """dnsmasq serves 192.168.77.50-99 with a 2-minute lease (T1 60 s)."""
    tmp = tempfile.mkdtemp(prefix="rvnet-dnsmasq-")
    leases, log = os.path.join(tmp, "leases"), os.path.join(tmp, "log")
    pcap = pcap_for("dnsmasq")
    _seq[0] += 1
    try:
        with netns.NetNS(f"dhcp{_seq[0]}") as ns:
            tap = ns.tap(addr="192.168.77.1/24")
            proc = subprocess.Popen(
                [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                 f"--interface={tap}", "--bind-interfaces", "--user=root", "--group=root",
                 "--dhcp-range=192.168.77.50,192.168.77.99,2m", f"--dhcp-leasefile={leases}",
                 "--dhcp-option=option:ntp-server,192.168.77.1",
                 "--dhcp-option=option:dns-server,192.168.77.1",
                 "--log-dhcp", f"--log-facility={log}", "--pid-file="],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                time.sleep(0.3)
                assert proc.poll() is None, "dnsmasq did not start: " + proc.stderr.read().decode()
                with Guest(net=netns.tap_net(tap), append="ip=dhcp hostname=rvnet-dnsmasq",
                           extra=["-object", f"filter-dump,id=f0,netdev=n0,file={pcap}"]) as g:
                    assert g.boot(), "no ready line: " + g.out[-500:]
                    dnsmasq_body(g, log)
                    check_idle(g)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    finally:
        for p in (leases, log):
            if os.path.exists(p):
                os.unlink(p)
        os.rmdir(tmp)
    types = check_capture(pcap)
    # DISCOVER, REQUEST (selecting), REQUEST (renewing), RELEASE
    assert types.count(DISCOVER) >= 1 and types.count(REQUEST) >= 2 and types[-1] == RELEASE, types
    print(f"  dnsmasq: firmware DHCP messages {[NAMES[t] for t in types]}")


def dnsmasq_body(g, log):
    addr = bound(g)
    assert addr.startswith("192.168.77.") and addr != "10.0.2.15", addr
    assert echo_ok(addr), f"no echo at {addr} from the Linux client"
    text = g.command("ifconfig")
    assert re.search(r"dhcp bound server 192\.168\.77\.1 lease 120 s", text), text
    assert "dns 192.168.77.1 ntp 192.168.77.1" in text, text
    start = len(g.out)
    # T1 is 60 s into the lease: a REQUEST unicast to dnsmasq, its ACK
    m = g.wait_for(r"dhcp: renewed", 75, start)
    assert m, "no renewal within 75 s: " + g.out[-800:] + open(log).read()[-1500:]
    assert echo_ok(addr), "no echo after the renewal"
    g.command("dhcp release")
    assert g.wait_for(r"dhcp: released", 5, start), g.out[-500:]
    text = g.command("ifconfig")
    assert "inet 0.0.0.0" in text and "dhcp" not in text.split("inet")[1], text
    assert not echo_ok(addr, tries=2, timeout=0.5), "echo after the release"
    end = time.time() + 5
    while time.time() < end and "DHCPRELEASE" not in open(log).read():
        time.sleep(0.2)
    text = open(log).read()
    assert "DHCPRELEASE" in text, "dnsmasq saw no RELEASE:\n" + text[-1500:]
    assert len(re.findall(r"DHCPACK\(\S+\) " + re.escape(addr), text)) >= 2, text[-1500:]


# ---- the scripted server's cases ------------------------------------------

def case_nak():
    sc = Basic("192.168.88.50")
    sc.naks = 1

    def on_dhcp(srv, m):
        if m.type == REQUEST and sc.naks:
            sc.naks -= 1
            srv.reply(m, NAK, "0.0.0.0")
        else:
            Basic.on_dhcp(sc, srv, m)
    sc.on_dhcp = on_dhcp

    def body(g, srv):
        assert bound(g) == "192.168.88.50"
        assert "dhcp: nak" in g.out
        d = srv.of(DISCOVER)
        assert len(d) >= 2 and d[0].xid != d[-1].xid, srv.msgs
        assert srv.of(REQUEST)[0].t < d[-1].t, srv.msgs
        assert stat(g, "dhcp.nak") == 1
        assert echo_ok("192.168.88.50")
    srv, types = scripted("nak", sc, body)
    assert types[:4] == [DISCOVER, REQUEST, DISCOVER, REQUEST], types


def case_expiry():
    """lease 30 s, T1 10, T2 20, no answer after the first: renewal
    (unicast), rebinding (broadcast), expiry, DISCOVER."""
    sc = Basic("192.168.88.51", lease=30, t1=10, t2=20)

    def body(g, srv):
        assert bound(g) == "192.168.88.51"
        sc.answer = False
        acked = srv.of(REQUEST)[0].t  # the lease runs from the REQUEST
        assert echo_ok("192.168.88.51")
        srv.wait(lambda: len(srv.of(REQUEST)) >= 3, 25, "renewal and rebinding REQUESTs")
        renew, rebind = srv.of(REQUEST)[1:3]
        assert renew.ip_dst == "192.168.88.1" and renew.eth_dst != b"\xff" * 6, renew
        assert renew.ciaddr == "192.168.88.51" and renew.ip_src == "192.168.88.51", renew
        assert renew.ip_opt(50) is None and renew.ip_opt(54) is None, renew
        assert 9.5 <= renew.t - acked <= 11.5, f"renewal {renew.t - acked:.1f} s into the lease"
        assert rebind.ip_dst == "255.255.255.255" and rebind.ciaddr == "192.168.88.51", rebind
        assert 19.5 <= rebind.t - acked <= 21.5, f"rebinding {rebind.t - acked:.1f} s into the lease"
        assert renew.xid == rebind.xid
        m = g.wait_for(r"dhcp: expired, inet 0\.0\.0\.0", 15)
        assert m, g.out[-800:]
        srv.wait(lambda: any(d.t > rebind.t for d in srv.of(DISCOVER)), 5, "DISCOVER after expiry")
        d = [d for d in srv.of(DISCOVER) if d.t > rebind.t][0]
        assert 29.5 <= d.t - acked <= 32, f"DISCOVER {d.t - acked:.1f} s into a 30 s lease"
        assert d.ip_opt(50) == "192.168.88.51", d  # the old address, suggested
        assert not echo_ok("192.168.88.51", tries=2, timeout=0.5), "echo after the lease ended"
        assert stat(g, "dhcp.expired") == 1
    scripted("expiry", sc, body)


def case_conflict():
    """The offered address answers the probe: DECLINE, then 10 s later a
    DISCOVER, and another address."""
    sc = Basic("192.168.88.52")
    owner = bytes.fromhex("020000000052")

    def on_probe(srv, target):
        if target == "192.168.88.52":
            srv.arp_reply(owner, target)
    sc.on_probe = on_probe

    def on_dhcp(srv, m):
        if m.type == DECLINE:
            sc.yiaddr = "192.168.88.53"
        Basic.on_dhcp(sc, srv, m)
    sc.on_dhcp = on_dhcp

    def body(g, srv):
        srv.wait(lambda: srv.of(DECLINE), LEASE_TIMEOUT, "DECLINE")
        dec = srv.of(DECLINE)[0]
        assert dec.ip_opt(50) == "192.168.88.52" and dec.ip_opt(54) == "192.168.88.1", dec
        assert dec.ciaddr == "0.0.0.0" and dec.ip_dst == "255.255.255.255" and \
            dec.ip_src == "0.0.0.0", dec
        assert g.wait_for(r"dhcp: conflict, inet 0\.0\.0\.0", 5), g.out[-500:]
        assert bound(g, 25) == "192.168.88.53"
        later = [d for d in srv.of(DISCOVER) if d.t > dec.t]
        assert later and later[0].t - dec.t >= 9.5, f"DISCOVER {later[0].t - dec.t:.1f} s after DECLINE"
        assert stat(g, "dhcp.conflict") == 1
        assert echo_ok("192.168.88.53")
    srv, types = scripted("conflict", sc, body)
    assert DECLINE in types


def case_two_servers():
    """Two servers offer: the first offer is taken (and the REQUEST names
    its server); the other server's ACK is ignored."""
    other_mac = bytes.fromhex("020000000002")

    class Two(Basic):
        def on_dhcp(self, srv, m):
            if m.type == DISCOVER:
                srv.reply(m, OFFER, "192.168.88.60", 600, server="192.168.88.2", server_mac=other_mac)
                time.sleep(0.05)
                srv.reply(m, OFFER, "192.168.88.61", 600)
            elif m.type == REQUEST and m.ip_opt(54) == "192.168.88.2":
                srv.reply(m, ACK, "192.168.88.61", 600)  # the wrong server
                time.sleep(0.05)
                srv.reply(m, ACK, "192.168.88.60", 600, server="192.168.88.2", server_mac=other_mac)

    def body(g, srv):
        assert bound(g) == "192.168.88.60"
        r = srv.of(REQUEST)[0]
        assert r.ip_opt(54) == "192.168.88.2" and r.ip_opt(50) == "192.168.88.60", r
        st = g.stats()
        assert st["dhcp.drop_state"] >= 1 and st["dhcp.drop_server"] >= 1, st
        text = g.command("ifconfig")
        assert "dhcp bound server 192.168.88.2" in text, text
    scripted("two-servers", Two("x"), body)


def case_overload():
    """OFFER and ACK with their options in the file and sname fields."""
    class Over(Basic):
        def reply_over(self, srv, m, t):
            options = opt(53, bytes([t])) + opt(52, b"\x03") + b"\xff"
            file = o_ip(54, "192.168.88.1") + o_u32(51, 900) + o_ip(3, "192.168.88.1") + b"\xff"
            sname = o_ip(1, "255.255.252.0") + o_ip(6, "192.168.88.9") + b"\xff"
            srv.reply(m, t, "192.168.88.70", options=options, file=file, sname=sname)

        def on_dhcp(self, srv, m):
            if m.type in (DISCOVER, REQUEST):
                self.reply_over(srv, m, OFFER if m.type == DISCOVER else ACK)

    def body(g, srv):
        assert bound(g) == "192.168.88.70"
        text = g.command("ifconfig")
        assert "inet 192.168.88.70 mask 255.255.252.0 gw 192.168.88.1" in text, text
        assert "lease 900 s" in text and "dns 192.168.88.9" in text, text
    scripted("overload", Over("x"), body)


def case_malformed():
    """Before the good OFFER: truncated and malformed ones, another xid,
    another client's MAC. Each is dropped and counted."""
    class Bad(Basic):
        def on_dhcp(self, srv, m):
            if m.type != DISCOVER or getattr(self, "done", False):
                return Basic.on_dhcp(self, srv, m)
            self.done = True
            y = "192.168.88.80"
            good = opt(53, b"\x02") + o_ip(54, srv.ip) + o_u32(51, 600) + o_ip(1, "255.255.255.0")
            bad = [
                good + b"\x03\x08" + ip2b(y),          # router option past the end
                good[:-2],                             # lease cut, no end option
                good,                                  # no end option
                opt(1, b"\xff\xff\xff") + good + b"\xff",  # a mask of 3 bytes
                opt(53, b"\x02") + opt(26, b"\x00\x10") + o_ip(54, srv.ip) + b"\xff",  # MTU 16
                opt(52, b"\x09") + good + b"\xff",     # overload 9
                good + o_u32(51, 7) + b"\xff",         # lease twice
            ]
            for o in bad:
                srv.reply(m, OFFER, y, options=o)
            # shorter than the BOOTP header
            payload = bootreply(m.xid, y, m.chaddr, good + b"\xff")[:200]
            srv.send(udp_frame(srv.mac, m.chaddr, srv.ip, y, 67, 68, payload))
            # the magic cookie wrong
            payload = bytearray(bootreply(m.xid, y, m.chaddr, good + b"\xff"))
            payload[236] = 0
            srv.send(udp_frame(srv.mac, m.chaddr, srv.ip, y, 67, 68, bytes(payload)))
            srv.reply(m, OFFER, y, 600, xid=m.xid ^ 0x5a5a)  # another transaction
            srv.reply(m, OFFER, y, 600, bcast=True, chaddr=b"\x02" * 6)  # another client's MAC
            time.sleep(0.2)
            srv.reply(m, OFFER, y, 600)

    def body(g, srv):
        assert bound(g) == "192.168.88.80"
        st = g.stats()
        assert st["dhcp.drop_malformed"] == 8, st
        assert st["dhcp.drop_short"] == 1, st
        assert st["dhcp.drop_xid"] == 2, st
        assert st["dhcp.offer"] == 1, st
        assert echo_ok("192.168.88.80")
    scripted("malformed", Bad("192.168.88.80", 600), body)


def case_rogue():
    """Once bound, a rogue server's OFFER, ACK and NAK (with our last xid
    and without) change nothing; our server's renewal still does."""
    sc = Basic("192.168.88.90", lease=40, t1=12, t2=30)
    rogue_mac = bytes.fromhex("02000000bad0")

    def body(g, srv):
        assert bound(g) == "192.168.88.90"
        m = srv.of(REQUEST)[-1]
        for t in (OFFER, ACK, NAK):
            for xid in (m.xid, 0x12345678):
                srv.reply(m, t, "192.168.88.91", 9999, server="192.168.88.66", server_mac=rogue_mac,
                          xid=xid, bcast=True)
        srv.reply(m, ACK, "192.168.88.90", 9999, server="192.168.88.66", server_mac=rogue_mac)
        time.sleep(0.5)
        st = g.stats()
        assert st["dhcp.drop_state"] == 7, st
        text = g.command("ifconfig")
        assert "inet 192.168.88.90 " in text and "dhcp bound server 192.168.88.1 lease 40 s" in text, text
        assert echo_ok("192.168.88.90")
        assert g.wait_for(r"dhcp: renewed", 20), "no renewal: " + g.out[-500:]
        assert echo_ok("192.168.88.90")
    scripted("rogue", sc, body)


def case_link():
    """The link goes down and up (QEMU's set_link): INIT-REBOOT asks for
    the same address (broadcast, from 0.0.0.0, no server id), probes it,
    and it is bound again."""
    sc = Basic("192.168.88.95", lease=600)
    mon = os.path.join(tempfile.gettempdir(), f"rvnet-dhcp-mon-{os.getpid()}")

    def monitor(cmd):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(mon)
        s.recv(4096)
        s.sendall(cmd.encode() + b"\n")
        time.sleep(0.2)
        s.close()

    def body(g, srv):
        assert bound(g) == "192.168.88.95"
        start = len(g.out)
        n = len(srv.msgs)
        monitor("set_link n0 off")
        assert g.wait_for(r"link down", 5, start), g.out[-300:]
        monitor("set_link n0 on")
        assert g.wait_for(r"dhcp: rebooting, inet 0\.0\.0\.0", 5, start), g.out[-300:]
        assert bound(g, LEASE_TIMEOUT, start) == "192.168.88.95"
        r = [x for x in srv.msgs[n:] if x.type == REQUEST][0]
        assert r.ip_opt(50) == "192.168.88.95" and r.ip_opt(54) is None, r
        assert r.ciaddr == "0.0.0.0" and r.ip_src == "0.0.0.0" and r.ip_dst == "255.255.255.255", r
        assert not [x for x in srv.msgs[n:] if x.type == DISCOVER], srv.msgs[n:]
        assert echo_ok("192.168.88.95")

    _seq[0] += 1
    pcap = pcap_for("link")
    with netns.NetNS(f"dhcp{_seq[0]}") as ns:
        tap = ns.tap(addr="192.168.88.1/24")
        try:
            with Guest(net=netns.tap_net(tap), append="ip=dhcp",
                       extra=["-object", f"filter-dump,id=f0,netdev=n0,file={pcap}",
                              "-monitor", f"unix:{mon},server=on,wait=off"]) as g:
                assert g.boot(), "no ready line"
                srv = Server(tap, sc, "192.168.88.1", tap_mac_bytes(tap))
                srv.start()
                try:
                    body(g, srv)
                    assert not srv.errors, srv.errors
                finally:
                    srv.stop()
                check_idle(g)
        finally:
            if os.path.exists(mon):
                os.unlink(mon)
    check_capture(pcap)


if __name__ == "__main__":
    r = Runner("dhcp")
    r.run("default-static-echo-within-1s", default_static_fast)
    r.run("hostfwd-m-rng", hostfwd, "m", True)
    r.run("hostfwd-s-no-rng", hostfwd, "s", False)
    if not netns.available():
        print("SKIP dhcp tap cases: need root and /dev/net/tun")
        r.failed += 1
        sys.exit(r.done())
    if NIC == "virtio-mmio":  # the link case uses virtio-net's status bit
        r.run("scripted-link-init-reboot", case_link)
    r.run("scripted-nak", case_nak)
    r.run("scripted-conflict-decline", case_conflict)
    r.run("scripted-two-servers", case_two_servers)
    r.run("scripted-overload", case_overload)
    r.run("scripted-malformed", case_malformed)
    r.run("scripted-rogue-after-bound", case_rogue)
    r.run("scripted-expiry", case_expiry)
    have_dnsmasq = os.path.exists(DNSMASQ) or \
        subprocess.run(["sh", "-c", "command -v dnsmasq"], capture_output=True).returncode == 0
    if have_dnsmasq:
        r.run("dnsmasq-lease-renew-release", dnsmasq_case)
    else:
        print("FAIL dhcp/dnsmasq: dnsmasq not installed (test/deps.sh installs dnsmasq-base)")
        r.failed += 1
    sys.exit(r.done())
