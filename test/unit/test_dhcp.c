/* DHCP client: the message parser, every state and transition on the
 * fake clock (backoff, NAK, conflict and DECLINE, renewal, rebinding,
 * expiry, INIT-REBOOT, release), hostile servers, the IP layer while
 * unconfigured, and the boot arguments that select it. Every message
 * the client sends is checked field by field. */
#include <stdlib.h>
#include "harness.h"
#include "../../net/dhcp.h"
#include "../../app/bootargs.h"
#include "../../app/config.h"

#define SRV_IP 0xc0a84401u  /* 192.168.68.1: server and router */
#define SRV2_IP 0xc0a84402u /* a second server */
#define YI 0xc0a84432u      /* 192.168.68.50: the address offered */
#define YI2 0xc0a84433u
#define BCAST 0xffffffffu
static const uint8_t SRV_MAC[6] = {0x02, 0, 0, 0, 0, 0x67};
static const uint8_t OTHER_MAC[6] = {0x02, 0, 0, 0, 0, 0x99};

enum { DISCOVER = 1, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE };

static uint8_t f[CFG_PKT_BUFSZ];
static uint8_t ob[600]; /* options of the server's next message */
static size_t on;
static uint8_t file_field[128], sname_field[64];
static int use_file, use_sname;
static char events[256];

static void hook(const char *ev)
{
	strncat(events, ev, sizeof events - strlen(events) - 2);
	strcat(events, " ");
}

static void run(uint32_t ms)
{
	for (; ms >= CFG_TICK_MS; ms -= CFG_TICK_MS)
		h_advance(CFG_TICK_MS);
	if (ms)
		h_advance(ms);
}

/* ---- what the client sends ---- */

/* Frame i as a DHCP message from port 68 to 67: its BOOTP part. */
static const uint8_t *sent_msg(int i, size_t *len)
{
	const uint8_t *ip = i >= 0 && i < h_nsent && i < H_MAX_FRAMES ? h_sent_ip(i) : NULL;
	if (!ip || ip[IP_PROTO] != IPPROTO_UDP)
		return NULL;
	const uint8_t *u = ip + IP_HLEN;
	if (get16(u + UDP_SPORT) != 68 || get16(u + UDP_DPORT) != 67)
		return NULL;
	*len = get16(u + UDP_LEN) - UDP_HLEN;
	return u + UDP_HLEN;
}

/* An option of a message we sent (options field only: we never overload). */
static const uint8_t *opt(const uint8_t *m, size_t len, uint8_t code, uint8_t *olen)
{
	for (size_t i = 240; i < len && m[i] != 255;) {
		if (m[i] == 0) {
			i++;
			continue;
		}
		if (m[i] == code) {
			*olen = m[i + 1];
			return m + i + 2;
		}
		i += 2u + m[i + 1];
	}
	return NULL;
}

static int type_of(const uint8_t *m, size_t len)
{
	uint8_t n;
	const uint8_t *v = opt(m, len, 53, &n);
	return v && n == 1 ? v[0] : -1;
}

/* Every message we send: well formed (RFC 2131 2, 4.1), our identity,
 * checksums right, at least the BOOTP minimum, ends with the end option. */
static void check_msg(int i)
{
	size_t len;
	const uint8_t *m = sent_msg(i, &len), *ip = h_sent_ip(i);
	uint8_t n;
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK(h_ip_ok(ip));
	CHECK(h_udp_ok(ip));
	CHECK(len >= 300);
	CHECK_EQ(m[0], 1);
	CHECK_EQ(m[1], 1);
	CHECK_EQ(m[2], 6);
	CHECK_EQ(get16(m + 10), 0); /* no broadcast flag */
	CHECK(!memcmp(m + 28, H_MAC, 6));
	CHECK_EQ(get32(m + 236), 0x63825363u);
	const uint8_t *id = opt(m, len, 61, &n);
	CHECK(id && n == 7 && id[0] == 1 && !memcmp(id + 1, H_MAC, 6));
	size_t k = 240;
	while (k < len && m[k] != 255)
		k += m[k] ? 2u + m[k + 1] : 1u;
	CHECK(k < len);
	CHECK(type_of(m, len) >= DISCOVER && type_of(m, len) <= RELEASE);
}

/* The last DHCP message sent: index, or -1. Every one is checked. */
static int last_msg(void)
{
	int last = -1;
	size_t len;
	for (int i = 0; i < h_nsent && i < H_MAX_FRAMES; i++)
		if (sent_msg(i, &len)) {
			check_msg(i);
			last = i;
		}
	return last;
}

static int count_type(int type)
{
	int n = 0;
	size_t len;
	for (int i = 0; i < h_nsent && i < H_MAX_FRAMES; i++) {
		const uint8_t *m = sent_msg(i, &len);
		n += m && type_of(m, len) == type;
	}
	return n;
}

static int last_type(void)
{
	size_t len;
	int i = last_msg();
	const uint8_t *m = sent_msg(i, &len);
	return m ? type_of(m, len) : -1;
}

static uint32_t last_xid(void)
{
	size_t len;
	const uint8_t *m = sent_msg(last_msg(), &len);
	return m ? get32(m + 4) : 0;
}

static uint32_t last_opt32(uint8_t code)
{
	size_t len;
	uint8_t n;
	const uint8_t *m = sent_msg(last_msg(), &len);
	const uint8_t *v = m ? opt(m, len, code, &n) : NULL;
	return v && n == 4 ? get32(v) : 0;
}

static int last_has_opt(uint8_t code)
{
	size_t len;
	uint8_t n;
	const uint8_t *m = sent_msg(last_msg(), &len);
	return m && opt(m, len, code, &n) != NULL;
}

static int count_arp(uint32_t spa, uint32_t tpa)
{
	int n = 0;
	for (int i = 0; i < h_nsent && i < H_MAX_FRAMES; i++) {
		const uint8_t *a = h_frames[i] + ETH_HLEN;
		n += get16(h_frames[i] + ETH_TYPE) == ETHTYPE_ARP && get32(a + ARP_SPA) == spa &&
		     get32(a + ARP_TPA) == tpa && get16(a + ARP_OPER) == ARP_OP_REQUEST;
	}
	return n;
}

/* ---- what the server sends ---- */

static void o_reset(void)
{
	on = 0;
	use_file = use_sname = 0;
	memset(file_field, 0, sizeof file_field);
	memset(sname_field, 0, sizeof sname_field);
}

static void o_raw(uint8_t code, const void *v, uint8_t len)
{
	ob[on++] = code;
	ob[on++] = len;
	memcpy(ob + on, v, len);
	on += len;
}

static void o_u8(uint8_t code, uint8_t v) { o_raw(code, &v, 1); }

static void o_u32(uint8_t code, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	o_raw(code, b, 4);
}

static void o_end(void) { ob[on++] = 255; }

/* The usual answer: type, server id, a /24, the router, a DNS server,
 * the lease; the end option follows with o_end. */
static void o_std(uint8_t type, uint32_t server, uint32_t lease)
{
	o_reset();
	o_u8(53, type);
	o_u32(54, server);
	o_u32(1, 0xffffff00u);
	o_u32(3, SRV_IP);
	o_u32(6, 0xc0a84435u);
	o_u32(51, lease);
}

/* A BOOTREPLY from src with the options in ob, to dst (an IP; our MAC
 * unless it is a broadcast). */
static size_t srv_frame(uint32_t src, uint32_t dst, uint32_t xid, uint32_t yiaddr)
{
	size_t blen = 240 + on;
	size_t o = h_eth(f, dst == BCAST ? H_BCAST : H_MAC, SRV_MAC, ETHTYPE_IP);
	o += h_ip(f + o, src, dst, IPPROTO_UDP, (uint16_t)(IP_HLEN + UDP_HLEN + blen), 7, 0);
	uint8_t *u = f + o, *m = u + UDP_HLEN;
	memset(m, 0, 240);
	m[0] = 2, m[1] = 1, m[2] = 6;
	put32(m + 4, xid);
	put32(m + 16, yiaddr);
	memcpy(m + 28, H_MAC, 6);
	if (use_sname)
		memcpy(m + 44, sname_field, 64);
	if (use_file)
		memcpy(m + 108, file_field, 128);
	put32(m + 236, 0x63825363u);
	memcpy(m + 240, ob, on);
	put16(u + UDP_SPORT, 67);
	put16(u + UDP_DPORT, 68);
	put16(u + UDP_LEN, (uint16_t)(UDP_HLEN + blen));
	put16(u + UDP_CSUM, 0);
	uint16_t c = csum_finish(csum_add(csum_pseudo(src, dst, IPPROTO_UDP, (uint16_t)(UDP_HLEN + blen)),
					  u, UDP_HLEN + blen));
	put16(u + UDP_CSUM, c ? c : 0xffff);
	return o + UDP_HLEN + blen;
}

static void srv_send(uint32_t src, uint32_t dst, uint32_t xid, uint32_t yiaddr)
{
	h_inject(f, srv_frame(src, dst, xid, yiaddr));
}

static void send_std(uint8_t type, uint32_t xid, uint32_t yiaddr, uint32_t lease)
{
	o_std(type, SRV_IP, lease);
	o_end();
	srv_send(SRV_IP, type == NAK ? BCAST : yiaddr, xid, yiaddr);
}

/* ---- getting to a state ---- */

#define CHECK_MS (CFG_ACD_PROBE_WAIT_MS + (CFG_ACD_PROBE_NUM - 1) * CFG_ACD_PROBE_MAX_MS + \
		  CFG_ACD_ANNOUNCE_WAIT_MS + 2 * CFG_TICK_MS)

static void start(void)
{
	h_init();
	events[0] = 0;
	dhcp_set_hook(hook);
	dhcp_set_hostname("rvnet-1");
	CHECK_EQ(dhcp_start(), 0);
	CHECK_EQ(netif.ip, 0);
	CHECK_EQ(dhcp_state(), DHCP_INIT);
	/* tick by tick: the clock stops at the DISCOVER */
	for (uint32_t t = 0; count_type(DISCOVER) == 0 && t <= CFG_DHCP_START_WAIT_MS; t += CFG_TICK_MS)
		run(CFG_TICK_MS);
	CHECK_EQ(dhcp_state(), DHCP_SELECTING);
	CHECK_EQ(last_type(), DISCOVER);
}

/* From SELECTING to BOUND with lease seconds (T1/T2 when nonzero). */
static void to_bound(uint32_t yi, uint32_t lease, uint32_t t1, uint32_t t2)
{
	send_std(OFFER, last_xid(), yi, lease);
	CHECK_EQ(dhcp_state(), DHCP_REQUESTING);
	o_std(ACK, SRV_IP, lease);
	if (t1)
		o_u32(58, t1);
	if (t2)
		o_u32(59, t2);
	o_end();
	srv_send(SRV_IP, yi, last_xid(), yi);
	CHECK_EQ(dhcp_state(), DHCP_CHECKING);
	run(CHECK_MS);
	CHECK_EQ(dhcp_state(), DHCP_BOUND);
	CHECK_EQ(netif.ip, yi);
}

/* The server asks for us: the client learns its MAC, so unicasts go out
 * at once instead of waiting in the ARP queue. */
static void learn_server(void)
{
	uint8_t a[64];
	h_inject(a, h_arp(a, H_BCAST, ARP_OP_REQUEST, SRV_MAC, SRV_IP, H_ZERO, netif.ip));
}

static void finish(void)
{
	dhcp_release();
	run(5000); /* ARP retries run out: nothing held */
	h_idle();
}

/* ---- the parser ---- */

static size_t msg_only(uint8_t *m)
{
	size_t n = srv_frame(SRV_IP, YI, 0x1234, YI);
	size_t len = n - ETH_HLEN - IP_HLEN - UDP_HLEN;
	memmove(m, f + ETH_HLEN + IP_HLEN + UDP_HLEN, len);
	return len;
}

static void test_parse_good(void)
{
	uint8_t m[800];
	struct dhcp_msg d;
	o_std(OFFER, SRV_IP, 3600);
	o_u32(58, 1000);
	o_u32(59, 2000);
	o_u32(28, 0xc0a844ffu);
	uint8_t mtu[2] = {0x05, 0xdc}, dns[12], ntp[4];
	o_raw(26, mtu, 2);
	put32(dns, 1), put32(dns + 4, 2), put32(dns + 8, 3);
	o_raw(6, dns, 12); /* continues the list of o_std's: 4 servers, 2 kept */
	put32(ntp, 0x0a000001);
	o_raw(42, ntp, 4);
	o_raw(200, "unknown", 7);
	ob[on++] = 0; /* pad */
	o_end();
	size_t len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), 0);
	CHECK_EQ(d.type, OFFER);
	CHECK_EQ(d.xid, 0x1234);
	CHECK_EQ(d.yiaddr, YI);
	CHECK(!memcmp(d.chaddr, H_MAC, 6));
	CHECK_EQ(d.l.server, SRV_IP);
	CHECK_EQ(d.l.mask, 0xffffff00u);
	CHECK_EQ(d.l.gw, SRV_IP);
	CHECK_EQ(d.l.lease_s, 3600);
	CHECK_EQ(d.l.t1_s, 1000);
	CHECK_EQ(d.l.t2_s, 2000);
	CHECK_EQ(d.l.bcast, 0xc0a844ffu);
	CHECK_EQ(d.l.mtu, 1500);
	CHECK_EQ(d.l.ndns, CFG_DHCP_DNS_MAX);
	CHECK_EQ(d.l.dns[0], 0xc0a84435u);
	CHECK_EQ(d.l.nntp, 1);
	CHECK_EQ(d.l.ntp[0], 0x0a000001);
	CHECK(d.has & DHCP_HAS_T1);
	CHECK(!(d.has & DHCP_HAS_OVERLOAD));
}

/* Options in file and sname when option 52 says so (RFC 2131 4.1). */
static void test_parse_overload(void)
{
	uint8_t m[800];
	struct dhcp_msg d;
	o_reset();
	o_u8(53, ACK);
	o_u8(52, 3);
	o_end();
	use_file = use_sname = 1;
	/* file: server id, lease, router; sname: mask */
	uint8_t *p = file_field;
	*p++ = 54, *p++ = 4, put32(p, SRV_IP), p += 4;
	*p++ = 51, *p++ = 4, put32(p, 600), p += 4;
	*p++ = 3, *p++ = 4, put32(p, 0xc0a84401u), p += 4;
	*p++ = 52, *p++ = 1, *p++ = 1; /* ignored outside the options field */
	*p = 255;
	p = sname_field;
	*p++ = 1, *p++ = 4, put32(p, 0xfffff000u), p += 4;
	*p = 255;
	size_t len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), 0);
	CHECK_EQ(d.overload, 3);
	CHECK_EQ(d.l.server, SRV_IP);
	CHECK_EQ(d.l.lease_s, 600);
	CHECK_EQ(d.l.mask, 0xfffff000u);
	CHECK_EQ(d.l.gw, 0xc0a84401u);
	/* overload 1: sname is a name again, its bytes not options */
	ob[5] = 1;
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), 0);
	CHECK(!(d.has & DHCP_HAS_MASK));
	/* a field without its end option */
	ob[5] = 3;
	memset(sname_field, 0, sizeof sname_field);
	sname_field[0] = 1, sname_field[1] = 4;
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED); /* pads to the end, no end option */
	memset(sname_field, 1, sizeof sname_field);
	sname_field[0] = 12, sname_field[1] = 62; /* a host name up to the very end: no end option */
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	sname_field[1] = 63; /* past the field */
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
}

static void test_parse_bad(void)
{
	uint8_t m[800];
	struct dhcp_msg d;
	size_t len;
	/* each case: one thing wrong */
	o_std(OFFER, SRV_IP, 60);
	o_end();
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, 239, &d), DHCP_E_SHORT);
	CHECK_EQ(dhcp_parse(m, 0, &d), DHCP_E_SHORT);
	CHECK_EQ(dhcp_parse(m, 240, &d), DHCP_E_MALFORMED); /* no options, no end */
	CHECK_EQ(dhcp_parse(m, len - 1, &d), DHCP_E_MALFORMED); /* end option cut off */
	CHECK_EQ(dhcp_parse(m, len - 3, &d), DHCP_E_MALFORMED); /* inside the lease option */
	CHECK_EQ(dhcp_parse(m, len, &d), 0);
	uint8_t save = m[0];
	m[0] = 1; /* a BOOTREQUEST */
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	m[0] = save, m[1] = 6; /* htype */
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	m[1] = 1, m[2] = 16; /* hlen */
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	m[2] = 6, m[236] = 0; /* cookie */
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	m[236] = 0x63;
	CHECK_EQ(dhcp_parse(m, len, &d), 0);

	static const struct { uint8_t code, len; } wrong[] = {
		{1, 3}, {1, 5}, {28, 0}, {54, 2}, {51, 8}, {58, 1}, {59, 0}, {53, 2}, {53, 0},
		{52, 2}, {26, 1}, {26, 4}, {3, 0}, {3, 6}, {6, 5}, {42, 3},
	};
	for (unsigned k = 0; k < sizeof wrong / sizeof wrong[0]; k++) {
		uint8_t v[8] = {1, 1, 1, 1, 1, 1, 1, 1};
		o_reset();
		o_raw(wrong[k].code, v, wrong[k].len);
		o_u8(53, OFFER);
		o_end();
		len = msg_only(m);
		if (dhcp_parse(m, len, &d) != DHCP_E_MALFORMED)
			printf("  option %u length %u accepted\n", wrong[k].code, wrong[k].len);
		CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	}
	/* values: MTU under 68, overload 0 or 4, the same fixed option twice */
	uint8_t mtu[2] = {0, 67};
	o_reset(), o_raw(26, mtu, 2), o_u8(53, OFFER), o_end();
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	o_reset(), o_u8(52, 0), o_u8(53, OFFER), o_end();
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	o_reset(), o_u8(52, 4), o_u8(53, OFFER), o_end();
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	o_reset(), o_u32(51, 5), o_u32(51, 6), o_u8(53, OFFER), o_end();
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	o_reset(), o_u8(53, OFFER), o_u8(53, ACK), o_end();
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	o_reset(), o_u32(51, 5), o_end(); /* BOOTP: no message type */
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	o_reset(), o_u8(53, OFFER), ob[on++] = 77; /* a code and no length */
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), DHCP_E_MALFORMED);
	/* the router, twice: the first one counts */
	o_reset(), o_u32(3, 1), o_u32(3, 2), o_u8(53, OFFER), o_end();
	len = msg_only(m);
	CHECK_EQ(dhcp_parse(m, len, &d), 0);
	CHECK_EQ(d.l.gw, 1);
}

/* Every prefix of a good message parses or fails cleanly (ASan watches). */
static void test_parse_truncations(void)
{
	uint8_t m[800];
	struct dhcp_msg d;
	o_std(ACK, SRV_IP, 60);
	o_u32(58, 10);
	o_end();
	size_t len = msg_only(m);
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, m, n);
		CHECK(dhcp_parse(copy, n, &d) < 0);
		free(copy);
	}
}

/* ---- the state machine ---- */

/* INIT -> SELECTING -> REQUESTING -> CHECKING -> BOUND, each message as
 * RFC 2131 4.4.1 and table 5 have it, the probes as RFC 5227 2.1.1. */
static void test_lease(void)
{
	start();
	int i = last_msg();
	size_t len;
	const uint8_t *m = sent_msg(i, &len), *ip = h_sent_ip(i);
	uint8_t n;
	CHECK_EQ(get32(ip + IP_SRC), 0);
	CHECK_EQ(get32(ip + IP_DST), BCAST);
	CHECK(!memcmp(h_frames[i], H_BCAST, 6));
	CHECK_EQ(get32(m + 12), 0); /* ciaddr */
	const uint8_t *v = opt(m, len, 12, &n);
	CHECK(v && n == 7 && !memcmp(v, "rvnet-1", 7));
	v = opt(m, len, 57, &n);
	CHECK(v && n == 2 && get16(v) == CFG_MTU);
	v = opt(m, len, 55, &n);
	CHECK(v && n >= 8 && memchr(v, 1, n) && memchr(v, 3, n) && memchr(v, 6, n) && memchr(v, 42, n) &&
	      memchr(v, 26, n) && memchr(v, 58, n));
	CHECK(!opt(m, len, 54, &n));
	CHECK(!opt(m, len, 50, &n));
	uint32_t xid = get32(m + 4);

	h_reset_sent();
	send_std(OFFER, xid, YI, 3600);
	CHECK_EQ(h_stat("dhcp", "offer"), 1);
	CHECK_EQ(dhcp_state(), DHCP_REQUESTING);
	CHECK_EQ(last_type(), REQUEST);
	CHECK_EQ(last_xid(), xid);
	CHECK_EQ(last_opt32(50), YI);
	CHECK_EQ(last_opt32(54), SRV_IP);
	ip = h_sent_ip(last_msg());
	CHECK_EQ(get32(ip + IP_SRC), 0);
	CHECK_EQ(get32(ip + IP_DST), BCAST);
	CHECK_EQ(netif.ip, 0);

	h_reset_sent();
	send_std(ACK, xid, YI, 3600);
	CHECK_EQ(dhcp_state(), DHCP_CHECKING);
	CHECK_EQ(netif.ip, 0); /* not before the probes */
	/* the probes: PROBE_NUM of them, sender 0, spaced as RFC 5227 says */
	int probes = 0;
	uint32_t t0 = h_clock, times[8] = {0};
	while (dhcp_state() == DHCP_CHECKING && h_clock - t0 < 20000) {
		int before = count_arp(0, YI);
		run(CFG_TICK_MS);
		if (count_arp(0, YI) > before && probes < 8)
			times[probes++] = h_clock - t0;
	}
	CHECK_EQ(probes, CFG_ACD_PROBE_NUM);
	CHECK(times[0] <= CFG_ACD_PROBE_WAIT_MS + CFG_TICK_MS);
	for (int k = 1; k < probes; k++) {
		CHECK(times[k] - times[k - 1] >= CFG_ACD_PROBE_MIN_MS);
		CHECK(times[k] - times[k - 1] <= CFG_ACD_PROBE_MAX_MS + CFG_TICK_MS);
	}
	CHECK(h_clock - t0 - times[probes - 1] >= CFG_ACD_ANNOUNCE_WAIT_MS);
	for (int k = 0; k < h_nsent; k++) /* a probe: broadcast, target MAC zero */
		if (get16(h_frames[k] + ETH_TYPE) == ETHTYPE_ARP) {
			CHECK(!memcmp(h_frames[k], H_BCAST, 6));
			CHECK(!memcmp(h_frames[k] + ETH_HLEN + ARP_THA, H_ZERO, 6));
			CHECK(!memcmp(h_frames[k] + ETH_HLEN + ARP_SHA, H_MAC, 6));
		}
	CHECK_EQ(dhcp_state(), DHCP_BOUND);
	CHECK_EQ(netif.ip, YI);
	CHECK_EQ(netif.mask, 0xffffff00u);
	CHECK_EQ(netif.gw, SRV_IP);
	CHECK(strstr(events, "bound") != NULL);
	/* announced: ANNOUNCE_NUM times, ANNOUNCE_INTERVAL apart */
	CHECK_EQ(count_arp(YI, YI), 1);
	run(CFG_ACD_ANNOUNCE_INTERVAL_MS + CFG_TICK_MS);
	CHECK_EQ(count_arp(YI, YI), CFG_ACD_ANNOUNCE_NUM);
	run(10000);
	CHECK_EQ(count_arp(YI, YI), CFG_ACD_ANNOUNCE_NUM);
	uint32_t left, t1, t2;
	const struct dhcp_lease *l = dhcp_lease(&left, &t1, &t2);
	CHECK(l != NULL);
	if (l) {
		CHECK_EQ(l->server, SRV_IP);
		CHECK_EQ(l->lease_s, 3600);
		CHECK_EQ(l->t1_s, 1800);
		CHECK_EQ(l->t2_s, 3150);
		CHECK_EQ(l->ndns, 1);
		CHECK(left <= 3600 - 15 && left >= 3600 - 25);
		CHECK(t1 <= 1800 - 15 && t2 <= 3150 - 15);
	}
	CHECK_EQ(h_stat("dhcp", "rx"), 2);
	finish();
}

/* Unconfigured, the IP layer takes DHCP's unicast replies and broadcasts
 * and nothing else; it sends from 0.0.0.0 only to the broadcast. The
 * echo service answers once bound, not before. */
static void test_unconfigured_ip(void)
{
	start();
	struct udp_pcb *echo = udp_new();
	CHECK_EQ(udp_bind(echo, 0, 7), NET_OK);
	uint8_t pay[8] = "ping";
	/* UDP to the address being offered, port 7: not ours */
	uint32_t not_ours = h_stat("ip", "drop_not_ours");
	size_t len = h_udp_frame(f, 1000, 7, pay, 4);
	put32(f + ETH_HLEN + IP_DST, YI);
	put16(f + ETH_HLEN + IP_CSUM, 0);
	put16(f + ETH_HLEN + IP_CSUM, csum_finish(csum_add(0, f + ETH_HLEN, IP_HLEN)));
	put16(f + ETH_HLEN + IP_HLEN + UDP_CSUM, 0); /* no UDP checksum: no pseudo header to fix */
	h_inject(f, len);
	CHECK_EQ(h_stat("ip", "drop_not_ours"), not_ours + 1);
	/* DHCP's port at an address, but to the broadcast MAC: not ours */
	o_std(OFFER, SRV_IP, 60);
	o_end();
	len = srv_frame(SRV_IP, YI, last_xid(), YI);
	memcpy(f, H_BCAST, 6);
	h_inject(f, len);
	CHECK_EQ(h_stat("ip", "drop_not_ours"), not_ours + 2);
	/* to port 68 as a fragment: not ours */
	len = srv_frame(SRV_IP, YI, last_xid(), YI);
	put16(f + ETH_HLEN + IP_FRAG, IP_MF);
	put16(f + ETH_HLEN + IP_CSUM, 0);
	put16(f + ETH_HLEN + IP_CSUM, csum_finish(csum_add(0, f + ETH_HLEN, IP_HLEN)));
	h_inject(f, len);
	CHECK_EQ(h_stat("ip", "drop_not_ours"), not_ours + 3);
	/* a ping to the offered address: not ours */
	uint8_t icmp[8] = {8, 0, 0xf7, 0xff, 0, 0, 0, 0};
	len = h_eth(f, H_MAC, SRV_MAC, ETHTYPE_IP);
	len += h_ip(f + len, SRV_IP, YI, IPPROTO_ICMP, IP_HLEN + 8, 1, 0);
	memcpy(f + len, icmp, 8);
	h_inject(f, len + 8);
	CHECK_EQ(h_stat("ip", "drop_not_ours"), not_ours + 4);
	CHECK_EQ(h_stat("icmp", "rx"), 0);
	CHECK_EQ(dhcp_state(), DHCP_SELECTING);
	/* sending: from 0.0.0.0 to the broadcast only */
	struct udp_pcb *app = udp_new();
	struct pkt *p = pkt_alloc(PKT_APP);
	p->len = 4;
	CHECK_EQ(udp_sendto(app, p, SRV_IP, 9), NET_ERR_RTE);
	p = pkt_alloc(PKT_APP);
	p->len = 4;
	int sent = h_nsent;
	CHECK_EQ(udp_sendto(app, p, BCAST, 9), NET_ERR_ACCESS); /* not without asking */
	CHECK_EQ(udp_set_broadcast(app, 1), NET_OK);
	p = pkt_alloc(PKT_APP);
	p->len = 4;
	CHECK_EQ(udp_sendto(app, p, BCAST, 9), NET_OK);
	CHECK_EQ(h_nsent, sent + 1);
	CHECK_EQ(get32(h_sent_ip(sent) + IP_SRC), 0);
	CHECK(h_udp_ok(h_sent_ip(sent)));
	/* bound: the wildcard PCBs speak from the new address */
	to_bound(YI, 3600, 0, 0);
	p = pkt_alloc(PKT_APP);
	p->len = 4;
	h_reset_sent();
	CHECK_EQ(udp_sendto(app, p, BCAST, 9), NET_OK);
	CHECK_EQ(get32(h_sent_ip(0) + IP_SRC), YI);
	len = h_udp_frame(f, 1000, 7, pay, 4);
	put32(f + ETH_HLEN + IP_DST, YI);
	put16(f + ETH_HLEN + IP_CSUM, 0);
	put16(f + ETH_HLEN + IP_CSUM, csum_finish(csum_add(0, f + ETH_HLEN, IP_HLEN)));
	put16(f + ETH_HLEN + IP_HLEN + UDP_CSUM, 0);
	put32(f + ETH_HLEN + IP_SRC, SRV_IP);
	put16(f + ETH_HLEN + IP_CSUM, 0);
	put16(f + ETH_HLEN + IP_CSUM, csum_finish(csum_add(0, f + ETH_HLEN, IP_HLEN)));
	h_inject(f, len);
	uint32_t src;
	struct pkt *q = udp_poll(echo, &src, NULL);
	CHECK(q != NULL);
	CHECK_EQ(src, SRV_IP);
	if (q)
		pkt_free(q);
	udp_remove(echo);
	udp_remove(app);
	finish();
}

/* RFC 2131 4.1: 4, 8, 16, 32, 64, 64 s, each +-1 s; the same xid; a
 * new xid for a new exchange. */
static void test_backoff(void)
{
	start();
	uint32_t xid = last_xid(), t = h_clock;
	static const uint32_t want[] = {4000, 8000, 16000, 32000, 64000, 64000};
	for (unsigned k = 0; k < sizeof want / sizeof want[0]; k++) {
		int before = count_type(DISCOVER);
		uint32_t t0 = h_clock;
		while (count_type(DISCOVER) == before && h_clock - t0 < 70000)
			run(CFG_TICK_MS);
		uint32_t gap = h_clock - t;
		if (gap < want[k] - 1000 || gap > want[k] + 1000 + CFG_TICK_MS)
			printf("  retransmission %u after %u ms\n", k, gap);
		CHECK(gap >= want[k] - 1000 && gap <= want[k] + 1000 + CFG_TICK_MS);
		CHECK_EQ(last_xid(), xid);
		t = h_clock;
		if (h_nsent > H_MAX_FRAMES - 8)
			h_reset_sent();
	}
	/* the secs field counts from the first DISCOVER */
	size_t len;
	const uint8_t *m = sent_msg(last_msg(), &len);
	CHECK(m && get16(m + 8) >= 120);
	/* a new start: a new xid (from the entropy pool, not a constant) */
	uint32_t xids[4];
	for (int k = 0; k < 4; k++) {
		h_reset_sent();
		dhcp_start();
		run(CFG_DHCP_START_WAIT_MS + CFG_TICK_MS);
		xids[k] = last_xid();
	}
	CHECK(xids[0] != xid && xids[0] != xids[1] && xids[1] != xids[2] && xids[2] != xids[3]);
	finish();
}

/* No answer to REQUEST: after CFG_DHCP_REQUEST_TRIES, INIT again. */
static void test_request_timeout(void)
{
	start();
	uint32_t xid = last_xid();
	send_std(OFFER, xid, YI, 3600);
	CHECK_EQ(count_type(REQUEST), 1);
	run(31500);
	CHECK_EQ(count_type(REQUEST), CFG_DHCP_REQUEST_TRIES);
	CHECK_EQ(dhcp_state(), DHCP_REQUESTING);
	h_reset_sent();
	run(33000);
	CHECK_EQ(last_type(), DISCOVER);
	CHECK(last_xid() != xid);
	CHECK_EQ(dhcp_state(), DHCP_SELECTING);
	finish();
}

/* NAK: the address dropped, DISCOVER at once; NAKs in a row back off. */
static void test_nak(void)
{
	start();
	uint32_t xid = last_xid();
	send_std(OFFER, xid, YI, 3600);
	h_reset_sent();
	send_std(NAK, xid, 0, 0);
	CHECK_EQ(h_stat("dhcp", "nak"), 1);
	CHECK(strstr(events, "nak") != NULL);
	run(2 * CFG_TICK_MS);
	CHECK_EQ(last_type(), DISCOVER);
	CHECK(last_xid() != xid);
	CHECK(!last_has_opt(50)); /* the refused address is not suggested */
	/* a second NAK in a row: the restart waits 3..5 s */
	xid = last_xid();
	send_std(OFFER, xid, YI, 3600);
	h_reset_sent();
	send_std(NAK, xid, 0, 0);
	run(2900);
	CHECK_EQ(count_type(DISCOVER), 0);
	run(2300);
	CHECK_EQ(count_type(DISCOVER), 1);
	/* a NAK while renewing drops the address */
	to_bound(YI, 3600, 0, 0);
	learn_server();
	dhcp_renew();
	CHECK_EQ(dhcp_state(), DHCP_RENEWING);
	send_std(NAK, last_xid(), 0, 0);
	CHECK_EQ(netif.ip, 0);
	CHECK_EQ(dhcp_state(), DHCP_INIT);
	finish();
}

/* RFC 5227: a reply to the probe (or another host's probe) is a
 * conflict: DECLINE, no address, DISCOVER after 10 s. */
static void test_conflict(void)
{
	for (int kind = 0; kind < 2; kind++) {
		start();
		uint32_t xid = last_xid();
		send_std(OFFER, xid, YI, 3600);
		send_std(ACK, xid, YI, 3600);
		run(CFG_ACD_PROBE_WAIT_MS + CFG_TICK_MS);
		CHECK_EQ(count_arp(0, YI), 1);
		uint8_t a[64];
		if (kind == 0) /* the owner answers the probe */
			h_inject(a, h_arp(a, H_MAC, ARP_OP_REPLY, OTHER_MAC, YI, H_MAC, 0));
		else /* someone else probes for it too */
			h_inject(a, h_arp(a, H_BCAST, ARP_OP_REQUEST, OTHER_MAC, 0, H_ZERO, YI));
		h_reset_sent();
		run(2 * CFG_TICK_MS);
		CHECK_EQ(h_stat("dhcp", "conflict"), 1);
		CHECK_EQ(last_type(), DECLINE);
		CHECK_EQ(last_opt32(50), YI);
		CHECK_EQ(last_opt32(54), SRV_IP);
		CHECK(!last_has_opt(55));
		size_t len;
		const uint8_t *m = sent_msg(last_msg(), &len);
		CHECK(m && get32(m + 12) == 0);
		CHECK_EQ(get32(h_sent_ip(last_msg()) + IP_DST), BCAST);
		CHECK_EQ(netif.ip, 0);
		CHECK_EQ(dhcp_state(), DHCP_INIT);
		CHECK(strstr(events, "conflict") != NULL && strstr(events, "bound") == NULL);
		run(CFG_DHCP_DECLINE_WAIT_MS - 500);
		CHECK_EQ(count_type(DISCOVER), 0);
		run(600);
		CHECK_EQ(count_type(DISCOVER), 1);
		CHECK(!last_has_opt(50));
		to_bound(YI2, 3600, 0, 0);
		finish();
	}
}

/* T1: REQUEST unicast to the server, ciaddr set, no 50/54; the ACK
 * renews in place. */
static void test_renew(void)
{
	start();
	to_bound(YI, 100, 40, 80);
	learn_server();
	h_reset_sent();
	events[0] = 0;
	run(40000 - CHECK_MS + 2 * CFG_TICK_MS);
	CHECK_EQ(dhcp_state(), DHCP_RENEWING);
	int i = last_msg();
	size_t len;
	const uint8_t *m = sent_msg(i, &len), *ip = h_sent_ip(i);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(type_of(m, len), REQUEST);
	CHECK_EQ(get32(m + 12), YI);
	CHECK_EQ(get32(ip + IP_SRC), YI);
	CHECK_EQ(get32(ip + IP_DST), SRV_IP);
	CHECK(!memcmp(h_frames[i], SRV_MAC, 6));
	CHECK(!last_has_opt(50) && !last_has_opt(54));
	/* a rogue server's ACK is not taken while renewing with ours */
	o_std(ACK, SRV2_IP, 9999);
	o_end();
	srv_send(SRV2_IP, YI, last_xid(), YI);
	CHECK_EQ(h_stat("dhcp", "drop_server"), 1);
	o_reset();
	o_u8(53, ACK);
	o_u32(54, SRV_IP);
	o_u32(51, 200);
	o_u32(1, 0xffff0000u);
	uint8_t mtu[2] = {0x02, 0x40}; /* 576 */
	o_raw(26, mtu, 2);
	o_end();
	srv_send(SRV_IP, YI, last_xid(), YI);
	CHECK_EQ(dhcp_state(), DHCP_BOUND);
	CHECK(strstr(events, "renewed") != NULL);
	CHECK_EQ(netif.ip, YI);
	CHECK_EQ(netif.mask, 0xffff0000u);
	CHECK_EQ(netif.mtu, 576);
	uint32_t left;
	dhcp_lease(&left, NULL, NULL);
	CHECK(left >= 199 && left <= 200);
	/* dhcp renew by hand */
	h_reset_sent();
	CHECK_EQ(dhcp_renew(), 0);
	CHECK_EQ(dhcp_state(), DHCP_RENEWING);
	CHECK_EQ(last_type(), REQUEST);
	finish();
	CHECK_EQ(netif.mtu, CFG_MTU); /* restored with the address */
}

/* No answer: T1 renewing, T2 rebinding (broadcast), the end: the
 * address goes and DISCOVER starts over; the echo stops. */
static void test_rebind_expire(void)
{
	start();
	to_bound(YI, 100, 50, 88);
	learn_server();
	h_reset_sent();
	run(50000 - CHECK_MS + 2 * CFG_TICK_MS);
	CHECK_EQ(dhcp_state(), DHCP_RENEWING);
	CHECK_EQ(count_type(REQUEST), 1);
	run(37400); /* 60 s at least between renewal REQUESTs: none more */
	CHECK_EQ(count_type(REQUEST), 1);
	run(6 * CFG_TICK_MS);
	CHECK_EQ(dhcp_state(), DHCP_REBINDING);
	CHECK_EQ(count_type(REQUEST), 2);
	int i = last_msg();
	size_t len;
	const uint8_t *m = sent_msg(i, &len);
	CHECK_EQ(get32(h_sent_ip(i) + IP_DST), BCAST);
	CHECK_EQ(get32(h_sent_ip(i) + IP_SRC), YI);
	CHECK(m && get32(m + 12) == YI);
	CHECK(!last_has_opt(54));
	/* a rogue's NAK with another xid changes nothing */
	send_std(NAK, last_xid() + 1, 0, 0);
	CHECK_EQ(h_stat("dhcp", "drop_xid"), 1);
	CHECK_EQ(netif.ip, YI);
	h_reset_sent();
	run(12500);
	CHECK_EQ(netif.ip, 0);
	CHECK_EQ(h_stat("dhcp", "expired"), 1);
	CHECK(strstr(events, "expired") != NULL);
	run(2 * CFG_TICK_MS);
	CHECK_EQ(dhcp_state(), DHCP_SELECTING);
	CHECK_EQ(last_type(), DISCOVER);
	CHECK_EQ(last_opt32(50), YI); /* the old address, suggested */
	/* REBINDING takes any server's ACK */
	to_bound(YI, 100, 50, 88);
	learn_server();
	run(88000);
	CHECK_EQ(dhcp_state(), DHCP_REBINDING);
	o_std(ACK, SRV2_IP, 300);
	o_end();
	srv_send(SRV2_IP, YI, last_xid(), YI);
	CHECK_EQ(dhcp_state(), DHCP_BOUND);
	const struct dhcp_lease *l = dhcp_lease(NULL, NULL, NULL);
	CHECK(l && l->server == SRV2_IP);
	finish();
}

/* Wrong xid or MAC, a message type nobody waits for, a rogue after
 * BOUND, two servers offering: dropped, counted, nothing changes. */
static void test_hostile_servers(void)
{
	start();
	uint32_t xid = last_xid();
	send_std(OFFER, xid + 1, YI, 3600);
	CHECK_EQ(h_stat("dhcp", "drop_xid"), 1);
	o_std(OFFER, SRV_IP, 3600);
	o_end();
	size_t len = srv_frame(SRV_IP, BCAST, xid, YI);
	f[ETH_HLEN + IP_HLEN + UDP_HLEN + 28 + 5] ^= 1; /* another client's MAC */
	uint8_t *u = f + ETH_HLEN + IP_HLEN;
	put16(u + UDP_CSUM, 0);
	h_inject(f, len);
	CHECK_EQ(h_stat("dhcp", "drop_xid"), 2);
	send_std(ACK, xid, YI, 3600); /* an ACK while selecting */
	CHECK_EQ(h_stat("dhcp", "drop_state"), 1);
	/* no server id: malformed; an unusable address */
	o_reset(), o_u8(53, OFFER), o_u32(51, 60), o_end();
	srv_send(SRV_IP, BCAST, xid, YI);
	CHECK_EQ(h_stat("dhcp", "drop_malformed"), 1);
	o_std(OFFER, SRV_IP, 3600), o_end();
	srv_send(SRV_IP, BCAST, xid, 0xc0a844ffu); /* the /24's broadcast */
	srv_send(SRV_IP, BCAST, xid, 0x7f000001u);
	o_reset(), o_u8(53, OFFER), o_u32(54, SRV_IP), o_u32(1, 0xff00ff00u), o_end(); /* a mask with holes */
	srv_send(SRV_IP, BCAST, xid, YI);
	CHECK_EQ(h_stat("dhcp", "drop_unusable"), 3);
	/* from another source port */
	len = srv_frame(SRV_IP, BCAST, xid, YI);
	put16(u + UDP_SPORT, 6767);
	put16(u + UDP_CSUM, 0);
	h_inject(f, len);
	CHECK_EQ(h_stat("dhcp", "drop_malformed"), 2);
	CHECK_EQ(dhcp_state(), DHCP_SELECTING);
	/* two servers: the first offer is taken, the second ignored */
	h_reset_sent();
	o_std(OFFER, SRV2_IP, 3600);
	o_end();
	srv_send(SRV2_IP, BCAST, xid, YI2);
	send_std(OFFER, xid, YI, 3600);
	CHECK_EQ(h_stat("dhcp", "drop_state"), 2);
	CHECK_EQ(last_opt32(54), SRV2_IP);
	CHECK_EQ(last_opt32(50), YI2);
	send_std(ACK, xid, YI, 3600); /* the other server's ACK */
	CHECK_EQ(h_stat("dhcp", "drop_server"), 1);
	o_std(ACK, SRV2_IP, 3600);
	o_end();
	srv_send(SRV2_IP, BCAST, xid, YI); /* the right server, the wrong address */
	CHECK_EQ(h_stat("dhcp", "drop_unusable"), 4);
	o_std(ACK, SRV2_IP, 3600);
	o_end();
	srv_send(SRV2_IP, BCAST, xid, YI2);
	CHECK_EQ(dhcp_state(), DHCP_CHECKING);
	run(CHECK_MS);
	CHECK_EQ(netif.ip, YI2);
	/* after BOUND: rogue OFFER, ACK, NAK, with or without our xid */
	uint32_t st = h_stat("dhcp", "drop_state");
	static const uint8_t rogue[] = {OFFER, ACK, NAK, NAK};
	for (unsigned k = 0; k < sizeof rogue; k++) {
		o_std(rogue[k], SRV_IP, 3600);
		o_end();
		srv_send(SRV_IP, BCAST, k == 3 ? 42 : xid, YI);
	}
	o_std(ACK, SRV_IP, 3600);
	o_end();
	srv_send(SRV_IP, YI2, xid, YI2);
	CHECK_EQ(h_stat("dhcp", "drop_state"), st + 5);
	CHECK_EQ(dhcp_state(), DHCP_BOUND);
	CHECK_EQ(netif.ip, YI2);
	/* truncated and malformed, through the stack */
	uint32_t shorts = h_stat("dhcp", "drop_short"), bad = h_stat("dhcp", "drop_malformed");
	o_std(ACK, SRV_IP, 3600);
	o_end();
	len = srv_frame(SRV_IP, YI2, xid, YI2);
	for (size_t cut = 1; cut < 40; cut += 3) {
		size_t n = srv_frame(SRV_IP, YI2, xid, YI2);
		uint16_t ulen = (uint16_t)(UDP_HLEN + 240 + on - cut);
		put16(u + UDP_LEN, ulen);
		put16(f + ETH_HLEN + IP_LEN, (uint16_t)(IP_HLEN + ulen));
		put16(f + ETH_HLEN + IP_CSUM, 0);
		put16(f + ETH_HLEN + IP_CSUM, csum_finish(csum_add(0, f + ETH_HLEN, IP_HLEN)));
		put16(u + UDP_CSUM, 0);
		h_inject(f, n - cut);
	}
	len = srv_frame(SRV_IP, YI2, xid, YI2);
	put16(u + UDP_LEN, UDP_HLEN + 100);
	put16(f + ETH_HLEN + IP_LEN, IP_HLEN + UDP_HLEN + 100);
	put16(f + ETH_HLEN + IP_CSUM, 0);
	put16(f + ETH_HLEN + IP_CSUM, csum_finish(csum_add(0, f + ETH_HLEN, IP_HLEN)));
	put16(u + UDP_CSUM, 0);
	h_inject(f, ETH_HLEN + IP_HLEN + UDP_HLEN + 100);
	CHECK_EQ(h_stat("dhcp", "drop_short"), shorts + 2);
	CHECK_EQ(h_stat("dhcp", "drop_malformed"), bad + 12);
	CHECK_EQ(netif.ip, YI2);
	finish();
}

/* Overloaded options, a lease without a mask, a far router, an MTU. */
static void test_options(void)
{
	start();
	uint32_t xid = last_xid();
	send_std(OFFER, xid, YI, 3600);
	o_reset();
	o_u8(53, ACK);
	o_u8(52, 1);
	o_end();
	use_file = 1;
	uint8_t *p = file_field;
	*p++ = 54, *p++ = 4, put32(p, SRV_IP), p += 4;
	*p++ = 51, *p++ = 4, put32(p, DHCP_INFINITE), p += 4;
	*p++ = 3, *p++ = 4, put32(p, 0x0a000001), p += 4; /* not on our subnet */
	*p++ = 26, *p++ = 2, *p++ = 0x23, *p++ = 0x28;    /* 9000: above the NIC's */
	*p++ = 58, *p++ = 4, put32(p, 5), p += 4;         /* ignored: the lease is infinite */
	*p = 255;
	srv_send(SRV_IP, YI, xid, YI);
	CHECK_EQ(dhcp_state(), DHCP_CHECKING);
	run(CHECK_MS);
	CHECK_EQ(dhcp_state(), DHCP_BOUND);
	CHECK_EQ(netif.mask, 0xffffff00u); /* 192.168/16 is class C */
	CHECK_EQ(netif.gw, 0);
	CHECK_EQ(netif.mtu, CFG_MTU);
	uint32_t left, t1, t2;
	dhcp_lease(&left, &t1, &t2);
	CHECK_EQ(left, DHCP_INFINITE);
	CHECK_EQ(t1, DHCP_INFINITE);
	CHECK_EQ(t2, DHCP_INFINITE);
	h_reset_sent();
	run(100000);
	CHECK_EQ(dhcp_state(), DHCP_BOUND);
	CHECK_EQ(count_type(REQUEST), 0);
	finish();
	/* T1 and T2 that make no sense get RFC 2131's defaults */
	start();
	to_bound(YI, 1000, 900, 800);
	const struct dhcp_lease *l = dhcp_lease(NULL, NULL, NULL);
	CHECK(l && l->t1_s == 500 && l->t2_s == 800);
	finish();
}

/* The link comes back: INIT-REBOOT, the address asked for again and
 * probed; no answer: INIT. */
static void test_link(void)
{
	start();
	to_bound(YI, 3600, 0, 0);
	net_set_link(0);
	CHECK_EQ(netif.ip, YI); /* kept while down */
	h_reset_sent();
	net_set_link(1);
	CHECK_EQ(dhcp_state(), DHCP_REBOOTING);
	CHECK_EQ(netif.ip, 0);
	CHECK_EQ(count_arp(YI, YI), 0); /* not announced before it is confirmed */
	CHECK_EQ(last_type(), REQUEST);
	CHECK_EQ(last_opt32(50), YI);
	CHECK(!last_has_opt(54));
	size_t len;
	const uint8_t *m = sent_msg(last_msg(), &len);
	CHECK(m && get32(m + 12) == 0);
	CHECK_EQ(get32(h_sent_ip(last_msg()) + IP_SRC), 0);
	o_std(ACK, SRV2_IP, 3600); /* any server may answer */
	o_end();
	srv_send(SRV2_IP, YI, last_xid(), YI);
	CHECK_EQ(dhcp_state(), DHCP_CHECKING);
	run(CHECK_MS);
	CHECK_EQ(netif.ip, YI);
	/* again, and nobody answers */
	net_set_link(0);
	h_reset_sent();
	net_set_link(1);
	run(14500);
	CHECK_EQ(count_type(REQUEST), CFG_DHCP_REBOOT_TRIES);
	CHECK_EQ(dhcp_state(), DHCP_SELECTING);
	CHECK_EQ(last_type(), DISCOVER);
	CHECK_EQ(last_opt32(50), YI);
	/* down and up while selecting: DISCOVER at once */
	net_set_link(0);
	h_reset_sent();
	net_set_link(1);
	run(2 * CFG_TICK_MS);
	CHECK_EQ(count_type(DISCOVER), 1);
	finish();
}

/* Release: RELEASE unicast to the server from the address, then none;
 * renew starts again. */
static void test_release(void)
{
	start();
	to_bound(YI, 3600, 0, 0);
	learn_server();
	h_reset_sent();
	CHECK_EQ(dhcp_release(), 0);
	CHECK_EQ(netif.ip, 0);
	CHECK_EQ(dhcp_state(), DHCP_OFF);
	CHECK_EQ(last_type(), RELEASE);
	int i = last_msg();
	size_t len;
	const uint8_t *m = sent_msg(i, &len);
	CHECK(m && get32(m + 12) == YI);
	CHECK_EQ(get32(h_sent_ip(i) + IP_SRC), YI);
	CHECK_EQ(get32(h_sent_ip(i) + IP_DST), SRV_IP);
	CHECK_EQ(last_opt32(54), SRV_IP);
	CHECK(strstr(events, "released") != NULL);
	CHECK_EQ(dhcp_release(), -1);
	CHECK(dhcp_lease(NULL, NULL, NULL) == NULL);
	/* a stray reply to the stopped client */
	send_std(ACK, last_xid(), YI, 60);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 0);
	run(10000);
	CHECK_EQ(dhcp_state(), DHCP_OFF);
	h_reset_sent();
	CHECK_EQ(dhcp_renew(), 0);
	run(CFG_DHCP_START_WAIT_MS + CFG_TICK_MS);
	CHECK_EQ(last_type(), DISCOVER);
	CHECK_EQ(dhcp_renew(), -1); /* nothing to renew yet */
	finish();
}

/* A new address forgets the ARP cache: it may be another network. */
static void test_set_addr(void)
{
	h_init();
	h_learn_peer();
	uint32_t ip, age;
	uint8_t mac[6];
	int state, n = 0;
	for (unsigned i = 0; arp_entry_get(i, &ip, mac, &state, &age) == 0; i++)
		n += state != 0;
	CHECK_EQ(n, 1);
	net_set_addr(H_IP, 0xffffff00u, PEER_IP); /* the same address: kept */
	n = 0;
	for (unsigned i = 0; arp_entry_get(i, &ip, mac, &state, &age) == 0; i++)
		n += state != 0;
	CHECK_EQ(n, 1);
	net_set_addr(YI, 0xffffff00u, SRV_IP);
	n = 0;
	for (unsigned i = 0; arp_entry_get(i, &ip, mac, &state, &age) == 0; i++)
		n += state != 0;
	CHECK_EQ(n, 0);
	h_idle();
}

/* The entropy pool: seeds change what is drawn. */
static void test_entropy(void)
{
	uint32_t a = net_random(), b = net_random();
	CHECK(a != b);
	net_seed("x", 1);
	uint32_t c1 = net_random();
	net_seed("x", 1);
	uint32_t c2 = net_random();
	CHECK(c1 != c2 && c1 != a && c2 != b);
	net_seed(NULL, 0);
}

static void test_bootargs(void)
{
	struct bootcfg c;
	bootcfg_defaults(&c);
	CHECK_EQ(c.dhcp, CFG_IP_DHCP);
	CHECK_EQ(bootargs_parse("ip=dhcp hostname=board-7.lab", &c, NULL), 0);
	CHECK_EQ(c.dhcp, 1);
	CHECK(!strcmp(c.hostname, "board-7.lab"));
	CHECK_EQ(bootargs_parse("ip=10.1.2.3/24", &c, NULL), 0);
	CHECK_EQ(c.dhcp, 0);
	CHECK_EQ(bootargs_parse("ip=dhcp", &c, NULL), 0);
	CHECK_EQ(c.dhcp, 1);
	static const char *bad[] = {"hostname=", "hostname=-a", "hostname=a-", "hostname=a_b",
				    "hostname=a!b", "hostname=.a", "ip=dhcpx", "ip=DHCP",
				    "hostname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		bootcfg_defaults(&c);
		CHECK_EQ(bootargs_parse(bad[k], &c, NULL), 1);
		CHECK_EQ(c.hostname[0], 0);
		CHECK_EQ(c.dhcp, CFG_IP_DHCP);
	}
}

int main(void)
{
	TEST(test_parse_good);
	TEST(test_parse_overload);
	TEST(test_parse_bad);
	TEST(test_parse_truncations);
	TEST(test_lease);
	TEST(test_unconfigured_ip);
	TEST(test_backoff);
	TEST(test_request_timeout);
	TEST(test_nak);
	TEST(test_conflict);
	TEST(test_renew);
	TEST(test_rebind_expire);
	TEST(test_hostile_servers);
	TEST(test_options);
	TEST(test_link);
	TEST(test_release);
	TEST(test_set_addr);
	TEST(test_entropy);
	TEST(test_bootargs);
	DONE("dhcp");
}
