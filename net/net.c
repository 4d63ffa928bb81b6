/*
 * The interface and the stack's entry points: input from the driver, and
 * a clock that drives the ARP and reassembly timers.
 */
#include "net.h"
#include "udp.h"

struct netif netif;

uint32_t net_clock;
static uint32_t last_run; /* when the timers last ran */

void net_init(void)
{
	arp_init();
	ip_init();
	icmp_init();
	udp_init();
	last_run = net_clock - CFG_TICK_MS; /* timers due at the next tick */
	if (netif.ip)
		arp_announce();
}

void net_input(struct pkt *p)
{
	eth_input(p);
}

/* The superloop may call this far more often than CFG_TICK_MS; the
 * tables are only walked when a period has passed. */
void net_tick(uint32_t now)
{
	net_clock = now;
	if (now - last_run < CFG_TICK_MS)
		return;
	last_run = now;
	arp_tick(now);
	ip_tick(now);
}

uint32_t net_now(void)
{
	return net_clock;
}

/* Back on a link, tell it who we are: a switch or a peer may have
 * forgotten us, or someone took our address meanwhile (RFC 5227). */
void net_set_link(int up)
{
	int was = netif.link_up;
	netif.link_up = (uint8_t)!!up;
	if (up && !was && netif.ip)
		arp_announce();
}
