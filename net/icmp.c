/*
 * ICMP (RFC 792, RFC 1122 3.2.2): echo replies made in the request's own
 * buffer, and error messages about datagrams we could not deliver.
 */
#include "net.h"

static uint32_t bucket_at;  /* when the rate-limit bucket was last topped up */
static uint8_t tokens;

void icmp_init(void)
{
	bucket_at = net_now();
	tokens = CFG_ICMP_RATE_BURST;
}

/*
 * An error about a datagram we sent goes to the UDP PCB that sent it
 * (RFC 1122 4.1.3.3: UDP passes every ICMP error on to the application).
 * The quote is the sender's word, and anyone can send one: it must lie
 * within the message and be a UDP datagram's IPv4 header (first
 * fragment: later ones carry no ports) from our address, with the UDP
 * header's ports after it (RFC 792 quotes 8 bytes); an error sent to a
 * broadcast address is nobody's. udp_icmp_error decides whose it is.
 */
static void icmp_to_udp(const struct pkt *p)
{
	const uint8_t *m = p->data, *q = m + ICMP_HLEN;
	unsigned qlen = p->len - ICMP_HLEN; /* icmp_input: p->len >= ICMP_HLEN */
	unsigned qhl = qlen >= IP_HLEN ? (q[IP_VHL] & 0xf) * 4u : 0;
	if ((p->flags & PKT_F_BCAST) || qhl < IP_HLEN || q[IP_VHL] >> 4 != 4 ||
	    qlen < qhl + UDP_HLEN || q[IP_PROTO] != IPPROTO_UDP ||
	    (get16(q + IP_FRAG) & IP_OFFMASK) || !netif.ip || get32(q + IP_SRC) != netif.ip) {
		STAT(icmp, drop_err_quote);
		return;
	}
	const uint8_t *u = q + qhl;
	/* bytes 6-7: the next-hop MTU of "fragmentation needed" (RFC 1191) */
	if (udp_icmp_error(m[ICMP_TYPE], m[ICMP_CODE], get16(m + 6), get32(q + IP_DST),
			   get16(u + UDP_SPORT), get16(u + UDP_DPORT)) == 0)
		STAT(icmp, err_delivered);
	else
		STAT(icmp, drop_err_nomatch);
}

/* Not an echo request: errors go to UDP; replies, redirects and the rest
 * are accepted and ignored, nothing here waits for them. */
static OUT_OF_LINE void icmp_other(struct pkt *p)
{
	uint8_t t = p->data[ICMP_TYPE];
	if (t == ICMP_UNREACH || t == ICMP_TIMXCEED || t == ICMP_PARAMPROB)
		icmp_to_udp(p);
	else
		STAT(icmp, consumed);
	pkt_free(p);
}

OUT_OF_LINE void icmp_input(struct pkt *p)
{
	uint8_t *m = p->data;

	if (p->len < ICMP_HLEN) {
		STAT(icmp, drop_short);
		goto drop;
	}
	/* A reassembled message is a chain (pkt.h): summed over its pieces */
	if (csum_fold(p->frag_next ? pkt_chain_sum(0, p) : csum_add(0, m, p->len)) != 0xffff) {
		STAT(icmp, drop_csum);
		goto drop;
	}
	if (m[ICMP_TYPE] != ICMP_ECHO) {
		icmp_other(p);
		return;
	}
	if ((p->flags & PKT_F_BCAST) && !CFG_ICMP_ECHO_BCAST) {
		STAT(icmp, drop_bcast_echo); /* RFC 1122 3.2.2.6: may be ignored (smurf) */
		goto drop;
	}
	/* Only the type changes: the checksum is patched, never recomputed,
	 * and ip_reply turns the request's headers around in place (a
	 * chain's, fragment by fragment). */
	uint16_t tc = get16(m + ICMP_TYPE);
	uint16_t tc2 = (uint16_t)(ICMP_ECHOREPLY << 8 | (tc & 0xff));
	m[ICMP_TYPE] = ICMP_ECHOREPLY;
	uint16_t c = csum_update16(get16(m + ICMP_CSUM), tc, tc2);
	if (c == 0) {
		/* Either zero: if every other word is 0 the message sums to +0
		 * and needs 0xffff, which the update cannot tell. Rare: redo. */
		put16(m + ICMP_CSUM, 0);
		c = csum_finish(pkt_chain_sum(0, p));
	}
	put16(m + ICMP_CSUM, c);
	STAT(icmp, echo_replied);
	ip_reply(p, IPPROTO_ICMP);
	return;
drop:
	pkt_free(p);
}

static int icmp_is_error(uint8_t type)
{
	return type == ICMP_UNREACH || type == 4 || type == 5 || type == ICMP_TIMXCEED ||
	       type == ICMP_PARAMPROB;
}

/* Token bucket: CFG_ICMP_RATE_BURST back to back, then one per period. */
static int icmp_allowed(void)
{
	uint32_t now = net_now();
	uint32_t n = (now - bucket_at) / CFG_ICMP_RATE_MS;
	if (n) {
		tokens = n >= (uint32_t)(CFG_ICMP_RATE_BURST - tokens) ? CFG_ICMP_RATE_BURST : (uint8_t)(tokens + n);
		bucket_at += n * CFG_ICMP_RATE_MS;
	}
	if (!tokens)
		return 0;
	tokens--;
	return 1;
}

void icmp_error(const struct pkt *orig, uint8_t type, uint8_t code)
{
	const uint8_t *ih = pkt_iph(orig);
	const uint8_t *end = orig->data + orig->len;
	size_t avail = end > ih ? (size_t)(end - ih) : 0;

	if (avail < IP_HLEN)
		return;
	size_t hlen = (ih[IP_VHL] & 0xf) * 4u;
	uint32_t src = get32(ih + IP_SRC), dst = get32(ih + IP_DST);
	/* RFC 1122 3.2.2: never about a broadcast, a non-initial fragment, a
	 * source that names no single host, or another error message. */
	if ((orig->flags & PKT_F_BCAST) || ip_is_bcast(dst) || ip_is_mcast(dst) ||
	    (get16(ih + IP_FRAG) & IP_OFFMASK) || !ip_is_unicast(src) || hlen < IP_HLEN)
		return;
	if (ih[IP_PROTO] == IPPROTO_ICMP && (avail <= hlen || icmp_is_error(ih[hlen])))
		return;
	if (!icmp_allowed()) {
		STAT(icmp, tx_err_limited);
		return;
	}

	/* the offender's header with its options and 8 bytes of its data */
	size_t n = hlen + 8;
	if (n > get16(ih + IP_LEN))
		n = get16(ih + IP_LEN);
	if (n > avail)
		n = avail;
	struct pkt *p = pkt_alloc(PKT_STACK);
	if (!p)
		return;
	memcpy(p->data, ih, n);
	p->len = (uint16_t)n;
	uint8_t *m = pkt_push(p, ICMP_HLEN);
	m[ICMP_TYPE] = type;
	m[ICMP_CODE] = code;
	put16(m + ICMP_CSUM, 0);
	put32(m + 4, 0);
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, p->len)));
	STAT(icmp, tx_err_sent);
	ip_output(p, 0, src, IPPROTO_ICMP);
}
