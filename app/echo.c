/*
 * The product: UDP echo (RFC 862). Each datagram goes back from the very
 * buffer it arrived in; the stack rewrites the headers in place and keeps
 * the payload's checksum, so the payload is never read or copied here.
 * A datagram that came in fragments (up to 65,507 bytes) arrives as a
 * chain of their buffers (udp.h) and udp_reply sends each back as a
 * fragment of the reply, in place: nothing here depends on its size.
 */
#include <string.h>
#include "config.h"
#include "echo.h"
#include "net/netif.h"
#include "net/udp.h"
#include "net/tune.h"

NET_GP struct echo_stats echo_stats;
static NET_GP struct udp_pcb *pcb;
static NET_GP uint16_t port, port_n; /* ours, and as it lies in a header */
static NET_GP uint32_t deny[256 / 32]; /* source ports below 256 we never answer */
static uint32_t group;          /* the group echo_join joined (0: none) */

/* The source port as it lies in the header (sport_n, little-endian
 * loaded): a port below 256 is one whose first byte is 0, and its
 * second byte is the port. No byte swap per datagram. */
static int denied(uint16_t sport_n)
{
	unsigned lo = sport_n >> 8;
	return sport_n == port_n || (!(sport_n & 0xff) && (deny[lo / 32] >> (lo % 32) & 1));
}

/* From a deny-listed port: dropped and counted (1), else 0. The source
 * address is a single host's: the stack delivers nothing else (udp.h). */
static inline __attribute__((always_inline)) int bad_source(struct pkt *p)
{
	/* an even address: the stack drops frames at odd ones (eth.drop_align) */
	uint16_t sport_n = ld16(p->data - UDP_HLEN + UDP_SPORT);
	if (!denied(sport_n))
		return 0;
	if (sport_n == port_n)
		echo_stats.drop_loop++;
	else
		echo_stats.drop_src++;
	pkt_free(p);
	return 1;
}

/*
 * Sent to a broadcast or a group: one such datagram must not draw many
 * replies, so only the group echo_join asked for is answered (the stack
 * delivers only groups the PCB joined, but checks cost nothing here),
 * and only to its sender. It cannot be answered in place (the reply
 * would speak from the group's address): udp_sendto sends it from our
 * unicast address. One reply per request, to a unicast host only: no
 * amplification. Off echo_recv's path (make bench-host).
 */
static __attribute__((noinline)) void echo_group_recv(struct udp_pcb *u, struct pkt *p)
{
	uint32_t src = udp_src_ip(p);
	uint16_t sport = udp_src_port(p);
	if (!group || udp_dst_ip(p) != group) {
		echo_stats.drop_bcast++;
		pkt_free(p);
		return;
	}
	if (bad_source(p))
		return;
	echo_stats.replied++;
	echo_stats.mcast++;
	udp_sendto(u, p, src, sport);
}

static void echo_recv(struct udp_pcb *u, struct pkt *p, void *arg)
{
	(void)arg;
	echo_stats.rx++;
	if (p->flags & PKT_F_BCAST) {
		echo_group_recv(u, p);
		return;
	}
	if (bad_source(p))
		return;
	/* counted before: the reply then ends in a tail call into the
	 * driver, and this function needs no stack frame (echo.h) */
	echo_stats.replied++;
	udp_reply(u, p);
}

int echo_join(uint32_t g)
{
	if (!pcb || !pcb->used)
		return NET_ERR_CLOSED; /* echo_start first */
	if (g == group)
		return 0; /* a leave and a join would report it again for nothing */
	if (group)
		udp_leave(pcb, group);
	group = 0;
	int err = udp_join(pcb, g);
	if (err == 0)
		group = g;
	return err;
}

int echo_leave(void)
{
	if (!pcb || !pcb->used)
		return NET_ERR_CLOSED;
	if (!group)
		return NET_ERR_ARG;
	int err = udp_leave(pcb, group);
	group = 0;
	return err;
}

uint32_t echo_group(void)
{
	return group;
}

/* A second start moves the service: the old PCB goes first, so no
 * binding outlives the port the loop guard knows. After net_init the
 * table is new and the old PCB is gone already. */
int echo_start(uint16_t p)
{
	static const uint16_t deny_ports[] = CFG_ECHO_DENY_PORTS;
	if (pcb && pcb->used && pcb->recv == echo_recv)
		udp_remove(pcb);
	pcb = NULL;
	group = 0; /* the old PCB's membership went with it */
	memset(deny, 0, sizeof deny);
	for (unsigned i = 0; i < sizeof deny_ports / sizeof deny_ports[0]; i++)
		if (deny_ports[i] < 256)
			deny[deny_ports[i] / 32] |= 1u << (deny_ports[i] % 32);
	echo_stats_reset();
	port = p;
	port_n = (uint16_t)(p >> 8 | p << 8);
	struct udp_pcb *u = udp_new();
	if (!u)
		return -1; /* NET_ERR_MEM */
	int err = udp_bind(u, 0, p);
	if (err) {
		udp_remove(u);
		return err;
	}
	udp_recv(u, echo_recv, NULL);
	pcb = u;
	return 0;
}

uint16_t echo_port(void)
{
	return port;
}

void echo_stats_reset(void)
{
	memset(&echo_stats, 0, sizeof echo_stats);
}

int echo_stats_ok(void)
{
	const struct echo_stats *s = &echo_stats;
	return s->rx == s->replied + s->drop_src + s->drop_loop + s->drop_bcast;
}
