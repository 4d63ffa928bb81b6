/*
 * DHCPv4 client (RFC 2131, options RFC 2132) with RFC 5227's probe of an
 * address before it is used. One client for the one interface, in
 * static state; each message is built in a pool buffer and sent with
 * the UDP API from a PCB bound to port 68. The timers run from net_tick
 * on a 64-bit millisecond clock of their own, so leases of any length
 * (up to infinite) need no wrap-around arithmetic.
 *
 * Where the RFCs leave a choice:
 *  - the first acceptable OFFER is taken, without a window to collect
 *    others: servers of one LAN normally offer the same parameters, and
 *    waiting would only delay the lease;
 *  - retransmission (RFC 2131 4.1): 4, 8, 16, 32, then 64 s, each
 *    randomized by -1..+1 s; DISCOVERs go on for ever, REQUESTs for an
 *    offer give up after CFG_DHCP_REQUEST_TRIES, INIT-REBOOT after
 *    CFG_DHCP_REBOOT_TRIES (the old address is then given up too);
 *  - renewal REQUESTs: half the time left until T2 (REBINDING: until the
 *    end), at least CFG_DHCP_RENEW_MIN_S apart (RFC 2131 4.4.5);
 *  - an address from REQUESTING or INIT-REBOOT is probed before use, a
 *    renewed one is not (it is in use by us already);
 *  - a NAK restarts at once the first time and with the backoff after
 *    that, so a server that refuses everything draws no storm.
 */
#include "net.h"
#include "dhcp.h"
#include "udp.h"

/* The fixed part of a message (RFC 2131 2) */
#define BOOTP_OP 0
#define BOOTP_HTYPE 1
#define BOOTP_HLEN 2
#define BOOTP_XID 4
#define BOOTP_SECS 8
#define BOOTP_CIADDR 12
#define BOOTP_YIADDR 16
#define BOOTP_CHADDR 28
#define BOOTP_SNAME 44
#define BOOTP_FILE 108
#define BOOTP_COOKIE 236
#define BOOTP_OPTIONS 240
#define BOOTP_SNAME_LEN 64
#define BOOTP_FILE_LEN 128
#define BOOTP_MIN_LEN 300 /* RFC 1542 2.1: some relays drop shorter messages */
#define BOOTREQUEST 1
#define BOOTREPLY 2
#define DHCP_COOKIE 0x63825363u

enum { /* option codes (RFC 2132) */
	OPT_PAD = 0, OPT_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_HOSTNAME = 12, OPT_MTU = 26,
	OPT_BCAST = 28, OPT_NTP = 42, OPT_REQ_IP = 50, OPT_LEASE = 51, OPT_OVERLOAD = 52,
	OPT_TYPE = 53, OPT_SERVER = 54, OPT_PRL = 55, OPT_MAX_SIZE = 57, OPT_T1 = 58, OPT_T2 = 59,
	OPT_CLIENT_ID = 61, OPT_END = 255,
};

enum { DISCOVER = 1, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE }; /* option 53 */

#define NEVER UINT64_MAX
#define LIMITED_BCAST 0xffffffffu

static struct {
	uint8_t state;     /* enum dhcp_state */
	uint8_t tries;     /* messages sent in this state */
	uint8_t probes;    /* CHECKING: probes sent; BOUND: announcements to go */
	uint8_t naks;      /* NAKs since the last lease: the restart's backoff */
	uint8_t conflicts; /* since the last lease (RFC 5227 MAX_CONFLICTS) */
	uint16_t base_mtu; /* the interface's own, restored with the address */
	uint32_t xid;
	uint32_t last;     /* net_clock when now was last brought forward */
	uint64_t now;      /* ms since dhcp_init */
	uint64_t due;      /* next retransmission, probe or announcement */
	uint64_t began;    /* start of this exchange: the secs field */
	uint64_t sent;     /* the last REQUEST: a lease runs from there */
	uint64_t t1_at, t2_at, end_at;
	uint32_t offer_ip, offer_server; /* REQUESTING: what we asked for, and whom */
	struct dhcp_lease lease;         /* CHECKING to REBOOTING: the lease */
	struct udp_pcb *pcb;
} c;
static char hostname[CFG_DHCP_HOSTNAME_MAX + 1];
static void (*hook)(const char *event);

/* ---- parsing ---- */

/* Addresses (options 3, 6, 42): whole ones only, kept up to max; the
 * same option again continues the list (RFC 3396). */
static int opt_addrs(const uint8_t *v, uint8_t len, uint32_t *out, uint8_t *n, unsigned max)
{
	if (len == 0 || len % 4)
		return -1;
	for (unsigned i = 0; i < len; i += 4)
		if (*n < max)
			out[(*n)++] = get32(v + i);
	return 0;
}

/* One option: its length checked against its code, its value kept.
 * top: in the options field itself (only there may 52 stand). */
static int opt_one(uint8_t code, const uint8_t *v, uint8_t len, struct dhcp_msg *m, int top)
{
	struct dhcp_lease *l = &m->l;
	uint32_t *word;
	uint16_t bit;
	uint8_t one;
	switch (code) {
	case OPT_MASK: word = &l->mask, bit = DHCP_HAS_MASK; break;
	case OPT_BCAST: word = &l->bcast, bit = DHCP_HAS_BCAST; break;
	case OPT_SERVER: word = &l->server, bit = DHCP_HAS_SERVER; break;
	case OPT_LEASE: word = &l->lease_s, bit = DHCP_HAS_LEASE; break;
	case OPT_T1: word = &l->t1_s, bit = DHCP_HAS_T1; break;
	case OPT_T2: word = &l->t2_s, bit = DHCP_HAS_T2; break;
	case OPT_ROUTER: /* the first router is ours */
		one = !!(m->has & DHCP_HAS_ROUTER);
		m->has |= DHCP_HAS_ROUTER;
		return opt_addrs(v, len, &l->gw, &one, 1);
	case OPT_DNS: return opt_addrs(v, len, l->dns, &l->ndns, CFG_DHCP_DNS_MAX);
	case OPT_NTP: return opt_addrs(v, len, l->ntp, &l->nntp, CFG_DHCP_NTP_MAX);
	case OPT_MTU:
		if (len != 2 || get16(v) < 68 || (m->has & DHCP_HAS_MTU))
			return -1; /* RFC 2132 5.1: 68 at least */
		l->mtu = get16(v);
		m->has |= DHCP_HAS_MTU;
		return 0;
	case OPT_TYPE:
		if (len != 1 || (m->has & DHCP_HAS_TYPE))
			return -1;
		m->type = v[0];
		m->has |= DHCP_HAS_TYPE;
		return 0;
	case OPT_OVERLOAD:
		if (!top)
			return 0; /* RFC 2131 4.1: it belongs in the options field */
		if (len != 1 || v[0] < 1 || v[0] > 3 || (m->has & DHCP_HAS_OVERLOAD))
			return -1;
		m->overload = v[0];
		m->has |= DHCP_HAS_OVERLOAD;
		return 0;
	default:
		return 0; /* unknown, or of no use to us: skipped */
	}
	/* a 32-bit value, once: a second copy would concatenate (RFC 3396)
	 * to a wrong length */
	if (len != 4 || (m->has & bit))
		return -1;
	*word = get32(v);
	m->has |= bit;
	return 0;
}

/* One field of options, which must end with the end option (RFC 2131
 * 4.1): a message cut short between two options is caught too. */
static int opt_field(const uint8_t *a, size_t n, struct dhcp_msg *m, int top)
{
	size_t i = 0;
	while (i < n) {
		uint8_t code = a[i++];
		if (code == OPT_END)
			return 0;
		if (code == OPT_PAD)
			continue;
		if (i >= n || a[i] > n - i - 1)
			return -1; /* no length, or a value past the field */
		uint8_t len = a[i++];
		if (opt_one(code, a + i, len, m, top))
			return -1;
		i += len;
	}
	return -1;
}

int dhcp_parse(const uint8_t *b, size_t len, struct dhcp_msg *m)
{
	*m = (struct dhcp_msg){0};
	if (len < BOOTP_OPTIONS)
		return DHCP_E_SHORT;
	if (b[BOOTP_OP] != BOOTREPLY || b[BOOTP_HTYPE] != 1 || b[BOOTP_HLEN] != 6 ||
	    get32(b + BOOTP_COOKIE) != DHCP_COOKIE)
		return DHCP_E_MALFORMED;
	m->xid = get32(b + BOOTP_XID);
	m->yiaddr = m->l.ip = get32(b + BOOTP_YIADDR);
	memcpy(m->chaddr, b + BOOTP_CHADDR, 6);
	/* RFC 2131 4.1: the options field, then file, then sname */
	if (opt_field(b + BOOTP_OPTIONS, len - BOOTP_OPTIONS, m, 1) ||
	    ((m->overload & 1) && opt_field(b + BOOTP_FILE, BOOTP_FILE_LEN, m, 0)) ||
	    ((m->overload & 2) && opt_field(b + BOOTP_SNAME, BOOTP_SNAME_LEN, m, 0)) ||
	    !(m->has & DHCP_HAS_TYPE))
		return DHCP_E_MALFORMED;
	return 0;
}

/* ---- time, chance, events ---- */

static void clock_now(void)
{
	c.now += (uint32_t)(net_clock - c.last);
	c.last = net_clock;
}

static uint32_t rand_upto(uint32_t n) /* 0..n */
{
	return net_random() % (n + 1);
}

/* RFC 2131 4.1: 4 s before the first retransmission, doubling up to
 * 64 s, each randomized by -1..+1 s. sent: messages sent so far. */
static uint32_t backoff_ms(unsigned sent)
{
	unsigned shift = sent > 5 ? 4 : sent - 1;
	return (4000u << shift) - 1000 + rand_upto(2000);
}

static uint32_t secs_until(uint64_t at)
{
	if (at == NEVER)
		return DHCP_INFINITE;
	return at > c.now ? (uint32_t)((at - c.now + 999) / 1000) : 0;
}

static void tell(const char *what)
{
	if (hook)
		hook(what);
}

static void set_state(uint8_t s)
{
	c.state = s;
	c.tries = 0;
}

/* A new exchange: a new transaction id, and its own secs count. */
static void begin(uint8_t s)
{
	set_state(s);
	c.xid = net_random();
	c.began = c.now;
}

/* ---- messages ---- */

/* The fixed part, the type and the client identifier (RFC 2132 9.14:
 * hardware type 1 and our MAC); the caller adds the rest. */
static uint8_t *msg_begin(struct pkt *p, uint8_t type, uint32_t ciaddr)
{
	uint8_t *m = p->data, *o = m + BOOTP_OPTIONS;
	uint64_t secs = (c.now - c.began) / 1000;
	memset(m, 0, BOOTP_MIN_LEN);
	m[BOOTP_OP] = BOOTREQUEST;
	m[BOOTP_HTYPE] = 1;
	m[BOOTP_HLEN] = 6;
	put32(m + BOOTP_XID, c.xid);
	put16(m + BOOTP_SECS, secs > 0xffff ? 0xffff : (uint16_t)secs);
	put32(m + BOOTP_CIADDR, ciaddr);
	memcpy(m + BOOTP_CHADDR, netif.mac, 6);
	put32(m + BOOTP_COOKIE, DHCP_COOKIE);
	*o++ = OPT_TYPE, *o++ = 1, *o++ = type;
	*o++ = OPT_CLIENT_ID, *o++ = 7, *o++ = 1;
	memcpy(o, netif.mac, 6);
	return o + 6;
}

static uint8_t *opt_addr(uint8_t *o, uint8_t code, uint32_t a)
{
	o[0] = code;
	o[1] = 4;
	put32(o + 2, a);
	return o + 6;
}

/* What DISCOVER and REQUEST ask for, and say about us. */
static uint8_t *opt_params(uint8_t *o)
{
	static const uint8_t prl[] = {OPT_MASK, OPT_ROUTER, OPT_DNS,  OPT_MTU, OPT_BCAST,
				      OPT_NTP,  OPT_LEASE,  OPT_T1,   OPT_T2};
	size_t n = strlen(hostname);
	*o++ = OPT_PRL, *o++ = sizeof prl;
	memcpy(o, prl, sizeof prl);
	o += sizeof prl;
	if (c.base_mtu >= 576) { /* RFC 2132 9.10: no smaller value is legal */
		*o++ = OPT_MAX_SIZE, *o++ = 2;
		put16(o, c.base_mtu);
		o += 2;
	}
	if (n) {
		*o++ = OPT_HOSTNAME, *o++ = (uint8_t)n;
		memcpy(o, hostname, n);
		o += n;
	}
	return o;
}

/* The end option, padding to the BOOTP minimum, and off it goes. */
static void msg_send(struct pkt *p, uint8_t *end, uint32_t dst)
{
	*end++ = OPT_END;
	size_t len = (size_t)(end - p->data);
	p->len = (uint16_t)(len < BOOTP_MIN_LEN ? BOOTP_MIN_LEN : len);
	if (udp_sendto(c.pcb, p, dst, DHCP_SERVER_PORT) != NET_OK)
		STAT(dhcp, tx_err);
}

static struct pkt *msg_alloc(void)
{
	struct pkt *p = pkt_alloc(PKT_APP);
	if (!p)
		STAT(dhcp, tx_err); /* the retransmission timer tries again */
	return p;
}

/* RFC 2131 4.4.1: a DISCOVER may suggest the address we had. */
static void send_discover(void)
{
	struct pkt *p = msg_alloc();
	if (!p)
		return;
	uint8_t *o = msg_begin(p, DISCOVER, 0);
	if (c.lease.ip)
		o = opt_addr(o, OPT_REQ_IP, c.lease.ip);
	STAT(dhcp, tx_discover);
	msg_send(p, opt_params(o), LIMITED_BCAST);
}

/* A REQUEST in its forms (RFC 2131 4.3.2): after an OFFER it names the
 * address and the server; INIT-REBOOT names the address; RENEWING
 * (unicast to the server) and REBINDING put it in ciaddr. */
static void send_request(void)
{
	struct pkt *p = msg_alloc();
	if (!p)
		return;
	int renewing = c.state == DHCP_RENEWING || c.state == DHCP_REBINDING;
	uint8_t *o = msg_begin(p, REQUEST, renewing ? netif.ip : 0);
	if (c.state == DHCP_REQUESTING) {
		o = opt_addr(o, OPT_REQ_IP, c.offer_ip);
		o = opt_addr(o, OPT_SERVER, c.offer_server);
	} else if (c.state == DHCP_REBOOTING) {
		o = opt_addr(o, OPT_REQ_IP, c.lease.ip);
	}
	c.sent = c.now;
	STAT(dhcp, tx_request);
	msg_send(p, opt_params(o), c.state == DHCP_RENEWING ? c.lease.server : LIMITED_BCAST);
}

/* The address of the ACK is taken (RFC 2131 3.1.5), or the lease is
 * given back (4.4.6: unicast, from the address). A RELEASE that has to
 * wait for ARP is dropped with the address: the lease then just runs
 * out at the server, as the RFC allows (the client "MAY" release). */
static void send_goodbye(uint8_t type)
{
	struct pkt *p = msg_alloc();
	if (!p)
		return;
	c.xid = net_random();
	uint8_t *o = msg_begin(p, type, type == RELEASE ? netif.ip : 0);
	if (type == DECLINE)
		o = opt_addr(o, OPT_REQ_IP, c.lease.ip);
	o = opt_addr(o, OPT_SERVER, c.lease.server);
	if (type == DECLINE)
		STAT(dhcp, tx_decline);
	else
		STAT(dhcp, tx_release);
	msg_send(p, o, type == RELEASE ? c.lease.server : LIMITED_BCAST);
}

/* ---- the state machine ---- */

/* Wait before the next message: the backoff, or for a renewal half the
 * time left (RFC 2131 4.4.5). */
static uint64_t retry_ms(void)
{
	uint64_t until;
	if (c.state == DHCP_RENEWING)
		until = c.t2_at;
	else if (c.state == DHCP_REBINDING)
		until = c.end_at;
	else
		return backoff_ms(c.tries);
	uint64_t half = (until > c.now ? until - c.now : 0) / 2;
	return half > CFG_DHCP_RENEW_MIN_S * 1000ull ? half : CFG_DHCP_RENEW_MIN_S * 1000ull;
}

/* This state's message, and when to send it again. */
static void transmit(void)
{
	if (c.state == DHCP_SELECTING)
		send_discover();
	else
		send_request();
	if (c.tries < 255)
		c.tries++;
	c.due = c.now + retry_ms();
}

/* The address goes (lease over, NAK, link change, release). PCBs bound
 * to the wildcard address stay, and speak from the next one. */
static void drop_address(void)
{
	arp_watch(0);
	net_set_addr(0, 0, 0);
	netif.mtu = c.base_mtu;
}

/* INIT: no address; a DISCOVER after delay ms. */
static void restart(uint32_t delay)
{
	drop_address();
	set_state(DHCP_INIT);
	c.due = c.now + delay;
}

/* RFC 5227 2.1.1: watched from now; PROBE_NUM probes after a random
 * PROBE_WAIT. The address is not ours yet: netif.ip stays 0. */
static void check(void)
{
	set_state(DHCP_CHECKING);
	c.probes = 0;
	arp_watch(c.lease.ip);
	c.due = c.now + rand_upto(CFG_ACD_PROBE_WAIT_MS);
}

/* RFC 5227 2.3: ANNOUNCE_NUM announcements, ANNOUNCE_INTERVAL apart. */
static void announce_step(void)
{
	if (!c.probes) {
		c.due = NEVER;
		return;
	}
	arp_announce();
	c.probes--;
	c.due = c.now + CFG_ACD_ANNOUNCE_INTERVAL_MS;
}

/* The parameters go to the interface; the MTU within the NIC's. */
static void configure(void)
{
	const struct dhcp_lease *l = &c.lease;
	net_set_addr(l->ip, l->mask, l->gw);
	netif.mtu = l->mtu && l->mtu < c.base_mtu ? l->mtu : c.base_mtu;
}

static void bind_lease(void)
{
	arp_watch(0);
	configure();
	set_state(DHCP_BOUND);
	c.naks = c.conflicts = 0;
	c.probes = CFG_ACD_ANNOUNCE_NUM;
	announce_step();
	tell("bound");
}

/* RFC 5227 2.1.1: probes PROBE_MIN..PROBE_MAX apart, then ANNOUNCE_WAIT
 * of quiet, then the address is ours. */
static void probe_step(void)
{
	if (c.probes >= CFG_ACD_PROBE_NUM) {
		bind_lease();
		return;
	}
	arp_probe(c.lease.ip);
	c.probes++;
	c.due = c.now + (c.probes < CFG_ACD_PROBE_NUM
				 ? CFG_ACD_PROBE_MIN_MS + rand_upto(CFG_ACD_PROBE_MAX_MS - CFG_ACD_PROBE_MIN_MS)
				 : CFG_ACD_ANNOUNCE_WAIT_MS);
}

/* Someone has the address: DECLINE, and try again no sooner than RFC
 * 2131 3.1.5 says (RFC 5227 2.1.1: much later after many conflicts). */
static void conflict(void)
{
	STAT(dhcp, conflict);
	send_goodbye(DECLINE);
	if (c.conflicts < 255)
		c.conflicts++;
	uint32_t wait = CFG_DHCP_DECLINE_WAIT_MS;
	if (c.conflicts >= CFG_ACD_MAX_CONFLICTS && CFG_ACD_RATE_LIMIT_MS > wait)
		wait = CFG_ACD_RATE_LIMIT_MS;
	c.lease.ip = 0; /* not to be suggested again */
	restart(wait);
	tell("conflict");
}

/* T1, T2 and the end of the lease held. Nonzero if the state changed. */
static int lease_timers(void)
{
	if (c.state < DHCP_BOUND || c.state > DHCP_REBINDING)
		return 0;
	if (c.now >= c.end_at) {
		STAT(dhcp, expired);
		restart(0);
		tell("expired");
		return 1;
	}
	if (c.state != DHCP_REBINDING && c.now >= c.t2_at) {
		set_state(DHCP_REBINDING);
		transmit();
		return 1;
	}
	if (c.state == DHCP_BOUND && c.now >= c.t1_at) {
		begin(DHCP_RENEWING);
		transmit();
		return 1;
	}
	return 0;
}

void dhcp_tick(uint32_t now)
{
	(void)now; /* net_clock, read by clock_now */
	if (c.state == DHCP_OFF)
		return;
	clock_now();
	if (lease_timers())
		return;
	if (c.state == DHCP_CHECKING && arp_conflict()) {
		conflict();
		return;
	}
	if (c.now < c.due)
		return;
	switch (c.state) {
	case DHCP_INIT:
		begin(DHCP_SELECTING);
		transmit();
		break;
	case DHCP_REQUESTING:
	case DHCP_REBOOTING:
		if (c.tries >= (c.state == DHCP_REQUESTING ? CFG_DHCP_REQUEST_TRIES : CFG_DHCP_REBOOT_TRIES))
			restart(0);
		else
			transmit();
		break;
	case DHCP_CHECKING:
		probe_step();
		break;
	case DHCP_BOUND:
		announce_step();
		break;
	default: /* SELECTING, RENEWING, REBINDING: again */
		transmit();
		break;
	}
}

/* ---- what servers send ---- */

/* The address class's own mask: what a lease without option 1 means. */
static uint32_t natural_mask(uint32_t a)
{
	return a < 0x80000000u ? 0xff000000u : a < 0xc0000000u ? 0xffff0000u : 0xffffff00u;
}

/* The lease as the stack will use it: a mask (contiguous, with room for
 * two hosts, ours neither the network's nor the broadcast address), a
 * router on our subnet or none. -1 if the address cannot be ours. */
static int lease_usable(struct dhcp_lease *l, uint16_t has)
{
	uint32_t a = l->ip;
	if (!(has & DHCP_HAS_MASK))
		l->mask = natural_mask(a);
	uint32_t host = ~l->mask;
	if (!ip_is_host(a) || !l->mask || !host || (host & (host + 1)) ||
	    (host > 1 && ((a & host) == 0 || (a & host) == host)))
		return -1;
	if (l->gw && (!ip_is_host(l->gw) || l->gw == a || ((l->gw ^ a) & l->mask)))
		l->gw = 0;
	return 0;
}

/* T1 and T2 as granted if they make sense, else RFC 2131 4.4.5's 1/2
 * and 7/8 of the lease: T1 <= T2 <= lease, and never for an infinite
 * one. The clock starts at the REQUEST. */
static void lease_times(struct dhcp_lease *l, uint16_t has)
{
	if (l->lease_s == DHCP_INFINITE) {
		l->t1_s = l->t2_s = DHCP_INFINITE;
	} else {
		if (!(has & DHCP_HAS_T2) || l->t2_s > l->lease_s)
			l->t2_s = (uint32_t)((uint64_t)l->lease_s * 7 / 8);
		if (!(has & DHCP_HAS_T1) || l->t1_s > l->t2_s)
			l->t1_s = l->lease_s / 2 < l->t2_s ? l->lease_s / 2 : l->t2_s;
	}
	c.t1_at = l->t1_s == DHCP_INFINITE ? NEVER : c.sent + l->t1_s * 1000ull;
	c.t2_at = l->t2_s == DHCP_INFINITE ? NEVER : c.sent + l->t2_s * 1000ull;
	c.end_at = l->lease_s == DHCP_INFINITE ? NEVER : c.sent + l->lease_s * 1000ull;
}

static void take_offer(const struct dhcp_msg *m)
{
	struct dhcp_lease l = m->l;
	if (lease_usable(&l, m->has)) {
		STAT(dhcp, drop_unusable);
		return;
	}
	STAT(dhcp, offer);
	c.offer_ip = m->yiaddr;
	c.offer_server = m->l.server;
	set_state(DHCP_REQUESTING); /* the same xid, as RFC 2131 4.4.1 has it */
	transmit();
}

/* A new address is checked first; a renewed one takes the new times
 * and parameters at once. */
static void take_ack(const struct dhcp_msg *m)
{
	struct dhcp_lease l = m->l;
	uint32_t want = c.state == DHCP_REQUESTING ? c.offer_ip : c.lease.ip;
	if (!(m->has & DHCP_HAS_LEASE)) {
		STAT(dhcp, drop_malformed); /* RFC 2131 table 3: it must be there */
		return;
	}
	if (m->yiaddr != want || lease_usable(&l, m->has)) {
		STAT(dhcp, drop_unusable);
		return;
	}
	STAT(dhcp, ack);
	lease_times(&l, m->has);
	c.lease = l;
	if (c.state == DHCP_RENEWING || c.state == DHCP_REBINDING) {
		configure();
		set_state(DHCP_BOUND);
		c.due = NEVER;
		tell("renewed");
		return;
	}
	check();
}

static void take_nak(void)
{
	STAT(dhcp, nak);
	if (c.naks < 255)
		c.naks++;
	c.lease = (struct dhcp_lease){0}; /* refused: not to be suggested again */
	restart(c.naks == 1 ? 0 : backoff_ms(c.naks - 1));
	tell("nak");
}

/* Who may answer: the server we chose or renew with; in REBINDING and
 * INIT-REBOOT any server (we asked them all). */
static int server_ok(const struct dhcp_msg *m)
{
	uint32_t want = c.state == DHCP_REQUESTING ? c.offer_server
			: c.state == DHCP_RENEWING ? c.lease.server : 0;
	return want ? m->l.server == want : ip_is_unicast(m->l.server);
}

static void input(const struct dhcp_msg *m)
{
	uint8_t s = c.state;
	int asking = s == DHCP_REQUESTING || s == DHCP_RENEWING || s == DHCP_REBINDING ||
		     s == DHCP_REBOOTING;
	if (m->type == OFFER ? s != DHCP_SELECTING : !((m->type == ACK || m->type == NAK) && asking)) {
		STAT(dhcp, drop_state);
		return;
	}
	if (m->xid != c.xid || memcmp(m->chaddr, netif.mac, 6)) {
		STAT(dhcp, drop_xid);
		return;
	}
	if (!(m->has & DHCP_HAS_SERVER)) {
		STAT(dhcp, drop_malformed); /* RFC 2131 table 3: OFFER, ACK, NAK carry it */
		return;
	}
	if (!server_ok(m)) {
		STAT(dhcp, drop_server);
		return;
	}
	if (m->type == OFFER)
		take_offer(m);
	else if (m->type == ACK)
		take_ack(m);
	else
		take_nak();
}

static void dhcp_recv(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	struct dhcp_msg m;
	uint16_t sport = udp_src_port(p);
	(void)pcb, (void)arg;
	STAT(dhcp, rx);
	int err = dhcp_parse(p->data, p->len, &m);
	pkt_free(p);
	clock_now();
	if (err == DHCP_E_SHORT)
		STAT(dhcp, drop_short);
	else if (err || sport != DHCP_SERVER_PORT)
		STAT(dhcp, drop_malformed);
	else
		input(&m);
}

/* ---- the interface for the stack and the application ---- */

void dhcp_init(void)
{
	memset(&c, 0, sizeof c); /* DHCP_OFF; udp_init has freed the PCB */
	c.last = net_clock;
}

/* After a link change the lease may belong to another network: ask for
 * it again (INIT-REBOOT, RFC 2131 3.2) before using it. An exchange in
 * progress starts over at once instead of waiting out its backoff. */
void dhcp_link(int up)
{
	if (c.state == DHCP_OFF || !up)
		return;
	clock_now();
	if (c.state < DHCP_BOUND) {
		restart(0);
		return;
	}
	drop_address();
	begin(DHCP_REBOOTING);
	transmit();
	tell("rebooting");
}

int dhcp_start(void)
{
	if (!c.pcb) {
		struct udp_pcb *pcb = udp_new();
		if (!pcb)
			return NET_ERR_MEM;
		int err = udp_bind(pcb, 0, DHCP_CLIENT_PORT);
		if (err) {
			udp_remove(pcb);
			return err;
		}
		udp_recv(pcb, dhcp_recv, NULL);
		udp_set_broadcast(pcb, 1); /* DISCOVER, REQUEST while rebinding */
		c.pcb = pcb;
	}
	clock_now();
	if (c.state == DHCP_OFF)
		c.base_mtu = netif.mtu;
	restart(rand_upto(CFG_DHCP_START_WAIT_MS));
	return 0;
}

int dhcp_renew(void)
{
	clock_now();
	switch (c.state) {
	case DHCP_OFF:
		return dhcp_start();
	case DHCP_BOUND:
		begin(DHCP_RENEWING);
		transmit();
		return 0;
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		transmit();
		return 0;
	default:
		return -1;
	}
}

int dhcp_release(void)
{
	int held = c.state >= DHCP_BOUND && c.state <= DHCP_REBINDING;
	if (c.state == DHCP_OFF)
		return -1;
	clock_now();
	if (held)
		send_goodbye(RELEASE);
	drop_address();
	set_state(DHCP_OFF);
	c.lease = (struct dhcp_lease){0};
	if (held)
		tell("released");
	return held ? 0 : -1;
}

void dhcp_set_hostname(const char *name)
{
	size_t n = 0;
	for (; name && name[n] && n < CFG_DHCP_HOSTNAME_MAX; n++)
		hostname[n] = name[n];
	hostname[n] = 0;
}

void dhcp_set_hook(void (*fn)(const char *event))
{
	hook = fn;
}

enum dhcp_state dhcp_state(void)
{
	return (enum dhcp_state)c.state;
}

const char *dhcp_state_name(enum dhcp_state s)
{
	static const char *const names[] = {"off",   "init",     "selecting", "requesting", "checking",
					    "bound", "renewing", "rebinding", "rebooting"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const struct dhcp_lease *dhcp_lease(uint32_t *left, uint32_t *t1, uint32_t *t2)
{
	if (c.state < DHCP_CHECKING)
		return NULL;
	clock_now();
	if (left)
		*left = secs_until(c.end_at);
	if (t1)
		*t1 = secs_until(c.t1_at);
	if (t2)
		*t2 = secs_until(c.t2_at);
	return &c.lease;
}
