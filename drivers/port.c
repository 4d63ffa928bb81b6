#include <stdio.h>
#include <string.h>
#include "net/config.h"
#include "net/netif.h"
#include "config.h"
#include "port.h"
#include "riscv.h"

/* What each pass uses, gp-relative (GP_DATA): the NIC, its per-pass calls
 * (one load and a jump each, no dispatch), where frames go. */
static GP_DATA struct {
	struct nic *nic;
	nic_deliver_fn input;
	struct nic_ops ops;
} port = {.input = net_input};

/* Without a NIC the stack still runs; what it sends goes nowhere. */
static int no_tx(struct pkt *p)
{
	pkt_free(p);
	return -1;
}

void port_attach(struct nic *n)
{
	port.nic = n;
	netif.output = no_tx;
	netif.mtu = CFG_MTU;
	if (!n)
		return;
	port.ops = *n->ops;
	memcpy(netif.mac, n->mac, 6);
	netif.mtu = n->mtu < CFG_MTU ? n->mtu : CFG_MTU;
	netif.output = n->tx;
	netif.link_up = n->link_up;
}

struct nic *port_nic(void)
{
	return port.nic;
}

void port_raw_input(nic_deliver_fn fn)
{
	port.input = fn;
}

/* The frames are taken off the ring at once, then handed up one by one:
 * the driver's loop over its ring runs without a call. */
unsigned port_poll(unsigned budget)
{
	struct pkt *v[CFG_RX_BATCH];
	struct nic *n = port.nic;
	if (!n)
		return 0;
	unsigned k = port.ops.rx(v, budget < CFG_RX_BATCH ? budget : CFG_RX_BATCH);
	for (unsigned i = 0; i < k; i++)
		port.input(v[i]);
	port.ops.flush();
	if (n->link_up != netif.link_up) {
		printf("%s: link %s\n", n->name, n->link_up ? "up" : "down");
		net_set_link(n->link_up);
	}
	return k;
}

int port_idle(void)
{
	return port.nic ? port.ops.idle() : 0;
}

int port_tx(struct pkt *p)
{
	return netif.output(p);
}

void port_tick(uint32_t now)
{
	net_tick(now);
}
