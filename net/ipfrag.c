/*
 * IPv4 reassembly (RFC 791, RFC 815, RFC 5722's rule) and output
 * fragmentation, both without copying the payload.
 *
 * Reassembly keeps each fragment in the pool buffer it arrived in. A
 * datagram in progress is a list of those buffers sorted by offset,
 * linked through frag_next; each piece's data/len is its payload, and
 * its IP header stays in the buffer (at p->l3), where its offset is read
 * from and where an in-place reply writes the outgoing fragment's header.
 * Once the pieces cover [0, total) the first one becomes the head of the
 * chain: its data moves back to its IP header, whose length and fragment
 * fields now describe the whole datagram, and the chain goes up as one
 * datagram (struct pkt's frag_next; pkt_chain_len, pkt_free of the head
 * frees all of it).
 *
 * Overlaps. A fragment that repeats a held one exactly (same offset,
 * length and bytes) is a retransmission: it is dropped (ip.frag_dup)
 * and the datagram kept. Any other overlap discards the whole datagram
 * (reass_bad), RFC 5722's rule: trimming would let a second sender
 * choose which bytes a datagram ends up with, and pieces that never
 * overlap are what lets each one be sent back as a fragment of its own.
 *
 * Limits (net/config.h): CFG_REASS_SLOTS datagrams in progress,
 * CFG_REASS_MAX_BUFS buffers per datagram (beyond that it is discarded:
 * reass_toobig), CFG_REASS_TOTAL_BUFS buffers held by all of them, which
 * leaves the pool enough for the NIC's RX ring whatever arrives. When a
 * newcomer finds no free slot, or the budget spent, the oldest
 * incomplete datagram is evicted (reass_evict): a sender that leaves two
 * fragments every 30 s then costs others nothing but its own slot's age,
 * where refusing newcomers (as the 8 KiB copy slots did) would deny
 * reassembly to everyone for the whole timeout. A datagram in progress
 * times out CFG_REASS_TIMEOUT_MS after its first fragment (any offset).
 */
#include "net.h"

_Static_assert(CFG_REASS_MAX_BUFS <= 65535 && CFG_REASS_TOTAL_BUFS <= 65535,
	       "reassembly buffer counts are 16-bit");

struct reass {
	uint8_t used;
	uint8_t proto;
	uint8_t bcast;   /* PKT_F_BCAST if any fragment came to a broadcast */
	uint16_t id;
	uint16_t nbufs;  /* pieces held */
	uint32_t src, dst;
	uint32_t born;   /* net_now() when the first fragment (any offset) came */
	uint32_t seq;    /* order of arrival, for eviction: under a flood many
	                    datagrams start within the same millisecond */
	uint32_t total;  /* payload length, from the last fragment; 0 = not yet */
	uint32_t got;    /* payload bytes held (pieces never overlap) */
	uint32_t hi;     /* highest payload end held */
	struct pkt *first; /* pieces, by offset */
	struct pkt *last;  /* highest offset: pieces mostly come in order,
	                      and walking from first each time is quadratic */
};

static struct reass slots[CFG_REASS_SLOTS];
static unsigned held; /* buffers held by every slot together */
static uint32_t seq;  /* datagrams started */

/* The fragment offset of a held piece, from its own IP header. */
static unsigned poff(const struct pkt *q)
{
	return (get16(q->head + q->l3 + IP_FRAG) & IP_OFFMASK) * 8u;
}

static void slot_clear(struct reass *r)
{
	*r = (struct reass){0};
}

void ip_reass_init(void)
{
	/* net_init after a pool reset: whatever the slots pointed to is
	 * the pool's again, so they are forgotten, not freed. */
	for (int i = 0; i < CFG_REASS_SLOTS; i++)
		slot_clear(&slots[i]);
	held = 0;
}

/* Give a datagram in progress up, its buffers back to the pool. */
static void discard(struct reass *r)
{
	held -= r->nbufs;
	pkt_free(r->first); /* the whole list */
	slot_clear(r);
}

/* The oldest datagram in progress other than keep, or NULL. */
static struct reass *oldest(const struct reass *keep)
{
	struct reass *o = NULL;
	for (int i = 0; i < CFG_REASS_SLOTS; i++) {
		struct reass *r = &slots[i];
		if (r->used && r != keep && (!o || seq - r->seq > seq - o->seq))
			o = r;
	}
	return o;
}

static void evict(struct reass *r)
{
	STAT(ip, reass_evict);
	discard(r);
}

/* Only slots still collecting exist: a late duplicate of a datagram that
 * is already complete starts a new one (and times out). */
static struct reass *lookup(const uint8_t *h)
{
	for (int i = 0; i < CFG_REASS_SLOTS; i++) {
		struct reass *r = &slots[i];
		if (r->used && r->id == get16(h + IP_ID) && r->src == get32(h + IP_SRC) &&
		    r->dst == get32(h + IP_DST) && r->proto == h[IP_PROTO])
			return r;
	}
	return NULL;
}

/* A slot for a new datagram: a free one, or the oldest one's. */
static struct reass *slot_new(const uint8_t *h)
{
	struct reass *r = NULL;
	for (int i = 0; i < CFG_REASS_SLOTS && !r; i++)
		if (!slots[i].used)
			r = &slots[i];
	if (!r) {
		r = oldest(NULL);
		evict(r);
	}
	r->used = 1;
	r->id = get16(h + IP_ID);
	r->src = get32(h + IP_SRC);
	r->dst = get32(h + IP_DST);
	r->proto = h[IP_PROTO];
	r->born = net_now();
	r->seq = ++seq;
	return r;
}

/* Reject the fragment; with r, also the datagram it belongs to, counted
 * under why (reass_bad, reass_toobig). */
static struct pkt *drop(struct pkt *p, struct reass *r, uint32_t *why)
{
	if (r) {
		discard(r);
		(*why)++;
	}
	STAT(ip, drop_frag);
	pkt_free(p);
	return NULL;
}

/* The pieces cover [0, total): the first becomes the chain's head, its
 * header describing the whole datagram. The other pieces keep theirs. */
static struct pkt *finish(struct reass *r)
{
	struct pkt *p = r->first;
	uint8_t *h = p->head + p->l3;
	unsigned hl = (unsigned)(p->data - h);

	put16(h + IP_LEN, (uint16_t)(hl + r->total));
	put16(h + IP_FRAG, get16(h + IP_FRAG) & ~(IP_MF | IP_OFFMASK));
	ip_hdr_csum(h, hl);
	p->data = h;
	p->len = (uint16_t)(p->len + hl);
	/* A NIC's checksum verdict on one piece says nothing of the whole;
	 * "broadcast" stays, so nobody answers a broadcast in pieces. */
	p->flags = r->bcast;
	for (struct pkt *q = p->frag_next; q; q = q->frag_next)
		q->flags = 0;
	held -= r->nbufs;
	slot_clear(r);
	STAT(ip, reass_ok);
	return p;
}

struct pkt *ip_reass(struct pkt *p)
{
	const uint8_t *h = p->data;
	unsigned hl = (h[IP_VHL] & 0xf) * 4u;

	/* ip_input checked the header; this only guards our own indexing. */
	if (p->len < IP_HLEN || hl < IP_HLEN || hl > p->len || p->data != p->head + p->l3)
		return drop(p, NULL, NULL);

	uint16_t frag = get16(h + IP_FRAG);
	unsigned off = (frag & IP_OFFMASK) * 8u;
	unsigned len = p->len - hl, end = off + len;
	int last = !(frag & IP_MF);
	struct reass *r = lookup(h);

	if (len == 0 || (!last && len % 8))
		return drop(p, NULL, NULL);
	if (hl + end > 65535) /* IPv4's limit (the "ping of death") */
		return drop(p, r, &net_stats.ip_reass_toobig);
	if (r && (last ? (r->total && r->total != end) || r->hi > end
		       : r->total && end > r->total))
		return drop(p, r, &net_stats.ip_reass_bad); /* disagrees on the end */

	/* Where it goes: after prev, before q. */
	struct pkt *prev = NULL, *q = r ? r->first : NULL;
	if (r && poff(r->last) < off)
		prev = r->last, q = NULL;
	while (q && poff(q) < off) {
		prev = q;
		q = q->frag_next;
	}
	if (q && poff(q) == off && q->len == len && !memcmp(q->data, h + hl, len)) {
		STAT(ip, frag_dup); /* a retransmission: the held copy stays */
		return drop(p, NULL, NULL);
	}
	if ((prev && poff(prev) + prev->len > off) || (q && poff(q) < end))
		return drop(p, r, &net_stats.ip_reass_bad);
	if (r && r->nbufs >= CFG_REASS_MAX_BUFS)
		return drop(p, r, &net_stats.ip_reass_toobig);
	if (!r)
		r = slot_new(h);
	/* r holds fewer than CFG_REASS_MAX_BUFS <= CFG_REASS_TOTAL_BUFS, so
	 * while the budget is spent some other datagram holds buffers. */
	while (held >= CFG_REASS_TOTAL_BUFS)
		evict(oldest(r));

	r->bcast |= p->flags & PKT_F_BCAST;
	pkt_pull(p, hl);
	p->frag_next = q;
	if (prev)
		prev->frag_next = p;
	else
		r->first = p;
	if (!q)
		r->last = p;
	r->nbufs++;
	held++;
	r->got += len;
	if (end > r->hi)
		r->hi = end;
	if (last)
		r->total = end;
	if (!r->total || r->got != r->total) {
		STAT(ip, frag_held);
		return NULL;
	}
	return finish(r); /* no overlaps: got == total means no holes */
}

/* RFC 792/1122: tell the sender, quoting the first fragment, which is
 * held whole with its header (a non-last fragment carries 8 bytes or
 * more). icmp_error only reads this view of its buffer. */
static void time_exceeded(struct reass *r)
{
	const struct pkt *q = r->first;
	uint8_t *h = q->head + q->l3;
	struct pkt v = {
		.data = h,
		.len = (uint16_t)(q->data - h + 8),
		.owner = PKT_STACK,
		.head = q->head,
		.cap = q->cap,
		.l3 = q->l3,
		.index = q->index,
		.flags = r->bcast, /* RFC 1122 3.2.2: no error about a link broadcast */
	};
	icmp_error(&v, ICMP_TIMXCEED, ICMP_TIMXCEED_REASS);
}

void ip_reass_tick(uint32_t now)
{
	for (int i = 0; i < CFG_REASS_SLOTS; i++) {
		struct reass *r = &slots[i];
		if (!r->used || now - r->born < CFG_REASS_TIMEOUT_MS)
			continue;
		if (poff(r->first) == 0)
			time_exceeded(r);
		discard(r);
		STAT(ip, reass_timeout);
	}
}

unsigned ip_reass_held(void)
{
	return held;
}

/* ---- chains ---- */

uint32_t pkt_chain_sum(uint32_t sum, const struct pkt *p)
{
	unsigned odd = 0;
	for (; p; p = p->frag_next) {
		uint32_t s = csum_fold(csum_add(0, p->data, p->len));
		/* A piece that starts at an odd offset of the datagram has its
		 * bytes in the other halves of the 16-bit words. */
		if (odd)
			s = ((s & 0xff) << 8) | (s >> 8);
		sum = csum_fold(sum) + s;
		odd ^= p->len & 1u;
	}
	return sum;
}

/*
 * Turn each piece of a received chain (p->data at the reply's transport
 * header, in place over the request's; the other pieces' data at their
 * payload) into an outgoing fragment where it lies: the request
 * fragment's IP header in front of it becomes the reply fragment's
 * (addresses swapped, one new ID, offset and MF from the pieces' lengths),
 * its Ethernet header has its MACs swapped (eth_reply). Only where every
 * piece can: a 20-byte header, word-aligned, right in front of its
 * data, with an Ethernet header before it, and a fragment that fits the
 * MTU with its payload a multiple of 8 (all but the last). Reassembled
 * chains are so, as the fragments came in. Otherwise through ip_output,
 * whose fragmentation takes the pieces as they are, or copies.
 */
static int chain_in_place(const struct pkt *p)
{
	if (p->flags & PKT_F_BCAST)
		return 0;
	for (const struct pkt *q = p; q; q = q->frag_next) {
		const uint8_t *h = q->head + q->l3;
		if (q->l3 < ETH_HLEN || q->data != h + IP_HLEN || h[IP_VHL] != 0x45 ||
		    ((uintptr_t)h & 3) || !q->len || q->len + IP_HLEN > netif.mtu ||
		    (q->frag_next && q->len % 8))
			return 0;
	}
	return 1;
}

int ip_reply_chain(struct pkt *p, uint8_t proto)
{
	if (!chain_in_place(p)) {
		uint32_t dst = get32(pkt_iph(p) + IP_SRC);
		p->flags = 0; /* they described the request */
		return ip_output(p, 0, dst, proto);
	}
	uint16_t id = ip_new_id();
	unsigned off = 0;
	int err = NET_OK;
	STAT(ip, tx);
	for (struct pkt *q = p, *next; q; q = next) {
		next = q->frag_next;
		q->frag_next = NULL;
		uint8_t *h = q->head + q->l3;
		unsigned n = q->len, total = IP_HLEN + n;
		uint32_t src = get32(h + IP_SRC), dst = get32(h + IP_DST);
		h[IP_TOS] = 0;
		put16(h + IP_LEN, (uint16_t)total);
		put16(h + IP_ID, id);
		put16(h + IP_FRAG, (uint16_t)(off / 8 | (next ? IP_MF : 0)));
		h[IP_TTL] = CFG_IP_TTL;
		h[IP_PROTO] = proto;
		put32(h + IP_SRC, dst);
		put32(h + IP_DST, src);
		ip_hdr_csum20(h);
		q->data = h - ETH_HLEN;
		q->len = (uint16_t)(total + ETH_HLEN);
		q->flags = 0;
		STAT(ip, tx_frag);
		/* The rest would be useless to the receiver without this one. */
		if ((err = eth_reply(q)) < 0) {
			if (next)
				pkt_free(next);
			break;
		}
		off += n;
	}
	return err;
}

/* ---- output ---- */

/* Room for the longest IPv4 header (IHL 15). */
#define REASS_HMAX 60

/* Header for the second and later fragments: the options with the copy
 * flag only (RFC 791), padded to a 4-byte multiple. A malformed option
 * ends the copy; the header is ours, so that only loses options. */
static unsigned later_header(const uint8_t *h, unsigned hl, uint8_t *out)
{
	unsigned o = IP_HLEN, i = IP_HLEN;

	memcpy(out, h, IP_HLEN);
	while (i < hl && h[i] != 0) {
		if (h[i] == 1) { /* NOP: not copied */
			i++;
			continue;
		}
		if (i + 1 >= hl || h[i + 1] < 2 || i + h[i + 1] > hl)
			break;
		if (h[i] & 0x80) {
			memcpy(out + o, h + i, h[i + 1]);
			o += h[i + 1];
		}
		i += h[i + 1];
	}
	while (o % 4)
		out[o++] = 0;
	out[IP_VHL] = (uint8_t)(0x40 | o / 4);
	return o;
}

/* n bytes of the chain p from byte 'from' on (past p->data) to d. */
static void chain_copy(const struct pkt *p, unsigned from, uint8_t *d, unsigned n)
{
	for (; p && n; p = p->frag_next) {
		if (from >= p->len) {
			from -= p->len;
			continue;
		}
		unsigned k = p->len - from < n ? p->len - from : n;
		memcpy(d, p->data + from, k);
		d += k;
		n -= k;
		from = 0;
	}
}

/* One fragment in a new pool buffer: header fh (fhl bytes), then n bytes
 * of p's payload from offset off on (after the header of hl bytes). The
 * copying path: a datagram in one buffer larger than the MTU, or a chain
 * whose pieces cannot each be a fragment. */
static struct pkt *frag_build(const uint8_t *fh, unsigned fhl, const struct pkt *p, unsigned hl,
			      unsigned off, unsigned n, uint16_t frag)
{
	struct pkt *q = pkt_alloc(PKT_STACK);

	if (!q)
		return NULL;
	q->data = q->head + CFG_PKT_LINK_OFF + ETH_HLEN;
	q->len = (uint16_t)(fhl + n);
	q->l3 = CFG_PKT_LINK_OFF + ETH_HLEN;
	memcpy(q->data, fh, fhl);
	chain_copy(p, hl + off, q->data + fhl, n);
	put16(q->data + IP_LEN, q->len);
	put16(q->data + IP_FRAG, frag);
	ip_hdr_csum(q->data, fhl);
	return q;
}

static int frag_fail(struct pkt *p, int err)
{
	STAT(ip, tx_err);
	pkt_free(p);
	return err;
}

/* Can each piece of the chain p (p->data at the IP header, hl bytes)
 * go out as one fragment, its header pushed into its own headroom? */
static int pieces_fit(const struct pkt *p, unsigned hl, unsigned later_hl, unsigned mtu)
{
	for (const struct pkt *q = p; q; q = q->frag_next) {
		unsigned fhl = q == p ? hl : later_hl;
		unsigned n = q == p ? q->len - hl : q->len;
		if (!n || fhl + n > mtu || (q->frag_next && n % 8) ||
		    (q != p && pkt_headroom(q) < CFG_PKT_LINK_OFF + ETH_HLEN + fhl))
			return 0;
	}
	return 1;
}

/* Zero-copy: every piece becomes a fragment in its own buffer. The
 * header templates are copied out first (h is in the head, which the
 * first send hands away). */
static int frag_pieces(struct pkt *p, const uint8_t *later, unsigned later_hl, uint32_t nexthop)
{
	uint8_t *h = p->data;
	unsigned hl = (h[IP_VHL] & 0xf) * 4u;
	uint16_t frag = get16(h + IP_FRAG);
	unsigned base = (frag & IP_OFFMASK) * 8u, off = 0;
	int err = NET_OK;

	for (struct pkt *q = p, *next; q; q = next) {
		next = q->frag_next;
		q->frag_next = NULL;
		uint8_t *fh = q->data;
		unsigned fhl = hl;
		if (q != p) {
			fh = pkt_push(q, later_hl); /* pieces_fit checked the room */
			memcpy(fh, later, later_hl);
			fhl = later_hl;
		}
		unsigned n = q->len - fhl;
		/* An MF already set on p is kept: p may itself be a fragment. */
		put16(fh + IP_LEN, q->len);
		put16(fh + IP_FRAG, (uint16_t)((frag & ~(IP_MF | IP_OFFMASK)) | ((base + off) / 8) |
					       (next || (frag & IP_MF) ? IP_MF : 0)));
		ip_hdr_csum(fh, fhl);
		q->l3 = (uint16_t)(fh - q->head);
		q->flags = 0;
		STAT(ip, tx_frag);
		if ((err = arp_output(q, nexthop)) < 0) {
			if (next)
				pkt_free(next);
			break;
		}
		off += n;
	}
	return err;
}

int ip_frag_output(struct pkt *p, uint32_t nexthop)
{
	if (p->len < IP_HLEN)
		return frag_fail(p, NET_ERR_ARG);

	const uint8_t *h = p->data;
	unsigned hl = (h[IP_VHL] & 0xf) * 4u;
	unsigned total = get16(h + IP_LEN);
	uint16_t frag = get16(h + IP_FRAG);
	unsigned base = (frag & IP_OFFMASK) * 8u;
	/* A fragment must also fit the pool buffer behind the link headroom. */
	unsigned mtu = netif.mtu;
	if (mtu > CFG_PKT_BUFSZ - CFG_PKT_LINK_OFF - ETH_HLEN)
		mtu = CFG_PKT_BUFSZ - CFG_PKT_LINK_OFF - ETH_HLEN;

	if (frag & IP_DF)
		return frag_fail(p, NET_ERR_ARG);
	if (hl < IP_HLEN || total < hl || p->len < hl || total > pkt_chain_len(p) ||
	    mtu < hl + 8 || base + (total - hl) > 65535)
		return frag_fail(p, NET_ERR_ARG);
	if (p->frag_next)
		pkt_chain_trim(p, total);

	uint8_t later[REASS_HMAX];
	unsigned later_hl = later_header(h, hl, later);
	if (p->frag_next && pieces_fit(p, hl, later_hl, mtu))
		return frag_pieces(p, later, later_hl, nexthop);

	unsigned plen = total - hl;
	int err = NET_OK, chained = p->frag_next != NULL;

	for (unsigned off = 0; off < plen;) {
		const uint8_t *fh = off ? later : h;
		unsigned fhl = off ? later_hl : hl;
		unsigned n = (mtu - fhl) & ~7u;
		int more = off + n < plen;
		if (!more)
			n = plen - off;
		/* An MF already set on p is kept: p may itself be a fragment. */
		uint16_t f = (uint16_t)((frag & ~(IP_MF | IP_OFFMASK)) | ((base + off) / 8) |
					(more || (frag & IP_MF) ? IP_MF : 0));
		struct pkt *q = frag_build(fh, fhl, p, hl, off, n, f);
		if (!q) {
			STAT(ip, tx_err);
			err = NET_ERR_MEM;
			break;
		}
		STAT(ip, tx_frag);
		if (chained)
			STAT(ip, tx_frag_copy);
		/* The rest would be useless to the receiver without this one. */
		if ((err = arp_output(q, nexthop)) < 0)
			break;
		off += n;
	}
	pkt_free(p);
	return err;
}
