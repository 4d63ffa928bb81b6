/* The boot configuration from the kernel command line (QEMU -append). */
#ifndef APP_BOOTARGS_H
#define APP_BOOTARGS_H

#include <stddef.h>
#include <stdint.h>
#include "net/config.h"

struct bootcfg {
	uint32_t ip, mask, gw; /* host byte order */
	uint16_t port;
	uint32_t mcast;        /* mcast=A.B.C.D: a group the echo service also answers (0: none) */
	uint8_t dhcp;          /* ip=dhcp: the address from DHCP; ip, mask, gw unused */
	uint32_t poll_us;      /* busy-polling after activity (0: off), see CFG_BUSY_POLL_US */
	char hostname[CFG_DHCP_HOSTNAME_MAX + 1]; /* "" if none */
};

void bootcfg_defaults(struct bootcfg *c); /* from app/config.h */
/* Reads ip=A.B.C.D[/N], ip=dhcp, gw=A.B.C.D, port=N, hostname=NAME,
 * mcast=A.B.C.D;
 * poll=US (0..CFG_BUSY_POLL_MAX_US microseconds, decimal);
 * ignores other words. ip=dhcp and a static ip= undo each other (the
 * last one wins); gw= only matters for a static address. A host name
 * is letters, digits, '-' and '.', starts and ends with a letter or a
 * digit, and has at most CFG_DHCP_HOSTNAME_MAX characters. A bad
 * value keeps the previous setting and is reported through warn (may be
 * NULL) with the whole word. Bad: not a unicast host address (0/8,
 * loopback, multicast, class E, broadcast), a mask of /0 or /32, our
 * address being the network or broadcast address of its subnet, a
 * gateway equal to our address or outside our subnet, a mcast= group
 * outside 224.0.0.0/4 or inside 224.0.0.0/24 (the link's control
 * block: all-hosts, routers, IGMP itself). A gateway that
 * does not fit the final subnet becomes 0: no gateway. Returns the
 * number of values rejected. */
int bootargs_parse(const char *args, struct bootcfg *c, void (*warn)(const char *word));
/* A dotted quad of exactly n characters: 0, or -1 when malformed. */
int ip_parse(const char *s, size_t n, uint32_t *out);

#endif
