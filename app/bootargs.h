/* The boot configuration from the kernel command line (QEMU -append). */
#ifndef APP_BOOTARGS_H
#define APP_BOOTARGS_H

#include <stddef.h>
#include <stdint.h>

struct bootcfg {
	uint32_t ip, mask, gw; /* host byte order */
	uint16_t port;
};

void bootcfg_defaults(struct bootcfg *c); /* from net/config.h */
/* Reads ip=A.B.C.D[/N], gw=A.B.C.D, port=N; ignores other words. A bad
 * value keeps the previous setting and is reported through warn (may be
 * NULL) with the whole word. Bad: not a unicast host address (0/8,
 * loopback, multicast, class E, broadcast), a mask of /0 or /32, our
 * address being the network or broadcast address of its subnet, a
 * gateway equal to our address or outside our subnet. A gateway that
 * does not fit the final subnet becomes 0: no gateway. Returns the
 * number of values rejected. */
int bootargs_parse(const char *args, struct bootcfg *c, void (*warn)(const char *word));
/* A dotted quad of exactly n characters: 0, or -1 when malformed. */
int ip_parse(const char *s, size_t n, uint32_t *out);

#endif
