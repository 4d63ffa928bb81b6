#include <stdio.h>
#include <string.h>
#include "net/config.h"
#include "net/netif.h"
#include "port.h"
#include "config.h"

/* Reassembly may hold CFG_REASS_TOTAL_BUFS pool buffers for datagrams
 * that never complete: the RX ring must still be refilled from what is
 * left, or a flood of fragments would stop all reception. */
_Static_assert(CFG_REASS_TOTAL_BUFS + CFG_RXQ_SIZE <= CFG_PKT_COUNT,
	       "CFG_REASS_TOTAL_BUFS leaves the pool too few buffers for the RX ring");

static struct nic *nic;
static nic_deliver_fn input = net_input;

/* Without a NIC the stack still runs; what it sends goes nowhere. */
static int no_tx(struct pkt *p)
{
	pkt_free(p);
	return -1;
}

void port_attach(struct nic *n)
{
	nic = n;
	netif.output = no_tx;
	netif.mtu = CFG_MTU;
	if (!n)
		return;
	memcpy(netif.mac, n->mac, 6);
	netif.mtu = n->mtu < CFG_MTU ? n->mtu : CFG_MTU;
	netif.output = n->tx;
	netif.link_up = n->link_up;
}

struct nic *port_nic(void)
{
	return nic;
}

void port_raw_input(nic_deliver_fn fn)
{
	input = fn;
}

unsigned port_poll(unsigned budget)
{
	if (!nic)
		return 0;
	unsigned n = nic_poll(nic, input, budget);
	if (nic->link_up != netif.link_up) {
		printf("%s: link %s\n", nic->name, nic->link_up ? "up" : "down");
		net_set_link(nic->link_up);
	}
	return n;
}

int port_idle(void)
{
	return nic ? nic_idle(nic) : 0;
}

int port_tx(struct pkt *p)
{
	return netif.output(p);
}

void port_tick(uint32_t now)
{
	net_tick(now);
}
