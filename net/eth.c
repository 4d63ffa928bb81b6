/*
 * Ethernet II: filter by destination, dispatch by ethertype, and prepend
 * the header on output. Everything else about the link is the driver's.
 */
#include <stddef.h>
#include "net.h"

void eth_input(struct pkt *p)
{
	const uint8_t *h = p->data;

	STAT(eth, rx);
	if (p->len < ETH_HLEN) {
		STAT(eth, drop_runt);
		goto drop;
	}
	if (p->len > ETH_HLEN + netif.mtu) {
		STAT(eth, drop_oversize);
		goto drop;
	}
	if (!eth_is_ours(h + ETH_DST)) {
		if (!mac_is_bcast(h + ETH_DST)) {
			/* includes every multicast group: we join none */
			STAT(eth, drop_not_ours);
			goto drop;
		}
		p->flags |= PKT_F_BCAST;
	}
	if (mac_is_mcast(h + ETH_SRC)) {
		STAT(eth, drop_src_mcast);
		goto drop;
	}
	if (eth_is_ours(h + ETH_SRC)) {
		STAT(eth, drop_src_ours); /* looped back or spoofed: a reply would come to us */
		goto drop;
	}
	if (mac_is_zero(h + ETH_SRC)) {
		STAT(eth, drop_src_zero); /* no station: a reply could go nowhere */
		goto drop;
	}
	uint16_t type = get16(h + ETH_TYPE);
	pkt_pull(p, ETH_HLEN);
	if (type == ETHTYPE_IP) {
		STAT(eth, to_ip);
		ip_input(p);
		return;
	}
	if (type == ETHTYPE_ARP) {
		STAT(eth, to_arp);
		arp_input(p);
		return;
	}
	if (type == ETHTYPE_VLAN || type == ETHTYPE_QINQ)
		STAT(eth, drop_vlan);
	else
		STAT(eth, drop_type);
drop:
	pkt_free(p);
}

/* A whole frame to the driver, counted. */
static int eth_send(struct pkt *p)
{
	if (netif.output(p) != 0) {
		STAT(eth, tx_err);
		return NET_ERR_IF;
	}
	STAT(eth, tx);
	return NET_OK;
}

int eth_output(struct pkt *p, const uint8_t dst[6], uint16_t type)
{
	uint8_t *h = pkt_push(p, ETH_HLEN);
	if (!h) {
		STAT(eth, tx_err);
		pkt_free(p);
		return NET_ERR_ARG;
	}
	/* byte stores: memcpy is a libcall in a freestanding build, and the
	 * header is only 2-byte aligned */
	const uint8_t *m = netif.mac;
	h[0] = dst[0], h[1] = dst[1], h[2] = dst[2], h[3] = dst[3], h[4] = dst[4], h[5] = dst[5];
	h[6] = m[0], h[7] = m[1], h[8] = m[2], h[9] = m[3], h[10] = m[4], h[11] = m[5];
	put16(h + ETH_TYPE, type);
	return eth_send(p);
}

int eth_reply(struct pkt *p)
{
	u16a *e = (u16a *)p->data;
	uint16_t a = e[0], b = e[1], c = e[2];
	e[0] = e[3], e[1] = e[4], e[2] = e[5];
	e[3] = a, e[4] = b, e[5] = c;
	return eth_send(p);
}
