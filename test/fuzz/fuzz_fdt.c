/*
 * libFuzzer target for the parsers of what the boot loader hands over:
 * the device tree reader (drivers/fdt.c) and the kernel command line
 * (app/bootargs.c). The first byte (mod 3) picks the parser; the rest is
 * copied into a heap buffer of exactly its size, so ASan reports a read
 * past it:
 *
 *   0  fdt_parse(buf, limit = n), then bootargs_parse of its bootargs
 *   1  bootargs_parse of the bytes as a string (the buffer ends at its NUL)
 *   2  ip_parse of exactly n bytes, no NUL after them
 *
 * Only fdt_parse's contract is relied on, not the fields it fills in, so
 * the reader can grow without this file having to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/bootargs.h"
#include "app/config.h"
#include "drivers/fdt.h"

#define FAIL(...) (fprintf(stderr, "INVARIANT VIOLATED: " __VA_ARGS__), fputc('\n', stderr), abort())

/* ---- boot arguments ---- */
static const char *args_in;
static int nwarn;

static void warn(const char *w)
{
	size_t l = strnlen(w, 64); /* bootargs.c's word buffer is 64 bytes */
	if (l == 64 || l == 0 || strpbrk(w, " \t"))
		FAIL("warn got a word of %zu bytes, unterminated, empty or with a blank", l);
	if (!strstr(args_in, w))
		FAIL("warn got \"%s\", not a word of the input", w);
	nwarn++;
}

/* What bootargs.h allows as an address of ours or a gateway */
static int unicast(uint32_t a)
{
	return a != 0 && a != 0xffffffffu && (a >> 24) != 127 && (a >> 28) < 0xe;
}

static int same_cfg(const struct bootcfg *a, const struct bootcfg *b)
{
	return a->ip == b->ip && a->mask == b->mask && a->gw == b->gw && a->port == b->port &&
	       a->mcast == b->mcast && a->poll_us == b->poll_us;
}

static void check_bootargs(const char *s)
{
	struct bootcfg def, c, quiet;
	bootcfg_defaults(&def);
	c = quiet = def;
	args_in = s;
	nwarn = 0;
	int bad = bootargs_parse(s, &c, warn);
	if (bad != nwarn || bootargs_parse(s, &quiet, NULL) != bad || !same_cfg(&c, &quiet))
		FAIL("%d values rejected, %d warnings; without warn %s", bad, nwarn,
		     same_cfg(&c, &quiet) ? "the same" : "another result");
	/* a bad value keeps the previous one, so only good values are left:
	 * a host of its own subnet (a /31 has no network or broadcast
	 * address), a mask of /1../31, and a gateway that is another host
	 * of that subnet, or none (0) when the default one does not fit */
	uint32_t host = c.ip & ~c.mask, ghost = c.gw & ~c.mask;
	int edge = ~c.mask != 1 && (host == 0 || host == ~c.mask);
	int gw_ok = c.gw == 0 || (unicast(c.gw) && c.gw != c.ip && !((c.gw ^ c.ip) & c.mask) &&
				  (~c.mask == 1 || (ghost != 0 && ghost != ~c.mask)));
	if (!unicast(c.ip) || edge || !gw_ok || c.port == 0 || c.mask == 0 || c.mask == ~0u ||
	    (~c.mask & (~c.mask + 1)) || c.poll_us > CFG_BUSY_POLL_MAX_US)
		FAIL("config ip %08x mask %08x gw %08x port %u poll %u", c.ip, c.mask, c.gw, c.port,
		     (unsigned)c.poll_us);
	/* no group, or one of 224.0.0.0/4 outside 224.0.0.0/24 */
	if (c.mcast && ((c.mcast >> 28) != 0xe || (c.mcast >> 8) == 0xe00000))
		FAIL("config mcast %08x", c.mcast);
	if (!strstr(s, "ip=") && !strstr(s, "gw=") && !strstr(s, "port=") && !strstr(s, "hostname=") &&
	    !strstr(s, "mcast=") && !strstr(s, "poll=") && (bad || !same_cfg(&c, &def)))
		FAIL("words that are not ours changed the config");
}

/* ---- device tree ---- */
static void check_fdt(const uint8_t *blob, size_t n)
{
	static const struct fdt_info zero;
	static struct fdt_info fi, again;
	memset(&fi, 0xa5, sizeof fi); /* whatever is not written shows */
	int err = fdt_parse(blob, n, &fi);
	if (err > 0 || (err && !strcmp(fdt_strerror(err), fdt_strerror(1))))
		FAIL("fdt_parse returned %d", err);
	if (err && memcmp(&fi, &zero, sizeof fi))
		FAIL("fdt_parse failed (%d) and left something in its output", err);
	memset(&again, 0xa5, sizeof again); /* the same: padding may stay as it was */
	if (fdt_parse(blob, n, &again) != err || memcmp(&fi, &again, sizeof fi))
		FAIL("fdt_parse gave another result for the same blob");
	if (err)
		return;
	if (!memchr(fi.bootargs, 0, sizeof fi.bootargs))
		FAIL("bootargs not terminated");
#ifdef FDT_MAX_VIRTIO
	if (fi.nvirtio > FDT_MAX_VIRTIO)
		FAIL("%u virtio devices in an array of %d", fi.nvirtio, FDT_MAX_VIRTIO);
#endif
	check_bootargs(fi.bootargs); /* as the firmware does */
}

/* ---- addresses ---- */
static void check_ip(const char *s, size_t n)
{
	uint32_t a = 0, b = 0;
	char txt[16];
	int err = ip_parse(s, n, &a);
	if (err != 0 && err != -1)
		FAIL("ip_parse returned %d", err);
	if (err)
		return;
	int l = snprintf(txt, sizeof txt, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
	if (n > 15 || ip_parse(txt, (size_t)l, &b) || a != b)
		FAIL("\"%.*s\" read as %s, which reads back as %08x", (int)n, s, txt, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n == 0)
		return 0;
	unsigned target = d[0] % 3;
	size_t len = n - 1;
	char *buf = malloc(len + (target == 1)); /* the string's NUL is its last byte */
	if (!buf)
		return 0;
	memcpy(buf, d + 1, len);
	if (target == 0) {
		check_fdt((const uint8_t *)buf, len);
	} else if (target == 1) {
		buf[len] = 0;
		check_bootargs(buf);
	} else {
		check_ip(buf, len);
	}
	free(buf);
	return 0;
}
