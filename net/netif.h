/*
 * The one network interface the stack serves. The driver fills in the MAC
 * and the transmit hook; the app fills in the addresses (defaults from
 * config.h, overridden by bootargs). net/ sees nothing else of the NIC.
 */
#ifndef NET_NETIF_H
#define NET_NETIF_H

#include <stdint.h>
#include "pkt.h"

struct netif {
	uint8_t mac[6];
	uint8_t link_up;
	uint32_t ip, mask, gw; /* host byte order */
	uint16_t mtu;
	/* Send one frame: p->data is the Ethernet header, p->len the frame
	 * length. Takes ownership in every case; returns 0, or -1 when the
	 * frame was dropped (the driver counts why). */
	int (*output)(struct pkt *p);
};

extern struct netif netif;

/* Stack entry points, called from the superloop. */
void net_init(void);              /* after netif is filled in */
void net_input(struct pkt *p);    /* one received frame at p->data; takes ownership */
void net_tick(uint32_t now_ms);   /* advance the clock, run ARP/reassembly timers */
uint32_t net_now(void);           /* the clock as of the last net_tick */

#endif
