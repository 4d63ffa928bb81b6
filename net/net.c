/*
 * The interface and the stack's entry points: input from the driver, a
 * clock that drives the ARP, reassembly and DHCP timers, the address,
 * and the entropy pool.
 */
#include "net.h"
#include "udp.h"
#include "igmp.h"

NET_GP struct netif netif;

uint32_t net_clock;
static uint32_t last_run; /* when the timers last ran */

/* netif's network-order copies of the address (netif.h). */
static void addr_cache(void)
{
	netif.ip_n = __builtin_bswap32(netif.ip);
	netif.bcast_n = ~netif.mask > 1 ? __builtin_bswap32(netif.ip | ~netif.mask) : 0xffffffffu;
}

void net_init(void)
{
	addr_cache();
	arp_init();
	ip_init();
	igmp_init();
	icmp_init();
	udp_init();
	dhcp_init();
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
	igmp_tick(now);
	dhcp_tick(now);
}

uint32_t net_now(void)
{
	return net_clock;
}

/* Back on a link, tell it who we are: a switch or a peer may have
 * forgotten us, or someone took our address meanwhile (RFC 5227). An
 * address from DHCP is asked for again first (INIT-REBOOT): we may be
 * on another network now, so it is not announced until confirmed. */
void net_set_link(int up)
{
	int was = netif.link_up;
	netif.link_up = (uint8_t)!!up;
	if (!!up == was)
		return;
	dhcp_link(up);
	if (up && netif.ip)
		arp_announce();
}

void net_set_addr(uint32_t ip, uint32_t mask, uint32_t gw)
{
	int moved = ip != netif.ip;
	if (moved)
		arp_clear(); /* and the packets waiting in it: they speak from the old address */
	netif.ip = ip;
	netif.mask = mask;
	netif.gw = gw;
	addr_cache();
	if (moved && ip)
		igmp_readdress(); /* reports sent without an address never left */
}

/* splitmix64 (Steele, Lea, Flood 2014): a seed is folded in FNV-1a's
 * way, and each draw steps the state by the golden ratio and mixes it. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void net_seed(const void *buf, size_t n)
{
	const uint8_t *b = buf;
	for (size_t i = 0; i < n; i++)
		rng_state = (rng_state ^ b[i]) * 0x100000001b3ull;
}

uint32_t net_random(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}
