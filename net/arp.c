/*
 * ARP (RFC 826) with the cheap parts of RFC 5227: a small static cache,
 * a bounded queue per unresolved address, address-conflict defence.
 *
 * Learning follows RFC 826's merge rule narrowed as in RFC 1122 2.3.2.1:
 * an address already in the cache is updated from any packet, but a new
 * entry is only made for a host that asked us something (it is about to
 * talk to us) or that answers a request of ours. Anything else could fill
 * the cache with whatever a stranger broadcasts.
 */
#include "net.h"

enum { ARP_FREE, ARP_PENDING, ARP_STABLE };

struct arp_entry {
	uint32_t ip;
	uint32_t stamp;  /* stable: when confirmed; pending: last request sent */
	uint32_t asked;  /* stable: last refresh request sent */
	struct pktq q;   /* pending: held IP packets, oldest first */
	uint8_t mac[6];
	uint8_t state;
	uint8_t tries;   /* pending: requests sent; stable: refreshes sent */
};

static struct arp_entry cache[CFG_ARP_ENTRIES];
static struct arp_entry *hint = cache; /* last entry used: the echo reply's lookup */
static uint32_t defended_at;
static uint8_t defended;
static uint32_t probed;        /* the address arp_watch watches, 0: none */
static uint8_t probe_conflict; /* someone else claimed it meanwhile */

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

void arp_init(void)
{
	for (int i = 0; i < CFG_ARP_ENTRIES; i++)
		cache[i] = (struct arp_entry){0};
	hint = cache;
	defended = 0;
	probed = 0;
	probe_conflict = 0;
}

/* Write a whole ARP packet for our address into a. */
static void arp_fill(uint8_t *a, uint16_t op, const uint8_t tha[6], uint32_t tpa)
{
	put16(a + ARP_HTYPE, 1);
	put16(a + ARP_PTYPE, ETHTYPE_IP);
	a[ARP_HLEN] = 6;
	a[ARP_PLEN] = 4;
	put16(a + ARP_OPER, op);
	for (int i = 0; i < 6; i++) {
		a[ARP_SHA + i] = netif.mac[i];
		a[ARP_THA + i] = tha[i];
	}
	put32(a + ARP_SPA, netif.ip);
	put32(a + ARP_TPA, tpa);
}

/* A request for tpa, broadcast, or unicast to dst (a refresh). */
static void arp_request(const uint8_t *dst, uint32_t tpa)
{
	struct pkt *p = pkt_alloc(PKT_STACK);
	if (!p)
		return; /* counted by the pool; a retry or the next use asks again */
	p->len = ARP_LEN;
	arp_fill(p->data, ARP_OP_REQUEST, zero_mac, tpa);
	STAT(arp, tx_request);
	eth_output(p, dst ? dst : bcast_mac, ETHTYPE_ARP);
}

/* RFC 5227 announcement: a request with sender = target = our address. */
void arp_announce(void)
{
	arp_request(NULL, netif.ip);
}

/* RFC 5227 2.1.1: a probe is a request from sender address 0 (ours is
 * 0 while an address is being checked, so arp_fill writes that). */
void arp_probe(uint32_t ip)
{
	arp_request(NULL, ip);
}

void arp_watch(uint32_t ip)
{
	probed = ip;
	probe_conflict = 0;
}

int arp_conflict(void)
{
	return probed && probe_conflict;
}

/* Another host uses the address we watch (it sends from it), or probes
 * for it at the same time (RFC 5227 2.1.1, last paragraph). */
static void arp_seen(uint16_t op, uint32_t spa, uint32_t tpa)
{
	if (probed && (spa == probed || (spa == 0 && op == ARP_OP_REQUEST && tpa == probed)))
		probe_conflict = 1;
}

static struct arp_entry *arp_find(uint32_t ip)
{
	if (hint->ip == ip && hint->state != ARP_FREE)
		return hint;
	for (int i = 0; i < CFG_ARP_ENTRIES; i++)
		if (cache[i].ip == ip && cache[i].state != ARP_FREE)
			return hint = &cache[i];
	return NULL;
}

static void arp_drop_queue(struct arp_entry *e)
{
	net_stats.arp_queue_drop += pktq_purge(&e->q);
}

/*
 * A slot for a new address: a free one, else the oldest stable entry,
 * else the oldest pending one, preferring one with nothing queued.
 */
static struct arp_entry *arp_slot(void)
{
	struct arp_entry *best = NULL;
	int best_rank = -1;
	for (int i = 0; i < CFG_ARP_ENTRIES; i++) {
		struct arp_entry *e = &cache[i];
		if (e->state == ARP_FREE)
			return e;
		int rank = e->state == ARP_STABLE ? 2 : e->q.len == 0;
		if (rank > best_rank ||
		    (rank == best_rank && (int32_t)(e->stamp - best->stamp) < 0)) {
			best = e;
			best_rank = rank;
		}
	}
	STAT(arp, cache_full);
	arp_drop_queue(best);
	best->state = ARP_FREE;
	return best;
}

static void arp_flush(struct arp_entry *e)
{
	struct pkt *p;
	while ((p = pktq_pop(&e->q)) != NULL) {
		pkt_own(p, PKT_STACK);
		eth_output(p, e->mac, ETHTYPE_IP);
	}
}

static void arp_learn(struct arp_entry *e, const uint8_t *mac)
{
	for (int i = 0; i < 6; i++)
		e->mac[i] = mac[i];
	e->state = ARP_STABLE;
	e->stamp = net_clock;
	e->tries = 0;
	arp_flush(e);
}

static void arp_defend(void)
{
	uint32_t now = net_now();
	if (defended && now - defended_at < CFG_ARP_DEFEND_MS)
		return;
	defended = 1;
	defended_at = now;
	STAT(arp, defended);
	arp_announce();
}

OUT_OF_LINE void arp_input(struct pkt *p)
{
	uint8_t *a = p->data;

	if (p->len < ARP_LEN || get16(a + ARP_HTYPE) != 1 || get16(a + ARP_PTYPE) != ETHTYPE_IP ||
	    a[ARP_HLEN] != 6 || a[ARP_PLEN] != 4) {
		STAT(arp, drop_malformed);
		goto drop;
	}
	uint16_t op = get16(a + ARP_OPER);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY) {
		STAT(arp, drop_malformed);
		goto drop;
	}
	uint8_t sha[6];
	for (int i = 0; i < 6; i++)
		sha[i] = a[ARP_SHA + i];
	uint32_t spa = get32(a + ARP_SPA);
	uint32_t tpa = get32(a + ARP_TPA);
	int for_us = netif.ip && tpa == netif.ip;

	if (mac_is_mcast(sha) || mac_is_zero(sha) || eth_is_ours(sha) ||
	    (spa == 0 && op != ARP_OP_REQUEST) || (spa && !ip_is_unicast(spa))) {
		STAT(arp, drop_bad_sender);
		goto drop;
	}
	arp_seen(op, spa, tpa);
	if (spa && spa == netif.ip) {
		/* someone else uses our address: keep it, tell the link once in a while */
		STAT(arp, conflict);
		arp_defend();
		goto drop;
	}

	struct arp_entry *e = spa ? arp_find(spa) : NULL; /* a probe (spa 0) teaches nothing */
	if (!e && for_us && op == ARP_OP_REQUEST && spa) {
		e = arp_slot();
		e->ip = spa;
		e->q = (struct pktq){0};
	}
	if (e)
		arp_learn(e, sha);

	if (for_us && op == ARP_OP_REQUEST) {
		/* Answer in the request's own buffer. A probe (spa 0) gets its
		 * answer too: that is how the prober learns the address is taken. */
		p->len = ARP_LEN;
		arp_fill(a, ARP_OP_REPLY, sha, spa);
		STAT(arp, replied);
		STAT(arp, tx_reply);
		eth_output(p, sha, ETHTYPE_ARP);
		return;
	}
	if (e)
		STAT(arp, learned);
	else
		STAT(arp, ignored); /* unsolicited reply, request for someone else, probe */
drop:
	pkt_free(p);
}

/* Multicast and broadcast need no resolution (RFC 1112 6.4 mapping). */
static int arp_group(struct pkt *p, uint32_t ip)
{
	uint8_t mac[6] = {0x01, 0x00, 0x5e, (uint8_t)(ip >> 16 & 0x7f), (uint8_t)(ip >> 8), (uint8_t)ip};
	return eth_output(p, ip_is_mcast(ip) ? mac : bcast_mac, ETHTYPE_IP);
}

/* Everything but the common case: other entries, refresh, resolution. */
static OUT_OF_LINE int arp_resolve(struct pkt *p, uint32_t nexthop)
{
	if (ip_is_bcast(nexthop) || ip_is_mcast(nexthop))
		return arp_group(p, nexthop);
	if (nexthop == netif.ip || nexthop == 0) {
		/* no loopback, and no cache entry for ourselves */
		STAT(ip, tx_err);
		pkt_free(p);
		return NET_ERR_RTE;
	}
	struct arp_entry *e = arp_find(nexthop);
	if (e && e->state == ARP_STABLE) {
		/* Ask again before the entry expires, so a busy peer never
		 * goes through a pending phase (packets held, latency). */
		uint32_t now = net_clock;
		if (now - e->stamp >= CFG_ARP_MAX_AGE_MS - CFG_ARP_REFRESH_MS &&
		    (e->tries == 0 || now - e->asked >= CFG_ARP_RETRY_MS)) {
			e->tries++;
			e->asked = now;
			arp_request(e->mac, nexthop);
		}
		return eth_output(p, e->mac, ETHTYPE_IP);
	}
	if (!e) {
		e = arp_slot();
		e->ip = nexthop;
		e->state = ARP_PENDING;
		e->q = (struct pktq){0};
		e->tries = 1;
		e->stamp = net_clock;
		hint = e;
		arp_request(NULL, nexthop);
	}
	/* Hold the packet. A full queue loses its oldest packet: the newest
	 * is the one the application most likely still cares about. */
	if (e->q.len >= CFG_ARP_QUEUE) {
		pkt_free(pktq_pop(&e->q));
		STAT(arp, queue_drop);
	}
	pkt_own(p, PKT_QUEUED);
	pktq_push(&e->q, p);
	STAT(arp, queued);
	return NET_OK;
}

int arp_output(struct pkt *p, uint32_t nexthop)
{
	/* the common case, out of the way of everything else: the last
	 * peer again, well within its lifetime */
	struct arp_entry *e = hint;
	if (e->ip == nexthop && e->state == ARP_STABLE &&
	    net_clock - e->stamp < CFG_ARP_MAX_AGE_MS - CFG_ARP_REFRESH_MS)
		return eth_output(p, e->mac, ETHTYPE_IP);
	return arp_resolve(p, nexthop);
}

void arp_tick(uint32_t now)
{
	for (int i = 0; i < CFG_ARP_ENTRIES; i++) {
		struct arp_entry *e = &cache[i];
		if (e->state == ARP_STABLE && now - e->stamp >= CFG_ARP_MAX_AGE_MS) {
			e->state = ARP_FREE;
		} else if (e->state == ARP_PENDING && now - e->stamp >= CFG_ARP_RETRY_MS) {
			if (e->tries >= CFG_ARP_TRIES) {
				STAT(arp, timeout);
				arp_drop_queue(e);
				e->state = ARP_FREE;
				continue;
			}
			e->tries++;
			e->stamp = now;
			arp_request(NULL, e->ip);
		}
	}
}

void arp_clear(void)
{
	for (int i = 0; i < CFG_ARP_ENTRIES; i++) {
		arp_drop_queue(&cache[i]);
		cache[i].state = ARP_FREE;
	}
}

int arp_entry_get(unsigned i, uint32_t *ip, uint8_t mac[6], int *state, uint32_t *age)
{
	if (i >= CFG_ARP_ENTRIES)
		return -1;
	const struct arp_entry *e = &cache[i];
	*ip = e->ip;
	*state = e->state == ARP_FREE ? 0 : e->state == ARP_PENDING ? 1 : 2;
	*age = net_now() - e->stamp;
	for (int k = 0; k < 6; k++)
		mac[k] = e->mac[k];
	return 0;
}
