#include "pkt.h"

/*
 * The pool. Buffers and descriptors live apart so every buffer starts on
 * a 64-byte boundary (cache line, and the NIC's DMA alignment).
 */
static uint8_t pool_mem[CFG_PKT_COUNT][CFG_PKT_BUFSZ] __attribute__((aligned(64))) CFG_NOINIT;
static struct pkt pool[CFG_PKT_COUNT];
static struct pkt *free_list;
static unsigned nfree;
struct pkt_stats pkt_stats;

void pkt_pool_init(void)
{
	free_list = NULL;
	for (int i = CFG_PKT_COUNT - 1; i >= 0; i--) {
		struct pkt *p = &pool[i];
		p->head = pool_mem[i];
		p->cap = CFG_PKT_BUFSZ;
		p->index = (uint16_t)i;
		p->owner = PKT_FREE;
		p->next = free_list;
		p->frag_next = NULL;
		free_list = p;
	}
	nfree = CFG_PKT_COUNT;
	pkt_stats = (struct pkt_stats){.low_water = CFG_PKT_COUNT};
}

/* Transport headroom: NIC header + Ethernet + IPv4 (no options) + UDP. */
#define PKT_TX_HEADROOM (CFG_PKT_LINK_OFF + 14 + 20 + 8)

struct pkt *pkt_alloc(enum pkt_owner owner)
{
	struct pkt *p = free_list;
	if (!p) {
		pkt_stats.alloc_fail++;
		return NULL;
	}
	free_list = p->next;
	if (--nfree < pkt_stats.low_water)
		pkt_stats.low_water = nfree;
	pkt_stats.alloc++;
	p->next = NULL;
	p->owner = (uint8_t)owner;
	p->flags = 0;
	p->data = p->head + PKT_TX_HEADROOM;
	p->len = 0;
	p->l3 = 0; /* no IP header yet: not a received datagram */
	return p;
}

static inline int from_pool(const struct pkt *p)
{
	return p >= pool && p < pool + CFG_PKT_COUNT &&
	       (size_t)((const char *)p - (const char *)pool) % sizeof *p == 0;
}

/* Every free buffer has frag_next NULL (pool init, and a chain is
 * unlinked as it is freed), so pkt_alloc need not clear it. */
static inline int free_one(struct pkt *p)
{
#if CFG_PKT_DEBUG
	if (!from_pool(p) || p->owner == PKT_FREE) {
		pkt_stats.bad_free++; /* refuse: linking it twice would corrupt the list */
		return -1;
	}
#endif
	p->owner = PKT_FREE;
	p->next = free_list;
	free_list = p;
	nfree++;
	pkt_stats.freed++;
	return 0;
}

/* The rest of a chain, off the per-packet path. Each piece's link is
 * read before it goes back; a refused (bad) free stops the walk, as the
 * link of a buffer that was not ours says nothing. A chain is at most
 * one datagram's pieces, so the walk is bounded. */
static __attribute__((noinline)) void free_rest(struct pkt *p)
{
	while (p) {
		struct pkt *n = p->frag_next;
		if (free_one(p))
			return;
		p->frag_next = NULL;
		p = n;
	}
}

void pkt_free(struct pkt *p)
{
	struct pkt *n = p->frag_next;
	if (free_one(p))
		return;
	if (n) {
		p->frag_next = NULL;
		free_rest(n);
	}
}

void pkt_chain_trim(struct pkt *p, unsigned n)
{
	for (; p; p = p->frag_next) {
		if (n <= p->len) {
			p->len = (uint16_t)n;
			struct pkt *rest = p->frag_next;
			p->frag_next = NULL;
			if (rest)
				pkt_free(rest);
			return;
		}
		n -= p->len;
	}
}

unsigned pkt_free_count(void)
{
	return nfree;
}

unsigned pktq_purge(struct pktq *q)
{
	unsigned n = 0;
	struct pkt *p;
	while ((p = pktq_pop(q)) != NULL) {
		pkt_free(p);
		n++;
	}
	return n;
}
