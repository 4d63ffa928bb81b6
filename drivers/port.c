#include <stdio.h>
#include <string.h>
#include "net/config.h"
#include "net/netif.h"
#include "net/tune.h"
#include "config.h"
#include "port.h"
#include "riscv.h"

/* Reassembly may hold CFG_REASS_TOTAL_BUFS pool buffers for datagrams
 * that never complete: the RX ring must still be refilled from what is
 * left, or a flood of fragments would stop all reception. */
_Static_assert(CFG_REASS_TOTAL_BUFS + CFG_RXQ_SIZE <= CFG_PKT_COUNT,
	       "CFG_REASS_TOTAL_BUFS leaves the pool too few buffers for the RX ring");

/* Without a NIC: a pass finds no frames and no work, and the link stays
 * down; the pass then needs no test for the NIC. */
static unsigned long no_rx(struct pkt **v, unsigned long max)
{
	(void)v;
	(void)max;
	return 0;
}
static void no_flush(void) {}
static int no_idle(void) { return 0; }
static const uint8_t no_link;

/* What each pass uses, gp-relative (GP_DATA): the NIC's per-pass calls
 * (one load and a jump each, no dispatch, stubs without a NIC), its link
 * state, where frames go. */
static GP_DATA struct {
	struct nic *nic;                /* NULL: none */
	const volatile uint8_t *link_up; /* the NIC's, kept current by its driver */
	uint8_t link_seen;              /* what the stack was last told (netif.link_up) */
	nic_deliver_fn input;
	struct nic_ops ops;
} port = {.link_up = &no_link, .input = net_input, .ops = {no_rx, no_flush, no_idle}};

/*
 * The multicast MACs the stack needs (netif.mcast), each with the number
 * of groups behind it (32 groups share one MAC), all-hosts' always
 * first: the list handed whole to a NIC that filters (nic.mcast_filter).
 * Without that hook the NIC passes every multicast frame on and the list
 * is only kept; the stack filters in any case.
 */
static uint8_t mc_macs[CFG_MCAST_GROUPS + 1][6];
static uint16_t mc_refs[CFG_MCAST_GROUPS + 1];
static unsigned mc_n;

static void mc_push(void)
{
	struct nic *n = port.nic;
	if (n && n->mcast_filter && n->mcast_filter(n, (const uint8_t (*)[6])mc_macs, mc_n))
		printf("%s: multicast filter refused %u addresses\n", n->name, mc_n);
}

static void port_mcast(const uint8_t mac[6], int join)
{
	unsigned i = 0;
	while (i < mc_n && memcmp(mc_macs[i], mac, 6))
		i++;
	if (join) {
		if (i == mc_n) {
			if (mc_n == CFG_MCAST_GROUPS + 1)
				return; /* cannot be: one MAC per group at most, and all-hosts */
			memcpy(mc_macs[mc_n], mac, 6);
			mc_refs[mc_n++] = 0;
		}
		if (mc_refs[i]++)
			return; /* a MAC the list has already */
	} else {
		if (i == mc_n || i == 0 || --mc_refs[i])
			return;
		mc_n--;
		memcpy(mc_macs[i], mc_macs[mc_n], 6);
		mc_refs[i] = mc_refs[mc_n];
	}
	mc_push();
}

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
	netif.mcast = port_mcast;
	memcpy(mc_macs[0], "\x01\x00\x5e\x00\x00\x01", 6); /* all-hosts: IGMP's queries */
	mc_refs[0] = 1;
	mc_n = 1;
	if (!n)
		return;
	port.ops = *n->ops;
	port.link_up = &n->link_up;
	mc_push();
	memcpy(netif.mac, n->mac, 6);
	netif.mtu = n->mtu < CFG_MTU ? n->mtu : CFG_MTU;
	netif.output = n->tx;
	netif.link_up = port.link_seen = n->link_up;
}

struct nic *port_nic(void)
{
	return port.nic;
}

void port_raw_input(nic_deliver_fn fn)
{
	port.input = fn;
}

/* The NIC's link went up or down: the stack follows. Only with a NIC
 * (without one the link never comes up). */
static OUT_OF_LINE void link_changed(void)
{
	uint8_t up = *port.link_up;
	printf("%s: link %s\n", port.nic->name, up ? "up" : "down");
	port.link_seen = up;
	net_set_link(up);
}

/* Has the NIC's link moved since the stack was told? Then it is told. */
static inline void link_follow(void)
{
	if (*port.link_up != port.link_seen)
		link_changed();
}

struct port_pass port_pass(void)
{
	return (struct port_pass){port.ops.rx, port.input, port.ops.idle};
}

/* The link is looked at after the driver's flush, which is where a
 * driver learns of a change (virtio-net's configuration interrupt). */
void port_flush(void)
{
	port.ops.flush();
	link_follow();
}

/* The stack told of a new link state may have sent (and not notified)
 * frames: the pass that follows flushes them. */
void port_link(void)
{
	link_follow();
}

int port_tx(struct pkt *p)
{
	return netif.output(p);
}

void port_tick(uint32_t now)
{
	net_tick(now);
}
