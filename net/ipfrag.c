/*
 * IPv4 reassembly (RFC 791, RFC 815, RFC 5722 spirit) and output
 * fragmentation.
 *
 * Reassembly uses CFG_REASS_SLOTS static slots. Each slot owns a buffer
 * laid out as
 *
 *   [link headroom][first fragment's IP header][payload, CFG_REASS_MAX]
 *
 * The payload starts at a fixed place (room for the longest header before
 * it), so a fragment can be stored before the first one tells us how long
 * the header is; the header is then written just in front of the payload.
 * The link headroom lets the completed datagram be answered in place, like
 * any received pool buffer.
 *
 * Received bytes are tracked in a bitmap of 8-byte blocks. Every fragment
 * starts on a block boundary and every fragment but the last ends on one,
 * so a set block is always fully stored, except the final block, which the
 * last fragment writes up to the datagram's end. The checks in fits()
 * keep that true, which is what lets overlaps be compared byte for byte.
 *
 * When every slot is in use a new datagram is refused rather than evicting
 * an older one: a datagram in progress is never destroyed by a newcomer,
 * so concurrent datagrams degrade to "some complete" instead of thrashing
 * into "none complete". Stale slots (a fragment lost) come back after
 * CFG_REASS_TIMEOUT_MS, counted from the first fragment's arrival.
 */
#include "net.h"

/* Room for the longest IPv4 header (IHL 15). */
#define REASS_HMAX 60
/* Where the IP header may start at the earliest: NIC header + Ethernet. */
#define REASS_LINK (CFG_PKT_LINK_OFF + ETH_HLEN)
#define REASS_PAYLOAD (REASS_LINK + REASS_HMAX)
#define REASS_BUFSZ (REASS_PAYLOAD + CFG_REASS_MAX)
#define REASS_BLOCKS (CFG_REASS_MAX / 8)

_Static_assert(CFG_REASS_MAX % 8 == 0, "CFG_REASS_MAX must be a multiple of 8");
/* Also keeps every reassembled datagram within IPv4's 65535 bytes. */
_Static_assert(REASS_BUFSZ <= 65535, "reassembly buffer must fit pkt.cap");

enum { R_FREE, R_BUSY, R_DONE };

struct reass {
	uint8_t state;
	uint8_t proto;
	uint8_t hlen;    /* first fragment's header length; 0 until it arrives */
	uint8_t bcast;   /* PKT_F_BCAST if any fragment came to a broadcast */
	uint16_t id;
	uint32_t src, dst;
	uint32_t born;   /* net_now() when the first fragment (any offset) came */
	uint16_t total;  /* payload length, from the last fragment; 0 = not yet */
	uint16_t hi;     /* highest payload end stored so far */
	uint16_t nblk;   /* blocks set in map */
	uint8_t map[(REASS_BLOCKS + 7) / 8];
	struct pkt pkt;  /* handed out when complete */
};

static struct reass slots[CFG_REASS_SLOTS];
static uint8_t slot_buf[CFG_REASS_SLOTS][REASS_BUFSZ] __attribute__((aligned(64)));

static uint8_t *payload(struct reass *r)
{
	return slot_buf[r - slots] + REASS_PAYLOAD;
}

static void slot_free(struct reass *r)
{
	r->state = R_FREE;
	r->hlen = 0;
	r->total = 0;
	r->hi = 0;
	r->nblk = 0;
	r->bcast = 0;
	memset(r->map, 0, sizeof r->map);
	r->pkt.owner = PKT_FREE;
}

static void reass_release(struct pkt *p);

void ip_reass_init(void)
{
	for (int i = 0; i < CFG_REASS_SLOTS; i++)
		slot_free(&slots[i]);
	pkt_set_foreign_free(reass_release);
}

/* Only slots still collecting match: a late duplicate of a datagram that
 * is already complete starts a new slot (and times out) instead of
 * touching a buffer someone else now owns. */
static struct reass *lookup(const uint8_t *h)
{
	for (int i = 0; i < CFG_REASS_SLOTS; i++) {
		struct reass *r = &slots[i];
		if (r->state == R_BUSY && r->id == get16(h + IP_ID) &&
		    r->src == get32(h + IP_SRC) && r->dst == get32(h + IP_DST) &&
		    r->proto == h[IP_PROTO])
			return r;
	}
	return NULL;
}

static struct reass *slot_new(const uint8_t *h)
{
	for (int i = 0; i < CFG_REASS_SLOTS; i++) {
		struct reass *r = &slots[i];
		if (r->state == R_FREE) {
			r->state = R_BUSY;
			r->id = get16(h + IP_ID);
			r->src = get32(h + IP_SRC);
			r->dst = get32(h + IP_DST);
			r->proto = h[IP_PROTO];
			r->born = net_now();
			return r;
		}
	}
	return NULL;
}

/* Does [off, end) agree with what is known of the datagram's length? */
static int fits(const struct reass *r, unsigned off, unsigned len, int last)
{
	unsigned end = off + len;

	if (last)
		return (r->total == 0 || r->total == end) && end >= r->hi;
	return r->total == 0 || end <= r->total;
}

static int blk_isset(const struct reass *r, unsigned b)
{
	return r->map[b / 8] & (1u << (b % 8));
}

/* Bytes of the fragment that land on stored blocks must equal them. */
static int same_data(struct reass *r, unsigned off, unsigned len, const uint8_t *d)
{
	unsigned end = off + len;

	for (unsigned s = off; s < end; s += 8) {
		unsigned e = s + 8 < end ? s + 8 : end;
		if (blk_isset(r, s / 8) && memcmp(payload(r) + s, d + (s - off), e - s))
			return 0;
	}
	return 1;
}

static void store(struct reass *r, const struct pkt *p, unsigned hl, unsigned off,
		  unsigned len, int last)
{
	const uint8_t *h = p->data;
	unsigned end = off + len;

	/* Keep "broadcast" so nobody answers a broadcast in pieces. A NIC's
	 * checksum verdict on one piece says nothing of the whole: dropped. */
	r->bcast |= p->flags & PKT_F_BCAST;

	if (off == 0 && r->hlen == 0) {
		memcpy(payload(r) - hl, h, hl);
		r->hlen = (uint8_t)hl;
	}
	/* The one copy on the receive path: fragments arrive in separate
	 * pool buffers and the datagram must be contiguous for the layers
	 * above. */
	memcpy(payload(r) + off, h + hl, len);
	for (unsigned b = off / 8; b < (end + 7) / 8; b++) {
		if (!blk_isset(r, b)) {
			r->map[b / 8] |= (uint8_t)(1u << (b % 8));
			r->nblk++;
		}
	}
	if (end > r->hi)
		r->hi = (uint16_t)end;
	if (last)
		r->total = (uint16_t)end;
}

static int complete(const struct reass *r)
{
	return r->total && r->nblk == (r->total + 7) / 8;
}

/* Turn the slot into one unfragmented datagram and hand it out. */
static struct pkt *finish(struct reass *r)
{
	uint8_t *h = payload(r) - r->hlen;
	struct pkt *p = &r->pkt;

	put16(h + IP_LEN, (uint16_t)(r->hlen + r->total));
	put16(h + IP_FRAG, get16(h + IP_FRAG) & ~(IP_MF | IP_OFFMASK));
	ip_hdr_csum(h, r->hlen);

	r->state = R_DONE;
	p->head = slot_buf[r - slots];
	p->cap = REASS_BUFSZ;
	p->data = h;
	p->len = (uint16_t)(r->hlen + r->total);
	p->l3 = (uint16_t)(h - p->head);
	p->flags = PKT_F_REASM | r->bcast;
	p->owner = PKT_STACK;
	p->index = (uint16_t)(r - slots);
	p->next = NULL;
	STAT(ip, reass_ok);
	return p;
}

/* Reject the fragment; with r, also the datagram it belongs to, which
 * can no longer be put together consistently. */
static struct pkt *drop(struct pkt *p, struct reass *r)
{
	if (r) {
		slot_free(r);
		STAT(ip, reass_bad);
	}
	STAT(ip, drop_frag);
	pkt_free(p);
	return NULL;
}

struct pkt *ip_reass(struct pkt *p)
{
	const uint8_t *h = p->data;
	unsigned hl = (h[IP_VHL] & 0xf) * 4u;

	/* ip_input checked the header; this only guards our own indexing. */
	if (p->len < IP_HLEN || hl < IP_HLEN || hl > p->len)
		return drop(p, NULL);

	uint16_t frag = get16(h + IP_FRAG);
	unsigned off = (frag & IP_OFFMASK) * 8u;
	unsigned len = p->len - hl;
	int last = !(frag & IP_MF);
	struct reass *r = lookup(h);

	if (len == 0 || (!last && len % 8))
		return drop(p, NULL);
	if (off + len > CFG_REASS_MAX)
		return drop(p, r);
	if (!r && !(r = slot_new(h))) {
		STAT(ip, reass_nomem);
		return drop(p, NULL);
	}
	if (!fits(r, off, len, last) || !same_data(r, off, len, h + hl))
		return drop(p, r);

	store(r, p, hl, off, len, last);
	pkt_free(p);
	if (!complete(r)) {
		STAT(ip, frag_held);
		return NULL;
	}
	return finish(r);
}

/* RFC 792/1122: tell the sender, quoting the first fragment, which is
 * still stored whole (header + at least 8 payload bytes, as a non-last
 * fragment carries 8 or more). icmp_error only reads this view. */
static void time_exceeded(struct reass *r)
{
	uint8_t *h = payload(r) - r->hlen;
	struct pkt v = {
		.data = h,
		.len = (uint16_t)(r->hlen + 8),
		.owner = PKT_STACK,
		.head = slot_buf[r - slots],
		.cap = REASS_BUFSZ,
		.l3 = (uint16_t)(h - slot_buf[r - slots]),
		.index = (uint16_t)(r - slots),
		.flags = r->bcast, /* RFC 1122 3.2.2: no error about a link broadcast */
	};
	icmp_error(&v, ICMP_TIMXCEED, ICMP_TIMXCEED_REASS);
}

/* Completed datagrams are not timed out: whoever holds one frees it. */
void ip_reass_tick(uint32_t now)
{
	for (int i = 0; i < CFG_REASS_SLOTS; i++) {
		struct reass *r = &slots[i];
		if (r->state != R_BUSY || now - r->born < CFG_REASS_TIMEOUT_MS)
			continue;
		if (r->hlen)
			time_exceeded(r);
		slot_free(r);
		STAT(ip, reass_timeout);
	}
}

static void reass_release(struct pkt *p)
{
	unsigned i = p->index;

	if (i >= CFG_REASS_SLOTS || p != &slots[i].pkt || slots[i].state != R_DONE) {
		pkt_stats.bad_free++; /* double free, or a forged PKT_F_REASM */
		return;
	}
	slot_free(&slots[i]);
}

/* ---- output ---- */

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

/* One fragment in a new pool buffer: header fh (fhl bytes), then n bytes
 * of payload from d. Copying is the only way: the fragments need their
 * own headers in front of each slice. */
static struct pkt *frag_build(const uint8_t *fh, unsigned fhl, const uint8_t *d, unsigned n,
			      uint16_t frag)
{
	struct pkt *q = pkt_alloc(PKT_STACK);

	if (!q)
		return NULL;
	q->data = q->head + CFG_PKT_LINK_OFF + ETH_HLEN;
	q->len = (uint16_t)(fhl + n);
	q->l3 = CFG_PKT_LINK_OFF + ETH_HLEN;
	memcpy(q->data, fh, fhl);
	memcpy(q->data + fhl, d, n);
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
	if (hl < IP_HLEN || total < hl || total > p->len || mtu < hl + 8 ||
	    base + (total - hl) > 65535)
		return frag_fail(p, NET_ERR_ARG);

	uint8_t later[REASS_HMAX];
	unsigned later_hl = later_header(h, hl, later);
	unsigned plen = total - hl;
	int err = NET_OK;

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
		struct pkt *q = frag_build(fh, fhl, h + hl + off, n, f);
		if (!q) {
			STAT(ip, tx_err);
			err = NET_ERR_MEM;
			break;
		}
		STAT(ip, tx_frag);
		/* The rest would be useless to the receiver without this one. */
		if ((err = arp_output(q, nexthop)) < 0)
			break;
		off += n;
	}
	pkt_free(p);
	return err;
}
