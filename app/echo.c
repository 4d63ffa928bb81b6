/*
 * The product: UDP echo (RFC 862). Each datagram goes back from the very
 * buffer it arrived in; the stack rewrites the headers in place and keeps
 * the payload's checksum, so the payload is never read or copied here.
 */
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "drivers/platform.h"
#include "drivers/virtio_net.h"
#include "net/net.h"
#include "net/udp.h"

const char app_name[] = "echo";
static struct udp_pcb *pcb;
static uint16_t port;
static uint32_t deny[256 / 32]; /* source ports below 256 we never answer */

/* Not a single unicast host: answering could reach many hosts or none. */
static int bad_source(uint32_t src)
{
	return src == 0 || (src >> 24) == 127 || (src >> 28) == 14 || ip_is_bcast(src) ||
	       ip_is_mcast(src);
}

static void echo_recv(struct udp_pcb *u, struct pkt *p, uint32_t src, uint16_t sport, void *arg)
{
	(void)arg;
	STAT(echo, rx);
	if (p->flags & PKT_F_BCAST) {
		STAT(echo, drop_bcast); /* one broadcast must not draw many replies */
		pkt_free(p);
		return;
	}
	if ((sport < 256 && (deny[sport / 32] >> (sport % 32) & 1)) || bad_source(src)) {
		STAT(echo, drop_src);
		pkt_free(p);
		return;
	}
	if (udp_reply(u, p) == NET_OK)
		STAT(echo, replied);
	else
		STAT(echo, drop_tx);
}

void app_init(const struct bootcfg *cfg)
{
	static const uint16_t deny_ports[] = CFG_ECHO_DENY_PORTS;
	for (unsigned i = 0; i < sizeof deny_ports / sizeof deny_ports[0]; i++)
		if (deny_ports[i] < 256)
			deny[deny_ports[i] / 32] |= 1u << (deny_ports[i] % 32);
	memcpy(netif.mac, nic.mac, 6);
	netif.link_up = nic.link_up;
	netif.ip = cfg->ip;
	netif.mask = cfg->mask;
	netif.gw = cfg->gw;
	netif.mtu = CFG_MTU;
	netif.output = virtio_net_tx;
	net_tick(timer_ms());
	net_init();
	port = cfg->port;
	pcb = udp_new();
	if (!pcb || udp_bind(pcb, 0, port) != NET_OK) {
		printf("echo: cannot bind UDP port %u\n", port);
		return;
	}
	udp_recv(pcb, echo_recv, NULL);
}

void app_input(struct pkt *p)
{
	net_input(p);
}

void app_tick(uint32_t now)
{
	net_tick(now);
}

/* Out of line: make bench's boot profile ends where it is first called. */
__attribute__((noinline)) void app_ready(void)
{
	printf("echo: listening on UDP port %u\n", port);
	printf("echo: from the host (make run forwards 127.0.0.1:5555 to it): nc -u 127.0.0.1 5555\n");
	printf("console: type 'help' for commands\n");
}
