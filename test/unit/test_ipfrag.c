/*
 * IPv4 reassembly and output fragmentation (net/ipfrag.c).
 *
 * The reassembly tests hand fragments to ip_reass the way ip_input does
 * (data at a validated IP header, ip rx counted before, ip delivered for a
 * returned datagram), so every order and corner case can be driven one
 * fragment at a time. The fragmentation tests feed what comes out on the
 * wire back into reassembly. The stack tests at the end send fragmented
 * pings and UDP datagrams through net_input.
 */
#include <stdlib.h>
#include "harness.h"
#include "../../app/echo.h"

#define TMO CFG_REASS_TIMEOUT_MS
#define MAXFR 64

/* The largest IP payload (behind a 20-byte header): IPv4's limit */
#define DMAX (65535 - IP_HLEN)
static uint8_t pat[65535 + 2048]; /* room for fragments beyond the limit */
static uint8_t flat[65536];       /* a chain's bytes, laid end to end */

static void pat_fill(uint32_t seed)
{
	for (unsigned i = 0; i < sizeof pat; i++) {
		seed = seed * 1103515245u + 12345u;
		pat[i] = (uint8_t)(seed >> 16);
	}
}

static uint32_t rng = 1;
static unsigned rnd(unsigned n)
{
	rng = rng * 1664525u + 1013904223u;
	return (rng >> 8) % n;
}

/* Peer's MAC into the ARP cache (an ARP request for us), so replies and
 * ICMP errors leave at once instead of waiting on a resolution. */
static void prime_arp(void)
{
	uint8_t f[ETH_MIN_FRAME] = {0};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	size_t o = h_eth(f, bcast, PEER_MAC, ETHTYPE_ARP);
	uint8_t *a = f + o;
	put16(a + ARP_HTYPE, 1);
	put16(a + ARP_PTYPE, ETHTYPE_IP);
	a[ARP_HLEN] = 6;
	a[ARP_PLEN] = 4;
	put16(a + ARP_OPER, ARP_OP_REQUEST);
	memcpy(a + ARP_SHA, PEER_MAC, 6);
	put32(a + ARP_SPA, PEER_IP);
	put32(a + ARP_TPA, H_IP);
	h_inject(f, sizeof f);
}

static void setup(void)
{
	h_init();
	prime_arp();
	h_reset_sent();
	pat_fill(7);
}

static void advance(uint32_t ms)
{
	h_advance(ms);
	prime_arp();
}

/* ---- fragments as ip_input hands them over ---- */

struct frag {
	uint32_t src, dst;
	uint8_t proto;
	uint16_t id;
	unsigned off, n;
	int mf;
	const uint8_t *data;     /* n bytes; default pat + off */
	const uint8_t *opt;      /* IP options, olen bytes (a 4-multiple) */
	unsigned olen;
	uint8_t flags;           /* pkt flags as ip_input leaves them */
};

static struct pkt *mkfrag(const struct frag *f)
{
	struct pkt *p = pkt_alloc(PKT_STACK);
	if (!p)
		return NULL;
	unsigned hl = IP_HLEN + f->olen;
	CHECK(CFG_PKT_LINK_OFF + ETH_HLEN + hl + f->n <= CFG_PKT_BUFSZ);
	pkt_reset_link(p);
	p->data += ETH_HLEN;
	p->l3 = (uint16_t)(p->data - p->head);
	uint8_t *h = p->data;
	h_ip(h, f->src ? f->src : PEER_IP, f->dst ? f->dst : H_IP, f->proto ? f->proto : IPPROTO_UDP,
	     (uint16_t)(hl + f->n), f->id, (uint16_t)(f->off / 8 | (f->mf ? IP_MF : 0)));
	if (f->olen) {
		h[IP_VHL] = (uint8_t)(0x40 | hl / 4);
		memcpy(h + IP_HLEN, f->opt, f->olen);
		put16(h + IP_CSUM, 0);
		put16(h + IP_CSUM, csum_finish(csum_add(0, h, hl)));
	}
	memcpy(h + hl, f->data ? f->data : pat + f->off, f->n);
	p->len = (uint16_t)(hl + f->n);
	p->flags = f->flags;
	return p;
}

/* Reassemble with the accounting of the path around it: eth_input
 * counts the frame (stats.h: only where a frame enters and where it
 * ends is counted), and a datagram done ends delivered, which UDP
 * counts when it takes it. */
static struct pkt *feed_pkt(struct pkt *p)
{
	STAT(eth, rx);
	struct pkt *d = ip_reass(p);
	if (d)
		STAT(udp, delivered);
	return d;
}

static struct pkt *feed(const struct frag *f)
{
	struct pkt *p = mkfrag(f);
	CHECK(p != NULL);
	return p ? feed_pkt(p) : NULL;
}

/* The common case: PEER -> us, UDP, payload from pat. */
static struct pkt *frag(uint16_t id, unsigned off, unsigned n, int mf)
{
	struct frag f = {.id = id, .off = off, .n = n, .mf = mf};
	return feed(&f);
}

/* Cut [0,total) into pieces of at most 'chunk' bytes (a multiple of 8). */
static int split(struct frag *fr, uint16_t id, unsigned total, unsigned chunk)
{
	int k = 0;
	for (unsigned off = 0; off < total; off += chunk, k++) {
		unsigned n = total - off < chunk ? total - off : chunk;
		fr[k] = (struct frag){.id = id, .off = off, .n = n, .mf = off + n < total};
	}
	return k;
}

/* Random 8-multiple cuts of 8 * minblk..1480 bytes. */
static int split_random(struct frag *fr, uint16_t id, unsigned total, unsigned minblk)
{
	int k = 0;
	for (unsigned off = 0; off < total; k++) {
		unsigned n = 8 * (minblk + rnd(186 - minblk));
		if (n > total - off)
			n = total - off;
		fr[k] = (struct frag){.id = id, .off = off, .n = n, .mf = off + n < total};
		off += n;
	}
	return k;
}

/* Send fr[order[i]]; only the last one may complete the datagram. */
static struct pkt *send_order(const struct frag *fr, const int *order, int n)
{
	struct pkt *d = NULL;
	for (int i = 0; i < n; i++) {
		CHECK(d == NULL);
		d = feed(&fr[order ? order[i] : i]);
	}
	return d;
}

static int ip_csum_ok(const uint8_t *h)
{
	return csum_fold(csum_add(0, h, (h[IP_VHL] & 0xf) * 4u)) == 0xffff;
}

/* The chain's bytes from d->data on into flat; returns how many. */
static unsigned chain_flat(const struct pkt *d)
{
	unsigned n = 0;
	for (const struct pkt *q = d; q; q = q->frag_next) {
		CHECK(n + q->len <= sizeof flat);
		if (n + q->len > sizeof flat)
			return 0;
		memcpy(flat + n, q->data, q->len);
		n += q->len;
	}
	return n;
}

/* A reassembled datagram from PEER to us with payload pat[0, total): a
 * chain of the fragments' buffers, the head at the IP header. */
static void check_dgram(const struct pkt *d, uint16_t id, unsigned total, const uint8_t *want)
{
	CHECK(d != NULL);
	if (!d)
		return;
	const uint8_t *h = d->data;
	unsigned hl = (h[IP_VHL] & 0xf) * 4u;
	CHECK_EQ(d->flags & ~PKT_F_BCAST, 0);
	CHECK_EQ(d->owner, PKT_STACK);
	CHECK(d->data == d->head + d->l3);
	CHECK(pkt_headroom(d) >= CFG_PKT_LINK_OFF + ETH_HLEN);
	CHECK_EQ(((uintptr_t)d->data) % 4, 0);
	CHECK(d->len > hl);
	CHECK(d->len + pkt_headroom(d) <= d->cap);
	int pieces = 0;
	for (const struct pkt *q = d; q; q = q->frag_next, pieces++) {
		CHECK_EQ(q->owner, PKT_STACK);
		CHECK(q->len > 0);
		CHECK(pieces <= CFG_REASS_MAX_BUFS);
		if (pieces > CFG_REASS_MAX_BUFS)
			return;
	}
	CHECK_EQ(pkt_chain_len(d), hl + total);
	CHECK_EQ(chain_flat(d), hl + total);
	CHECK_EQ(get16(h + IP_LEN), hl + total);
	CHECK_EQ(get16(h + IP_FRAG) & (IP_MF | IP_OFFMASK), 0);
	CHECK(ip_csum_ok(h));
	CHECK_EQ(get16(h + IP_ID), id);
	CHECK_EQ(get32(h + IP_SRC), PEER_IP);
	CHECK_EQ(get32(h + IP_DST), H_IP);
	CHECK(memcmp(flat + hl, want ? want : pat, total) == 0);
}

/* Every slot free? Probe by starting CFG_REASS_SLOTS datagrams (non-first
 * fragments, so no ICMP on timeout), then let them time out. */
static int slots_free(void)
{
	uint32_t ev = h_stat("ip", "reass_evict"), tmo = h_stat("ip", "reass_timeout");
	for (int i = 0; i < CFG_REASS_SLOTS; i++)
		CHECK(frag((uint16_t)(0xe000 + i), 8, 8, 1) == NULL);
	int ok = h_stat("ip", "reass_evict") == ev;
	advance(TMO);
	ok = ok && ip_reass_held() == 0;
	return ok && h_stat("ip", "reass_timeout") == tmo + CFG_REASS_SLOTS;
}

static void idle_check(void)
{
	CHECK(slots_free());
	CHECK(net_stats_check() == NULL);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);
	CHECK_EQ(pkt_stats.bad_free, 0);
}

/* Accounting of one test: fragments held, dropped, datagrams done. */
static void check_counts(uint32_t held, uint32_t dropped, uint32_t ok)
{
	CHECK_EQ(h_stat("ip", "frag_held"), held);
	CHECK_EQ(h_stat("ip", "drop_frag"), dropped);
	CHECK_EQ(h_stat("ip", "reass_ok"), ok);
}

/* ---- reassembly ---- */

static void test_in_order(void)
{
	struct frag fr[MAXFR];
	setup();
	int n = split(fr, 1, 8000, 1480);
	CHECK_EQ(n, 6);
	struct pkt *d = send_order(fr, NULL, n);
	check_dgram(d, 1, 8000, NULL);
	check_counts(5, 0, 1);
	CHECK_EQ(h_stat("ip", "rx"), 6);
	CHECK_EQ(h_stat("ip", "delivered"), 1);
	if (d)
		pkt_free(d);
	idle_check();
}

static void test_reverse(void)
{
	struct frag fr[MAXFR];
	int order[MAXFR];
	setup();
	int n = split(fr, 2, 8000, 1480);
	for (int i = 0; i < n; i++)
		order[i] = n - 1 - i;
	struct pkt *d = send_order(fr, order, n);
	check_dgram(d, 2, 8000, NULL);
	check_counts(5, 0, 1);
	if (d)
		pkt_free(d);
	idle_check();
}

static void test_permutations(void)
{
	static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	struct frag fr[MAXFR];
	setup();
	for (int i = 0; i < 6; i++) {
		pat_fill(100 + i);
		int n = split(fr, (uint16_t)(10 + i), 3000, 1480);
		CHECK_EQ(n, 3);
		struct pkt *d = send_order(fr, perm[i], n);
		check_dgram(d, (uint16_t)(10 + i), 3000, NULL);
		if (d)
			pkt_free(d);
	}
	check_counts(12, 0, 6);
	idle_check();
}

/* Random cuts, random order, sizes up to IPv4's limit (65,515 bytes of
 * payload behind a 20-byte header). */
static void test_random(void)
{
	struct frag fr[MAXFR * 4];
	int order[MAXFR * 4];
	setup();
	rng = 42;
	uint32_t held = 0;
	for (int round = 0; round < 200; round++) {
		unsigned total = round == 0 ? DMAX : 9 + rnd(round < 20 ? DMAX - 8 : 8192);
		pat_fill((uint32_t)round);
		int n = split_random(fr, (uint16_t)(round + 100), total, total > 16384 ? 176 : 1);
		CHECK(n <= MAXFR * 4);
		if (n < 2 || n > CFG_REASS_MAX_BUFS)
			continue;
		for (int i = 0; i < n; i++)
			order[i] = i;
		for (int i = n - 1; i > 0; i--) {
			int j = (int)rnd((unsigned)i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		struct pkt *d = send_order(fr, order, n);
		check_dgram(d, (uint16_t)(round + 100), total, NULL);
		if (d)
			pkt_free(d);
		held += (uint32_t)n - 1;
	}
	CHECK_EQ(h_stat("ip", "frag_held"), held);
	CHECK_EQ(h_stat("ip", "drop_frag"), 0);
	idle_check();
}

/* An exact repeat of a held fragment is dropped (frag_dup), the
 * datagram kept. */
static void test_duplicates(void)
{
	struct frag fr[MAXFR];
	static const int order[] = {2, 2, 0, 0, 2, 1};
	setup();
	int n = split(fr, 3, 3000, 1480);
	CHECK_EQ(n, 3);
	struct pkt *d = send_order(fr, order, 6);
	check_dgram(d, 3, 3000, NULL);
	check_counts(2, 3, 1);
	CHECK_EQ(h_stat("ip", "frag_dup"), 3);
	CHECK_EQ(h_stat("ip", "reass_bad"), 0);
	/* A late copy while the datagram is still held starts over (and
	 * times out): the datagram is not touched or handed out twice. */
	CHECK(feed(&fr[1]) == NULL);
	check_counts(3, 3, 1);
	check_dgram(d, 3, 3000, NULL);
	if (d)
		pkt_free(d);
	advance(TMO);
	CHECK_EQ(h_stat("ip", "reass_timeout"), 1);
	idle_check();
}

static uint8_t alt[DMAX];

/* RFC 5722's rule: any overlap but an exact repeat discards the whole
 * datagram, whether the overlapping bytes agree or not. */
static void test_overlap(void)
{
	setup();
	/* Same bytes, overlapping the end of a held piece. */
	CHECK(frag(5, 1480, 1480, 0) == NULL);      /* [1480, 2960) last */
	CHECK(frag(5, 808, 1480, 1) == NULL);       /* [808, 2288) over it */
	check_counts(1, 1, 0);
	CHECK_EQ(h_stat("ip", "reass_bad"), 1);
	CHECK_EQ(ip_reass_held(), 0);
	/* The slot was freed: the rest starts a new datagram. */
	CHECK(frag(5, 1480, 1480, 0) == NULL);
	struct pkt *d = frag(5, 0, 1480, 1);
	check_dgram(d, 5, 2960, NULL);
	if (d)
		pkt_free(d);
	/* One fragment covering two held ones completely. */
	CHECK(frag(6, 16, 8, 1) == NULL);
	CHECK(frag(6, 800, 8, 1) == NULL);
	CHECK(frag(6, 8, 1480, 1) == NULL);         /* [8, 1488) */
	CHECK_EQ(h_stat("ip", "reass_bad"), 2);
	CHECK_EQ(ip_reass_held(), 0);
	/* Overlapping the start of a held piece. */
	CHECK(frag(7, 1480, 800, 1) == NULL);
	CHECK(frag(7, 0, 1488, 1) == NULL);
	CHECK_EQ(h_stat("ip", "reass_bad"), 3);
	/* Same offset and length, other bytes: not a repeat. */
	memcpy(alt, pat, sizeof alt);
	alt[1000] ^= 0x55;
	CHECK(frag(8, 0, 1480, 1) == NULL);
	struct frag bad = {.id = 8, .off = 0, .n = 1480, .mf = 1, .data = alt};
	CHECK(feed(&bad) == NULL);
	CHECK_EQ(h_stat("ip", "reass_bad"), 4);
	/* Same offset, another length. */
	CHECK(frag(9, 0, 1480, 1) == NULL);
	CHECK(frag(9, 0, 1472, 1) == NULL);
	CHECK_EQ(h_stat("ip", "reass_bad"), 5);
	CHECK_EQ(h_stat("ip", "frag_dup"), 0);
	CHECK_EQ(h_stat("ip", "reass_ok"), 1);
	CHECK_EQ(ip_reass_held(), 0);
	idle_check();
}

static void test_too_big(void)
{
	struct frag fr[MAXFR];
	setup();
	/* Beyond 65,535 bytes in all, no datagram in progress. */
	CHECK(frag(20, DMAX - 8, 16, 0) == NULL);
	check_counts(0, 1, 0);
	/* Offset at the top of the field. */
	struct frag f = {.id = 21, .off = IP_OFFMASK * 8, .n = 16, .mf = 0, .data = pat};
	CHECK(feed(&f) == NULL);
	check_counts(0, 2, 0);
	/* With a datagram in progress, it goes too. */
	CHECK(frag(22, 0, 1480, 1) == NULL);
	CHECK(frag(22, DMAX - 200, 208, 0) == NULL);
	check_counts(1, 3, 0);
	CHECK_EQ(h_stat("ip", "reass_toobig"), 1);
	CHECK_EQ(ip_reass_held(), 0);
	/* Exactly 65,535 is fine: 45 fragments. */
	int n = split(fr, 23, DMAX, 1480);
	CHECK_EQ(n, 45);
	struct pkt *d = send_order(fr, NULL, n);
	check_dgram(d, 23, DMAX, NULL);
	if (d)
		pkt_free(d);
	/* More pieces than CFG_REASS_MAX_BUFS: discarded at the one too many. */
	n = split(fr, 24, 8 * (CFG_REASS_MAX_BUFS + 1), 8);
	CHECK_EQ(n, CFG_REASS_MAX_BUFS + 1);
	d = send_order(fr, NULL, n);
	CHECK(d == NULL);
	CHECK_EQ(h_stat("ip", "reass_toobig"), 2);
	CHECK_EQ(ip_reass_held(), 0);
	idle_check();
}

static void test_bad_length(void)
{
	setup();
	CHECK(frag(30, 0, 1480, 1) == NULL);
	CHECK(frag(30, 1480, 1479, 1) == NULL);  /* not a multiple of 8 */
	CHECK(frag(30, 1480, 0, 1) == NULL);     /* empty */
	CHECK(frag(30, 1480, 0, 0) == NULL);     /* empty last */
	check_counts(1, 3, 0);
	/* They did not spoil the datagram in progress. */
	CHECK_EQ(h_stat("ip", "reass_bad"), 0);
	struct pkt *d = frag(30, 1480, 1000, 0);
	check_dgram(d, 30, 2480, NULL);
	if (d)
		pkt_free(d);
	idle_check();
}

static void test_conflicting_ends(void)
{
	setup();
	/* Two last fragments disagreeing on the end (a hole at [1400, 1480)
	 * keeps the datagram from completing meanwhile). */
	CHECK(frag(40, 0, 1400, 1) == NULL);
	CHECK(frag(40, 1480, 1420, 0) == NULL);
	CHECK(frag(40, 1480, 1428, 0) == NULL);
	CHECK_EQ(h_stat("ip", "reass_bad"), 1);
	/* Data beyond a known end. */
	CHECK(frag(41, 1480, 500, 0) == NULL);
	CHECK(frag(41, 1480, 1480, 1) == NULL);
	CHECK_EQ(h_stat("ip", "reass_bad"), 2);
	/* A last fragment ending before data already held. */
	CHECK(frag(42, 1480, 1480, 1) == NULL);
	CHECK(frag(42, 1480, 500, 0) == NULL);
	CHECK_EQ(h_stat("ip", "reass_bad"), 3);
	check_counts(4, 3, 0);
	idle_check();
}

static int n_time_exceeded(uint16_t id)
{
	int k = 0;
	for (int i = 0; i < h_nsent && i < H_MAX_FRAMES; i++) {
		const uint8_t *f = h_frames[i];
		const uint8_t *ip = f + ETH_HLEN, *ic = ip + IP_HLEN, *q = ic + ICMP_HLEN;
		if (h_lens[i] >= ETH_HLEN + IP_HLEN + ICMP_HLEN + IP_HLEN + 8 &&
		    get16(f + ETH_TYPE) == ETHTYPE_IP && ip[IP_PROTO] == IPPROTO_ICMP &&
		    ic[ICMP_TYPE] == ICMP_TIMXCEED && ic[ICMP_CODE] == ICMP_TIMXCEED_REASS &&
		    get32(ip + IP_DST) == PEER_IP && get16(q + IP_ID) == id &&
		    get16(q + IP_FRAG) == IP_MF && memcmp(q + IP_HLEN, pat, 8) == 0)
			k++;
	}
	return k;
}

static int n_icmp_sent(void)
{
	int k = 0;
	for (int i = 0; i < h_nsent && i < H_MAX_FRAMES; i++)
		if (get16(h_frames[i] + ETH_TYPE) == ETHTYPE_IP &&
		    h_frames[i][ETH_HLEN + IP_PROTO] == IPPROTO_ICMP)
			k++;
	return k;
}

static void test_timeout(void)
{
	setup();
	/* Just inside the timeout: still completes. */
	CHECK(frag(50, 0, 1480, 1) == NULL);
	advance(TMO - 1);
	struct pkt *d = frag(50, 1480, 100, 0);
	check_dgram(d, 50, 1580, NULL);
	if (d)
		pkt_free(d);
	CHECK_EQ(h_stat("ip", "reass_timeout"), 0);

	/* Timed out without the first fragment: freed, no ICMP. */
	h_reset_sent();
	CHECK(frag(51, 1480, 100, 0) == NULL);
	advance(TMO);
	CHECK_EQ(h_stat("ip", "reass_timeout"), 1);
	CHECK_EQ(n_icmp_sent(), 0);
	/* The first fragment now starts a new datagram, which times out
	 * with an ICMP time exceeded quoting it. */
	CHECK(frag(51, 0, 1480, 1) == NULL);
	CHECK_EQ(h_stat("ip", "reass_ok"), 1);
	advance(TMO);
	CHECK_EQ(h_stat("ip", "reass_timeout"), 2);
	CHECK_EQ(n_time_exceeded(51), 1);

	/* And a later datagram is fine. */
	d = frag(52, 0, 1480, 1);
	CHECK(d == NULL);
	d = frag(52, 1480, 100, 0);
	check_dgram(d, 52, 1580, NULL);
	if (d)
		pkt_free(d);
	idle_check();
}

/* No free slot: the oldest datagram in progress makes room. */
static void test_all_slots_busy(void)
{
	setup();
	for (int i = 0; i < CFG_REASS_SLOTS; i++) {
		CHECK(frag((uint16_t)(60 + i), 0, 1480, 1) == NULL);
		advance(10);
	}
	CHECK(frag(70, 0, 1480, 1) == NULL);
	CHECK_EQ(h_stat("ip", "reass_evict"), 1);
	CHECK_EQ(ip_reass_held(), CFG_REASS_SLOTS);
	check_counts(CFG_REASS_SLOTS + 1, 0, 0);
	/* 60 was the oldest: its second half starts over (evicting 61)... */
	CHECK(frag(60, 1480, 100, 0) == NULL);
	CHECK_EQ(h_stat("ip", "reass_evict"), 2);
	/* ...the newer ones complete. */
	struct pkt *d = frag(70, 1480, 100, 0);
	check_dgram(d, 70, 1580, NULL);
	if (d)
		pkt_free(d);
	if (CFG_REASS_SLOTS > 2) {
		d = frag((uint16_t)(60 + CFG_REASS_SLOTS - 1), 1480, 100, 0);
		check_dgram(d, (uint16_t)(60 + CFG_REASS_SLOTS - 1), 1580, NULL);
		if (d)
			pkt_free(d);
	}
	advance(TMO);
	idle_check();
}

/* Fragments that never complete, as fast as they come: every slot taken
 * by them is given up for the next, and an honest datagram, arriving
 * among them, completes (the brief's "two fragments every 30 s must not
 * deny reassembly to everyone else"). */
static void test_flood(void)
{
	struct frag fr[MAXFR];
	setup();
	for (int i = 0; i < 500; i++)
		CHECK(frag((uint16_t)(1000 + i), 0, 1480, 1) == NULL);
	check_counts(500, 0, 0);
	CHECK_EQ(h_stat("ip", "reass_evict"), 500 - CFG_REASS_SLOTS);
	CHECK_EQ(ip_reass_held(), CFG_REASS_SLOTS);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT - CFG_REASS_SLOTS);
	/* An honest 8000-byte datagram evicts the oldest; while it is in
	 * progress CFG_REASS_SLOTS - 2 more flood datagrams come, evicting
	 * older flood datagrams, not it. */
	int n = split(fr, 2000, 8000, 1480);
	struct pkt *d = NULL;
	for (int i = 0, k = 0; i < n; i++) {
		CHECK(d == NULL);
		d = feed(&fr[i]);
		if (i > 0 && k < CFG_REASS_SLOTS - 2)
			CHECK(frag((uint16_t)(3000 + k++), 8, 8, 1) == NULL);
	}
	check_dgram(d, 2000, 8000, NULL);
	if (d)
		pkt_free(d);
	advance(TMO);
	CHECK_EQ(h_stat("ip", "reass_timeout"), CFG_REASS_SLOTS - 1);
	idle_check();
}

/* The buffer budget: datagrams holding many pieces each (never
 * complete: the first fragment missing) reach CFG_REASS_TOTAL_BUFS; the
 * oldest goes for the next piece, the pool never holds more than that
 * for reassembly, and an honest datagram completes. */
static void test_budget(void)
{
	setup();
	unsigned per = CFG_REASS_MAX_BUFS - 1;
	uint16_t id = 4000;
	for (unsigned i = 0; i < 3u * CFG_REASS_TOTAL_BUFS; i++) {
		if (i % per == 0)
			id++;
		CHECK(frag(id, 8 + 8 * (i % per) * 2, 8, 1) == NULL);
		CHECK(ip_reass_held() <= CFG_REASS_TOTAL_BUFS);
		CHECK(pkt_free_count() >= CFG_PKT_COUNT - CFG_REASS_TOTAL_BUFS);
	}
	CHECK(h_stat("ip", "reass_evict") > 0);
	CHECK(ip_reass_held() > 0);
	CHECK_EQ(h_stat("ip", "reass_toobig"), 0);
	struct pkt *d = NULL;
	CHECK(frag(5000, 0, 1480, 1) == NULL);
	CHECK(frag(5000, 2960, 40, 0) == NULL);
	d = frag(5000, 1480, 1480, 1);
	check_dgram(d, 5000, 3000, NULL);
	if (d)
		pkt_free(d);
	CHECK(ip_reass_held() <= CFG_REASS_TOTAL_BUFS);
	advance(TMO);
	CHECK_EQ(ip_reass_held(), 0);
	idle_check();
}

static void test_release_reuse(void)
{
	setup();
	for (int i = 0; i < 4 * CFG_REASS_SLOTS; i++) {
		CHECK(frag((uint16_t)(80 + i), 1480, 16, 0) == NULL);
		struct pkt *d = frag((uint16_t)(80 + i), 0, 1480, 1);
		check_dgram(d, (uint16_t)(80 + i), 1496, NULL);
		if (d)
			pkt_free(d);
	}
	CHECK_EQ(h_stat("ip", "reass_evict"), 0);
	idle_check();
}

/* A datagram handed out holds no slot nor budget: its buffers are its
 * owner's, as long as it likes, past the timeout too. */
static void test_held_blocks(void)
{
	struct pkt *kept[CFG_REASS_SLOTS + 1];
	setup();
	for (int i = 0; i <= CFG_REASS_SLOTS; i++) {
		CHECK(frag((uint16_t)(90 + i), 0, 1480, 1) == NULL);
		kept[i] = frag((uint16_t)(90 + i), 1480, 200, 0);
		check_dgram(kept[i], (uint16_t)(90 + i), 1680, NULL);
	}
	CHECK_EQ(ip_reass_held(), 0);
	CHECK_EQ(h_stat("ip", "reass_evict"), 0);
	advance(3 * TMO);
	CHECK_EQ(h_stat("ip", "reass_timeout"), 0);
	for (int i = 0; i <= CFG_REASS_SLOTS; i++) {
		check_dgram(kept[i], (uint16_t)(90 + i), 1680, NULL);
		if (kept[i])
			pkt_free(kept[i]);
	}
	idle_check();
}

static void test_double_free(void)
{
	setup();
	CHECK(frag(100, 0, 1480, 1) == NULL);
	struct pkt *d = frag(100, 1480, 8, 0);
	CHECK(d != NULL);
	if (!d)
		return;
	pkt_free(d);
	pkt_free(d);
	CHECK_EQ(pkt_stats.bad_free, 1);
	/* The slot is sane afterwards. */
	CHECK(frag(101, 0, 1480, 1) == NULL);
	struct pkt *e = frag(101, 1480, 8, 0);
	check_dgram(e, 101, 1488, NULL);
	pkt_stats.bad_free = 0;
	if (e)
		pkt_free(e);
	idle_check();
}

/* The datagram keeps the first fragment's header, options included. */
static void test_first_header_kept(void)
{
	uint8_t opt[40];
	setup();
	/* The longest header: router alert, then NOPs. */
	memset(opt, 1, sizeof opt);
	memcpy(opt, "\x94\x04\x00\x00", 4);
	struct frag f = {.id = 110, .off = 0, .n = 1400, .mf = 1, .opt = opt, .olen = 40};
	CHECK(feed(&f) == NULL);
	/* A second copy of the first fragment, with another header. */
	CHECK(frag(110, 0, 1400, 1) == NULL);
	struct pkt *d = frag(110, 1400, 300, 0);
	check_dgram(d, 110, 1700, NULL);
	if (d) {
		CHECK_EQ(d->data[IP_VHL], 0x4f);
		CHECK(memcmp(d->data + IP_HLEN, opt, 40) == 0);
		CHECK(pkt_headroom(d) >= CFG_PKT_LINK_OFF + ETH_HLEN);
		pkt_free(d);
	}
	idle_check();
}

/* One missing 8-byte block keeps the datagram incomplete. */
static void test_small_hole(void)
{
	setup();
	CHECK(frag(115, 0, 1480, 1) == NULL);
	CHECK(frag(115, 1488, 92, 0) == NULL);      /* ends mid-block */
	CHECK_EQ(h_stat("ip", "reass_ok"), 0);
	struct pkt *d = frag(115, 1480, 8, 1);
	check_dgram(d, 115, 1580, NULL);
	if (d)
		pkt_free(d);
	idle_check();
}

/* Same id, different protocol or source: different datagrams. */
static void test_key(void)
{
	static uint8_t b[2900];
	if (CFG_REASS_SLOTS < 2)
		return; /* needs two datagrams in progress */
	setup();
	for (unsigned i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)~pat[i];
	struct frag a0 = {.id = 120, .off = 0, .n = 1480, .mf = 1};
	struct frag b0 = {.id = 120, .off = 0, .n = 1480, .mf = 1, .proto = IPPROTO_ICMP, .data = b};
	struct frag a1 = {.id = 120, .off = 1480, .n = 1420, .mf = 0};
	struct frag b1 = {.id = 120, .off = 1480, .n = 1420, .mf = 0, .proto = IPPROTO_ICMP, .data = b + 1480};
	CHECK(feed(&a0) == NULL);
	CHECK(feed(&b0) == NULL);
	struct pkt *da = feed(&a1);
	check_dgram(da, 120, 2900, NULL);
	struct pkt *db = feed(&b1);
	check_dgram(db, 120, 2900, b);
	if (db)
		CHECK_EQ(db->data[IP_PROTO], IPPROTO_ICMP);
	if (da)
		pkt_free(da);
	if (db)
		pkt_free(db);
	struct frag c1 = {.id = 121, .off = 1480, .n = 8, .mf = 0, .src = PEER_IP + 1};
	CHECK(feed(&c1) == NULL);
	CHECK(frag(121, 0, 1480, 1) == NULL); /* from PEER_IP: not c1's datagram */
	CHECK_EQ(h_stat("ip", "reass_ok"), 2);
	advance(TMO);
	idle_check();
}

/* Broadcast taints the whole datagram; a NIC checksum verdict does not
 * carry over. */
static void test_flags(void)
{
	setup();
	struct frag f0 = {.id = 125, .off = 0, .n = 1480, .mf = 1, .flags = PKT_F_CSUM_OK};
	struct frag f1 = {.id = 125, .off = 1480, .n = 8, .flags = PKT_F_BCAST | PKT_F_CSUM_OK};
	CHECK(feed(&f0) == NULL);
	struct pkt *d = feed(&f1);
	check_dgram(d, 125, 1488, NULL);
	if (d) {
		CHECK_EQ(d->flags, PKT_F_BCAST);
		pkt_free(d);
	}
	f0.id = f1.id = 126;
	f1.flags = 0;
	CHECK(feed(&f0) == NULL);
	d = feed(&f1);
	check_dgram(d, 126, 1488, NULL);
	if (d) {
		CHECK_EQ(d->flags, 0);
		pkt_free(d);
	}
	idle_check();
}

/* ---- fragmentation on output ---- */

/* Turn a reassembled datagram into our reply to PEER (as echo would). */
static void make_reply(struct pkt *d)
{
	uint8_t *h = d->data;
	put32(h + IP_SRC, H_IP);
	put32(h + IP_DST, PEER_IP);
	put16(h + IP_CSUM, 0);
	put16(h + IP_CSUM, csum_finish(csum_add(0, h, (h[IP_VHL] & 0xf) * 4u)));
}

static struct pkt *big_dgram(uint16_t id, unsigned total, const uint8_t *opt, unsigned olen)
{
	struct frag fr[MAXFR];
	int n = split(fr, id, total, 1400);
	fr[0].opt = opt;
	fr[0].olen = olen;
	struct pkt *d = send_order(fr, NULL, n);
	CHECK(d != NULL);
	return d;
}

/* Check sent frames [first, first+n) as the fragments of one datagram
 * (id, proto) and put them back together from the wire; returns the
 * IP payload length, or 0 if something is off. */
static unsigned check_wire_frags(int first, int n, uint16_t id, uint8_t *out, unsigned outsz,
				 int *last_mf)
{
	unsigned expect = 0;
	CHECK(first + n <= H_MAX_FRAMES);
	for (int i = first; i < first + n && i < H_MAX_FRAMES; i++) {
		const uint8_t *f = h_frames[i], *h = f + ETH_HLEN;
		unsigned hl = (h[IP_VHL] & 0xf) * 4u;
		CHECK(h_lens[i] <= ETH_HLEN + CFG_MTU);
		CHECK_EQ(get16(f + ETH_TYPE), ETHTYPE_IP);
		CHECK(memcmp(f + ETH_DST, PEER_MAC, 6) == 0);
		CHECK_EQ(h_lens[i], ETH_HLEN + get16(h + IP_LEN));
		CHECK(ip_csum_ok(h));
		CHECK_EQ(get16(h + IP_ID), id);
		CHECK_EQ(get32(h + IP_SRC), H_IP);
		CHECK_EQ(get32(h + IP_DST), PEER_IP);
		unsigned frag = get16(h + IP_FRAG), n8 = get16(h + IP_LEN) - hl;
		CHECK_EQ((frag & IP_OFFMASK) * 8, expect);
		if (i < first + n - 1) {
			CHECK(frag & IP_MF);
			CHECK_EQ(n8 % 8, 0);
		}
		*last_mf = !!(frag & IP_MF);
		if (expect + n8 > outsz)
			return 0;
		memcpy(out + expect, h + hl, n8);
		expect += n8;
	}
	return expect;
}

static uint8_t wire[65536];

static void test_frag_output(void)
{
	setup();
	struct pkt *d = big_dgram(130, 8000, NULL, 0);
	if (!d)
		return;
	make_reply(d);
	h_reset_sent();
	CHECK_EQ(ip_frag_output(d, PEER_IP), NET_OK);
	CHECK_EQ(h_nsent, (8000 + 1479) / 1480);
	CHECK_EQ(h_stat("ip", "tx_frag"), 6);
	int mf = 1;
	CHECK_EQ(check_wire_frags(0, h_nsent, 130, wire, sizeof wire, &mf), 8000);
	CHECK_EQ(mf, 0);
	CHECK(memcmp(wire, pat, 8000) == 0);
	/* The chain's pieces (1400 bytes each) went out as they were: no
	 * copy, one fragment per piece. */
	for (int i = 0; i < 5; i++)
		CHECK_EQ(h_lens[i], ETH_HLEN + IP_HLEN + 1400);
	CHECK_EQ(h_lens[5], ETH_HLEN + IP_HLEN + 8000 - 5 * 1400);
	CHECK_EQ(h_stat("ip", "tx_frag_copy"), 0);

	/* Fed back in with the addresses swapped, they reassemble to the
	 * original. */
	struct pkt *e = NULL;
	int nsent = h_nsent;
	for (int i = 0; i < nsent; i++) {
		struct pkt *p = pkt_alloc(PKT_STACK);
		CHECK(p != NULL);
		if (!p)
			break;
		pkt_reset_link(p);
		p->data += ETH_HLEN;
		p->l3 = (uint16_t)(p->data - p->head);
		p->len = (uint16_t)(h_lens[i] - ETH_HLEN);
		memcpy(p->data, h_frames[i] + ETH_HLEN, p->len);
		put32(p->data + IP_SRC, PEER_IP);
		put32(p->data + IP_DST, H_IP);
		CHECK(e == NULL);
		e = feed_pkt(p);
	}
	check_dgram(e, 130, 8000, NULL);
	if (e)
		pkt_free(e);
	idle_check();
}

static void test_frag_output_options(void)
{
	/* router alert (copied), record route (not copied), NOP, EOL pad */
	static const uint8_t opt[12] = {0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04,
					0, 0, 0, 0, 0x01};
	setup();
	struct pkt *d = big_dgram(140, 5000, opt, sizeof opt);
	if (!d)
		return;
	make_reply(d);
	h_reset_sent();
	CHECK_EQ(ip_frag_output(d, PEER_IP), NET_OK);
	/* first: 1500 - 32 -> 1464 bytes; later: 1500 - 24 -> 1472 bytes */
	CHECK_EQ(h_nsent, 4);
	const uint8_t *h0 = h_frames[0] + ETH_HLEN, *h1 = h_frames[1] + ETH_HLEN;
	CHECK_EQ(h0[IP_VHL], 0x48);
	CHECK(memcmp(h0 + IP_HLEN, opt, sizeof opt) == 0);
	CHECK_EQ(get16(h0 + IP_LEN), 32 + 1464);
	for (int i = 1; i < h_nsent && i < H_MAX_FRAMES; i++) {
		const uint8_t *h = h_frames[i] + ETH_HLEN;
		CHECK_EQ(h[IP_VHL], 0x46);
		CHECK(memcmp(h + IP_HLEN, opt, 4) == 0);
	}
	CHECK_EQ(get16(h1 + IP_LEN), 24 + 1472);
	int mf = 1;
	CHECK_EQ(check_wire_frags(0, h_nsent, 140, wire, sizeof wire, &mf), 5000);
	CHECK_EQ(mf, 0);
	CHECK(memcmp(wire, pat, 5000) == 0);
	idle_check();
}

/* A datagram that is itself a fragment keeps its offset and MF. */
static void test_frag_output_keeps_mf(void)
{
	setup();
	struct pkt *d = big_dgram(150, 4000, NULL, 0);
	if (!d)
		return;
	make_reply(d);
	put16(d->data + IP_FRAG, IP_MF | 100);
	h_reset_sent();
	CHECK_EQ(ip_frag_output(d, PEER_IP), NET_OK);
	CHECK_EQ(h_nsent, 3);
	for (int i = 0; i < h_nsent && i < H_MAX_FRAMES; i++) {
		const uint8_t *h = h_frames[i] + ETH_HLEN;
		CHECK_EQ(get16(h + IP_FRAG), IP_MF | (100 + i * 175)); /* 1400-byte pieces */
		CHECK(ip_csum_ok(h));
	}
	idle_check();
}

static void test_frag_output_df(void)
{
	setup();
	struct pkt *d = big_dgram(160, 4000, NULL, 0);
	if (!d)
		return;
	make_reply(d);
	put16(d->data + IP_FRAG, IP_DF);
	h_reset_sent();
	CHECK_EQ(ip_frag_output(d, PEER_IP), NET_ERR_ARG);
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(h_stat("ip", "tx_err"), 1);
	CHECK_EQ(h_stat("ip", "tx_frag"), 0);
	idle_check(); /* and the slot was released */
}

/* A driver that keeps what it is given, like a TX ring the device has
 * not drained yet. */
static struct pkt *txq[CFG_PKT_COUNT];
static int ntxq;
static int hold_output(struct pkt *p)
{
	txq[ntxq++] = p;
	return 0;
}

/* The copying path (here: an MTU below the pieces' size) runs out of
 * buffers: what was sent stays sent, the rest and the chain are freed. */
static void test_frag_output_nomem(void)
{
	struct pkt *hog[CFG_PKT_COUNT];
	int nhog = 0;
	setup();
	struct pkt *d = big_dgram(170, 8000, NULL, 0);
	if (!d)
		return;
	make_reply(d);
	netif.mtu = 576;
	while (pkt_free_count() > 3)
		hog[nhog++] = pkt_alloc(PKT_STACK);
	ntxq = 0;
	netif.output = hold_output;
	CHECK_EQ(ip_frag_output(d, PEER_IP), NET_ERR_MEM);
	CHECK_EQ(ntxq, 3);
	CHECK_EQ(h_stat("ip", "tx_frag"), 3);
	CHECK_EQ(h_stat("ip", "tx_frag_copy"), 3);
	CHECK_EQ(h_stat("ip", "tx_err"), 1);
	CHECK_EQ(pkt_free_count(), 6); /* the chain's own buffers came back */
	for (int i = 0; i < ntxq; i++) {
		CHECK_EQ(txq[i]->len, ETH_HLEN + IP_HLEN + 552);
		pkt_free(txq[i]);
	}
	for (int i = 0; i < nhog; i++)
		pkt_free(hog[i]);
	netif.output = h_output;
	netif.mtu = CFG_MTU;
	idle_check();
}

/* Zero-copy output with a driver that holds the frames (a TX ring):
 * every piece is on it, each unlinked from the others. */
static void test_frag_output_held(void)
{
	setup();
	struct pkt *d = big_dgram(171, 8000, NULL, 0);
	if (!d)
		return;
	make_reply(d);
	ntxq = 0;
	netif.output = hold_output;
	unsigned before = pkt_free_count();
	CHECK_EQ(ip_frag_output(d, PEER_IP), NET_OK);
	CHECK_EQ(ntxq, 6);
	CHECK_EQ(pkt_free_count(), before); /* no buffer taken or given back */
	for (int i = 0; i < ntxq; i++) {
		CHECK(txq[i]->frag_next == NULL);
		pkt_free(txq[i]);
	}
	netif.output = h_output;
	idle_check();
}

/* ---- the whole stack: frames in, frames out ---- */

static uint8_t dgram[65536];

/* An ICMP echo request of 'total' bytes (header included) in dgram. */
static void make_ping(unsigned total)
{
	memset(dgram, 0, ICMP_HLEN);
	dgram[ICMP_TYPE] = ICMP_ECHO;
	put16(dgram + 4, 0x1234);
	put16(dgram + 6, 1);
	memcpy(dgram + ICMP_HLEN, pat, total - ICMP_HLEN);
	put16(dgram + ICMP_CSUM, csum_finish(csum_add(0, dgram, total)));
}

/* A UDP datagram PEER:sport -> us:dport of 'total' bytes in dgram. */
static void make_udp(unsigned total, uint16_t sport, uint16_t dport)
{
	put16(dgram + UDP_SPORT, sport);
	put16(dgram + UDP_DPORT, dport);
	put16(dgram + UDP_LEN, (uint16_t)total);
	put16(dgram + UDP_CSUM, 0);
	memcpy(dgram + UDP_HLEN, pat, total - UDP_HLEN);
	uint32_t ps = csum_pseudo(PEER_IP, H_IP, IPPROTO_UDP, (uint16_t)total);
	uint16_t c = csum_finish(csum_add(ps, dgram, total));
	put16(dgram + UDP_CSUM, c ? c : 0xffff);
}

/* Inject dgram[0, total) as fragments of at most 'chunk' bytes, in the
 * given order (NULL: in order); only the first 'only' of them if not 0.
 * Returns how many fragments the datagram has. */
static int inject_frags(uint32_t dst, uint8_t proto, uint16_t id, unsigned total, unsigned chunk,
			const int *order, int only)
{
	static uint8_t f[CFG_PKT_BUFSZ];
	struct frag fr[MAXFR];
	int n = split(fr, id, total, chunk);
	for (int i = 0; i < (only ? only : n); i++) {
		const struct frag *x = &fr[order ? order[i] : i];
		size_t o = h_eth(f, H_MAC, PEER_MAC, ETHTYPE_IP);
		o += h_ip(f + o, PEER_IP, dst, proto, (uint16_t)(IP_HLEN + x->n), id,
			  (uint16_t)(x->off / 8 | (x->mf ? IP_MF : 0)));
		memcpy(f + o, dgram + x->off, x->n);
		CHECK_EQ(h_inject(f, o + x->n), 0);
	}
	return n;
}

static void test_stack_ping(void)
{
	static const int order[] = {3, 0, 5, 1, 4, 2};
	setup();
	make_ping(8000);
	CHECK_EQ(inject_frags(H_IP, IPPROTO_ICMP, 200, 8000, 1480, order, 0), 6);
	/* the reply: ceil(8000 / 1480) fragments */
	CHECK_EQ(h_nsent, 6);
	int mf = 1;
	unsigned n = check_wire_frags(0, h_nsent, get16(h_frames[0] + ETH_HLEN + IP_ID), wire,
				      sizeof wire, &mf);
	CHECK_EQ(n, 8000);
	CHECK_EQ(mf, 0);
	CHECK_EQ(wire[ICMP_TYPE], ICMP_ECHOREPLY);
	CHECK_EQ(csum_fold(csum_add(0, wire, 8000)), 0xffff);
	CHECK(memcmp(wire + 4, dgram + 4, 8000 - 4) == 0);
	CHECK_EQ(h_stat("ip", "frag_held"), 5);
	CHECK_EQ(h_stat("ip", "reass_ok"), 1);
	CHECK_EQ(h_stat("icmp", "echo_replied"), 1);
	CHECK_EQ(h_stat("ip", "tx_frag"), 6);
	idle_check();
}

static void udp_echo(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	(void)arg;
	udp_sendto(pcb, p, udp_src_ip(p), udp_src_port(p));
}

static void test_stack_udp_echo(void)
{
	setup();
	struct udp_pcb *pcb = udp_new();
	CHECK(pcb != NULL);
	if (!pcb)
		return;
	CHECK_EQ(udp_bind(pcb, 0, 7), 0);
	udp_recv(pcb, udp_echo, NULL);
	make_udp(8000, 40000, 7);
	rng = 9;
	for (int round = 0; round < 20; round++) {
		int order[6] = {0, 1, 2, 3, 4, 5};
		for (int i = 5; i > 0; i--) {
			int j = (int)rnd((unsigned)i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		h_reset_sent();
		inject_frags(H_IP, IPPROTO_UDP, (uint16_t)(300 + round), 8000, 1480, order, 0);
		CHECK_EQ(h_nsent, 6);
		int mf = 1;
		unsigned n = check_wire_frags(0, h_nsent, get16(h_frames[0] + ETH_HLEN + IP_ID),
					      wire, sizeof wire, &mf);
		CHECK_EQ(n, 8000);
		CHECK_EQ(get16(wire + UDP_SPORT), 7);
		CHECK_EQ(get16(wire + UDP_DPORT), 40000);
		CHECK_EQ(get16(wire + UDP_LEN), 8000);
		uint32_t ps = csum_pseudo(H_IP, PEER_IP, IPPROTO_UDP, 8000);
		CHECK_EQ(csum_fold(csum_add(ps, wire, 8000)), 0xffff);
		CHECK(memcmp(wire + UDP_HLEN, pat, 8000 - UDP_HLEN) == 0);
	}
	CHECK_EQ(h_stat("udp", "delivered"), 20);
	CHECK_EQ(h_stat("ip", "reass_ok"), 20);
	udp_remove(pcb);
	idle_check();
}

/* A closed port: ICMP port unreachable quoting the whole datagram's
 * header (not a fragment's) and its first 8 bytes. */
static void test_stack_closed_port(void)
{
	setup();
	make_udp(3000, 40000, 9999);
	inject_frags(H_IP, IPPROTO_UDP, 400, 3000, 1480, NULL, 0);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *ip = h_frames[0] + ETH_HLEN, *ic = ip + IP_HLEN, *q = ic + ICMP_HLEN;
	CHECK_EQ(ip[IP_PROTO], IPPROTO_ICMP);
	CHECK_EQ(ic[ICMP_TYPE], ICMP_UNREACH);
	CHECK_EQ(ic[ICMP_CODE], ICMP_UNREACH_PORT);
	CHECK_EQ(get16(q + IP_ID), 400);
	CHECK_EQ(get16(q + IP_LEN), IP_HLEN + 3000);
	CHECK_EQ(get16(q + IP_FRAG), 0);
	CHECK(memcmp(q + IP_HLEN, dgram, 8) == 0);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	idle_check();
}

/* Pieces sent to the broadcast address are not answered as a whole. */
static void test_stack_bcast_ping(void)
{
	setup();
	make_ping(3000);
	inject_frags(H_IP | 0xff, IPPROTO_ICMP, 500, 3000, 1480, NULL, 0);
	CHECK_EQ(h_stat("ip", "reass_ok"), 1);
	CHECK_EQ(h_stat("icmp", "drop_bcast_echo"), CFG_ICMP_ECHO_BCAST ? 0 : 1);
	CHECK_EQ(h_nsent, CFG_ICMP_ECHO_BCAST ? 3 : 0);
	idle_check();
}

/* A timed-out datagram through the stack: the ICMP error goes out and
 * the accounting holds. */
static void test_stack_timeout(void)
{
	setup();
	make_ping(3000);
	static const int order[] = {0, 2};
	inject_frags(H_IP, IPPROTO_ICMP, 600, 3000, 1480, order, 2);
	CHECK_EQ(h_nsent, 0);
	h_advance(TMO);
	CHECK_EQ(h_stat("ip", "reass_timeout"), 1);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *ip = h_frames[0] + ETH_HLEN, *ic = ip + IP_HLEN, *q = ic + ICMP_HLEN;
	CHECK_EQ(ic[ICMP_TYPE], ICMP_TIMXCEED);
	CHECK_EQ(ic[ICMP_CODE], ICMP_TIMXCEED_REASS);
	CHECK_EQ(get16(q + IP_ID), 600);
	CHECK(memcmp(q + IP_HLEN, dgram, 8) == 0);
	CHECK_EQ(h_stat("ip", "rx"), 2);
	CHECK_EQ(h_stat("ip", "frag_held"), 2);
	idle_check();
}

/* Regression: RFC 1122 3.2.2 forbids an ICMP error about a datagram that
 * came as a link-layer broadcast, even one to our unicast address. A
 * first fragment (MF, offset 0) in a broadcast frame times out silently;
 * the same fragment in a unicast frame draws one Time Exceeded quoting
 * it. The clock moves a timer period at a time, as the superloop's does. */
static void test_stack_timeout_link_bcast(void)
{
	static const uint8_t *const eth_dst[2] = {H_BCAST, H_MAC};
	static uint8_t f[ETH_HLEN + IP_HLEN + 16];
	for (int unicast = 0; unicast < 2; unicast++) {
		setup();
		size_t o = h_eth(f, eth_dst[unicast], PEER_MAC, ETHTYPE_IP);
		o += h_ip(f + o, PEER_IP, H_IP, IPPROTO_UDP, IP_HLEN + 16, 700, IP_MF);
		memcpy(f + o, pat, 16);
		CHECK_EQ(h_inject(f, o + 16), 0);
		CHECK_EQ(h_stat("ip", "frag_held"), 1);
		for (uint32_t t = CFG_TICK_MS; t < TMO; t += CFG_TICK_MS)
			h_advance(CFG_TICK_MS);
		CHECK_EQ(h_stat("ip", "reass_timeout"), 0);
		CHECK_EQ(h_nsent, 0);
		h_advance(CFG_TICK_MS); /* the timeout itself */
		CHECK_EQ(h_stat("ip", "reass_timeout"), 1);
		CHECK_EQ(h_nsent, unicast);
		CHECK_EQ(n_time_exceeded(700), unicast);
		CHECK_EQ(h_stat("icmp", "tx_err_sent"), unicast);
		if (unicast) {
			CHECK(!memcmp(h_frames[0], PEER_MAC, 6));
			CHECK(h_ip_ok(h_sent_ip(0)));
		}
		idle_check();
	}
}

/* ---- large datagrams: chains end to end ---- */

static void shuffle(int *order, int n)
{
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rnd((unsigned)i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* Frames [0, n) as the fragments of one UDP datagram from us to PEER
 * with ports sport -> dport and payload want[0, plen): each fragment
 * checked (20-byte header, offset, MF, length), the datagram put back
 * together byte for byte and its checksum recomputed. */
static void check_wire_udp(int n, uint16_t sport, uint16_t dport, const uint8_t *want, unsigned plen,
			   unsigned frag_payload)
{
	int mf = 1;
	CHECK(n <= H_MAX_FRAMES);
	for (int i = 0; i < n && i < H_MAX_FRAMES; i++) {
		const uint8_t *h = h_sent_ip(i);
		CHECK(h != NULL);
		if (!h)
			return;
		CHECK_EQ(h[IP_VHL], 0x45);
		CHECK(h_ip_ok(h));
		CHECK_EQ(h[IP_PROTO], IPPROTO_UDP);
		CHECK_EQ(h[IP_TTL], CFG_IP_TTL);
		if (frag_payload && i < n - 1)
			CHECK_EQ(get16(h + IP_LEN), IP_HLEN + frag_payload);
	}
	unsigned got = check_wire_frags(0, n, get16(h_sent_ip(0) + IP_ID), wire, sizeof wire, &mf);
	CHECK_EQ(mf, 0);
	CHECK_EQ(got, UDP_HLEN + plen);
	CHECK_EQ(get16(wire + UDP_SPORT), sport);
	CHECK_EQ(get16(wire + UDP_DPORT), dport);
	CHECK_EQ(get16(wire + UDP_LEN), UDP_HLEN + plen);
	CHECK(get16(wire + UDP_CSUM) != 0);
	uint32_t ps = (H_IP >> 16) + (H_IP & 0xffff) + (PEER_IP >> 16) + (PEER_IP & 0xffff) + IPPROTO_UDP +
		      UDP_HLEN + plen;
	CHECK(h_sum_ok(ps, wire, UDP_HLEN + plen));
	CHECK(memcmp(wire + UDP_HLEN, want, plen) == 0);
}

/* The largest UDP datagram, 65,507 bytes in 45 fragments arriving in a
 * random order, echoed by the shipped service (app/echo.c): 45 fragments
 * back, each the buffer its request fragment came in (no buffer taken
 * from the pool, nothing copied), byte for byte the datagram sent, with
 * a valid checksum. */
static void test_big_echo(void)
{
	int order[MAXFR];
	setup();
	CHECK_EQ(echo_start(7), 0);
	rng = 77;
	for (int round = 0; round < 3; round++) {
		unsigned plen = round == 0 ? 65507 : 1473 + rnd(60000);
		unsigned total = UDP_HLEN + plen;
		pat_fill(1000 + (uint32_t)round);
		make_udp(total, (uint16_t)(40000 + round), 7);
		int n = (int)((total + 1479) / 1480);
		shuffle(order, n);
		h_reset_sent();
		uint32_t allocs = pkt_stats.alloc;
		CHECK_EQ(inject_frags(H_IP, IPPROTO_UDP, (uint16_t)(900 + round), total, 1480, order, 0), n);
		CHECK_EQ(pkt_stats.alloc - allocs, (uint32_t)n); /* the RX buffers, nothing more */
		CHECK_EQ(h_nsent, n);
		if (round == 0)
			CHECK_EQ(n, 45);
		check_wire_udp(h_nsent, 7, (uint16_t)(40000 + round), pat, plen, 1480);
		CHECK_EQ(h_lens[n - 1], ETH_HLEN + IP_HLEN + total - (unsigned)(n - 1) * 1480);
		for (int i = 0; i < n; i++)
			CHECK(!memcmp(h_frames[i], PEER_MAC, 6));
	}
	CHECK_EQ(echo_stats.replied, 3);
	CHECK_EQ(h_stat("ip", "reass_ok"), 3);
	CHECK_EQ(h_stat("ip", "tx_frag_copy"), 0);
	CHECK(echo_stats_ok());
	idle_check();
}

static struct pkt *got_chain;
static void keep_chain(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	(void)pcb, (void)arg;
	CHECK(got_chain == NULL);
	got_chain = p;
}

/* Every way a reassembled datagram can be dropped above IP frees all of
 * its buffers: a bad checksum, a UDP length beyond the data, no
 * listener, a full queue, a PCB removed with chains queued. A UDP
 * length short of the data trims the chain. */
static void test_chain_drops(void)
{
	setup();
	make_udp(9000, 40000, 5000);
	dgram[5000] ^= 1; /* after the checksum */
	inject_frags(H_IP, IPPROTO_UDP, 1100, 9000, 1480, NULL, 0);
	CHECK_EQ(h_stat("udp", "drop_csum"), 1);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);

	make_udp(9000, 40000, 5000);
	put16(dgram + UDP_LEN, 9001);
	inject_frags(H_IP, IPPROTO_UDP, 1101, 9000, 1480, NULL, 0);
	CHECK_EQ(h_stat("udp", "drop_short"), 1);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);

	make_udp(9000, 40000, 5000);
	inject_frags(H_IP, IPPROTO_UDP, 1102, 9000, 1480, NULL, 0);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);

	/* polled, queue of 1 */
	struct udp_pcb *q = udp_new();
	CHECK(q != NULL);
	if (!q)
		return;
	CHECK_EQ(udp_bind(q, 0, 5000), 0);
	CHECK_EQ(udp_set_queue(q, 1), 0);
	make_udp(9000, 40000, 5000);
	inject_frags(H_IP, IPPROTO_UDP, 1103, 9000, 1480, NULL, 0);
	inject_frags(H_IP, IPPROTO_UDP, 1104, 9000, 1480, NULL, 0);
	CHECK_EQ(h_stat("udp", "drop_queue_full"), 1);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT - 7);
	uint32_t ip = 0;
	uint16_t port = 0;
	struct pkt *p = udp_poll(q, &ip, &port);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(ip, PEER_IP);
		CHECK_EQ(port, 40000);
		CHECK_EQ(pkt_chain_len(p), 9000 - UDP_HLEN);
		CHECK_EQ(chain_flat(p), 9000 - UDP_HLEN);
		CHECK(!memcmp(flat, pat, 9000 - UDP_HLEN));
		pkt_free(p);
	}
	inject_frags(H_IP, IPPROTO_UDP, 1105, 9000, 1480, NULL, 0);
	udp_remove(q); /* purges the queued chain */
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);

	/* UDP length short of the IP payload: the chain ends there */
	struct udp_pcb *c = udp_new();
	CHECK_EQ(udp_bind(c, 0, 5001), 0);
	udp_recv(c, keep_chain, NULL);
	for (unsigned cut = 0; cut < 3; cut++) {
		unsigned ulen = cut == 0 ? 2968 : cut == 1 ? 2961 : 100; /* at a piece's end, inside, in the head */
		make_udp(ulen, 40000, 5001);
		memcpy(dgram + ulen, pat + 3000, 9000 - ulen); /* trailing bytes not in the datagram */
		got_chain = NULL;
		inject_frags(H_IP, IPPROTO_UDP, (uint16_t)(1106 + cut), 9000, 1480, NULL, 0);
		CHECK(got_chain != NULL);
		if (!got_chain)
			continue;
		CHECK_EQ(pkt_chain_len(got_chain), ulen - UDP_HLEN);
		CHECK_EQ(chain_flat(got_chain), ulen - UDP_HLEN);
		CHECK(!memcmp(flat, pat, ulen - UDP_HLEN));
		/* only the pieces holding UDP bytes are kept */
		CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT - (IP_HLEN + ulen + 1479) / 1480);
		pkt_free(got_chain);
		CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);
	}
	udp_remove(c);
	idle_check();
}

/* A chain an application builds: pieces that are 8-byte multiples go out
 * one fragment each, no copy; odd ones are copied into MTU-sized
 * fragments (ip.tx_frag_copy), the checksum right across odd pieces; one
 * over 65,507 bytes is refused and freed. */
static void test_sendto_chain(void)
{
	static const unsigned even[] = {1000, 1472, 8, 37};
	static const unsigned odd[] = {333, 777, 1, 1001, 5, 1400, 2};
	setup();
	struct udp_pcb *pcb = udp_new();
	CHECK(pcb != NULL);
	if (!pcb)
		return;
	CHECK_EQ(udp_bind(pcb, 0, 6000), 0);
	for (int k = 0; k < 2; k++) {
		const unsigned *sz = k ? odd : even;
		int np = k ? 7 : 4;
		struct pkt *head = NULL, *tail = NULL;
		unsigned off = 0;
		for (int i = 0; i < np; i++) {
			struct pkt *q = pkt_alloc(PKT_APP);
			CHECK(q != NULL);
			if (!q)
				return;
			memcpy(q->data, pat + off, sz[i]);
			q->len = (uint16_t)sz[i];
			off += sz[i];
			if (tail)
				tail->frag_next = q;
			else
				head = q;
			tail = q;
		}
		h_reset_sent();
		uint32_t allocs = pkt_stats.alloc, copies = h_stat("ip", "tx_frag_copy");
		CHECK_EQ(udp_sendto(pcb, head, PEER_IP, 7000), 0);
		check_wire_udp(h_nsent, 6000, 7000, pat, off, 0);
		if (!k) {
			CHECK_EQ(h_nsent, np);
			CHECK_EQ(pkt_stats.alloc, allocs);
			CHECK_EQ(h_stat("ip", "tx_frag_copy"), copies);
			CHECK_EQ(get16(h_sent_ip(0) + IP_LEN), IP_HLEN + UDP_HLEN + 1000);
		} else {
			CHECK_EQ(h_nsent, (int)((UDP_HLEN + off + 1479) / 1480));
			CHECK_EQ(h_stat("ip", "tx_frag_copy"), copies + (uint32_t)h_nsent);
		}
		CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);
	}
	/* 46 pieces of 1480: 68,080 bytes, more than a datagram holds */
	struct pkt *head = NULL;
	for (int i = 0; i < 46; i++) {
		struct pkt *q = pkt_alloc(PKT_APP);
		q->len = 1480;
		q->frag_next = head;
		head = q;
	}
	h_reset_sent();
	CHECK_EQ(udp_sendto(pcb, head, PEER_IP, 7000), NET_ERR_ARG);
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);
	udp_remove(pcb);
	idle_check();
}

/* A PCB with its own TTL answers a reassembled datagram through
 * udp_sendto: still one fragment per piece, no copy. */
static void ttl_reply(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	(void)arg;
	udp_reply(pcb, p);
}

static void test_reply_chain_ttl(void)
{
	setup();
	struct udp_pcb *pcb = udp_new();
	CHECK(pcb != NULL);
	if (!pcb)
		return;
	CHECK_EQ(udp_bind(pcb, 0, 6001), 0);
	CHECK_EQ(udp_set_ttl(pcb, 9), 0);
	udp_recv(pcb, ttl_reply, NULL);
	make_udp(20000, 40001, 6001);
	uint32_t allocs = pkt_stats.alloc;
	int n = inject_frags(H_IP, IPPROTO_UDP, 1200, 20000, 1480, NULL, 0);
	CHECK_EQ(pkt_stats.alloc - allocs, (uint32_t)n);
	CHECK_EQ(h_nsent, n);
	for (int i = 0; i < h_nsent && i < H_MAX_FRAMES; i++)
		CHECK_EQ(h_sent_ip(i)[IP_TTL], 9);
	int mf = 1;
	CHECK_EQ(check_wire_frags(0, h_nsent, get16(h_sent_ip(0) + IP_ID), wire, sizeof wire, &mf),
		 20000);
	uint32_t ps = csum_pseudo(H_IP, PEER_IP, IPPROTO_UDP, 20000);
	CHECK_EQ(csum_fold(csum_add(ps, wire, 20000)), 0xffff);
	CHECK_EQ(get16(wire + UDP_SPORT), 6001);
	CHECK(!memcmp(wire + UDP_HLEN, pat, 20000 - UDP_HLEN));
	CHECK_EQ(h_stat("ip", "tx_frag_copy"), 0);
	udp_remove(pcb);
	idle_check();
}

/* pkt_chain_sum against a flat sum, pieces of every parity. */
static void test_chain_sum(void)
{
	setup();
	rng = 5;
	for (int round = 0; round < 200; round++) {
		struct pkt *head = NULL, *tail = NULL;
		unsigned off = 0;
		int np = 1 + (int)rnd(6);
		for (int i = 0; i < np; i++) {
			struct pkt *q = pkt_alloc(PKT_STACK);
			unsigned n = rnd(40);
			q->data += rnd(2); /* odd addresses too */
			memcpy(q->data, pat + off, n);
			q->len = (uint16_t)n;
			off += n;
			if (tail)
				tail->frag_next = q;
			else
				head = q;
			tail = q;
		}
		uint32_t seed = rnd(0x10000);
		CHECK_EQ(csum_fold(pkt_chain_sum(seed, head)), csum_fold(csum_add(seed, pat, off)));
		pkt_free(head);
	}
	idle_check();
}

int main(void)
{
	TEST(test_in_order);
	TEST(test_reverse);
	TEST(test_permutations);
	TEST(test_random);
	TEST(test_duplicates);
	TEST(test_overlap);
	TEST(test_too_big);
	TEST(test_bad_length);
	TEST(test_conflicting_ends);
	TEST(test_timeout);
	TEST(test_all_slots_busy);
	TEST(test_flood);
	TEST(test_budget);
	TEST(test_release_reuse);
	TEST(test_held_blocks);
	TEST(test_double_free);
	TEST(test_first_header_kept);
	TEST(test_small_hole);
	TEST(test_key);
	TEST(test_flags);
	TEST(test_frag_output);
	TEST(test_frag_output_options);
	TEST(test_frag_output_keeps_mf);
	TEST(test_frag_output_df);
	TEST(test_frag_output_nomem);
	TEST(test_frag_output_held);
	TEST(test_stack_ping);
	TEST(test_stack_udp_echo);
	TEST(test_stack_closed_port);
	TEST(test_stack_bcast_ping);
	TEST(test_stack_timeout);
	TEST(test_stack_timeout_link_bcast);
	TEST(test_big_echo);
	TEST(test_chain_drops);
	TEST(test_sendto_chain);
	TEST(test_reply_chain_ttl);
	TEST(test_chain_sum);
	DONE("ipfrag");
}
