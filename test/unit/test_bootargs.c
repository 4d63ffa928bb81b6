/* bootargs: good values apply, bad ones keep the previous setting and
 * are reported with the whole word. */
#include <string.h>
#include "app/bootargs.h"
#include "app/config.h"
#include "check.h"

static int warned;
static char last[64];

static void warn(const char *w)
{
	warned++;
	snprintf(last, sizeof last, "%s", w);
}

static struct bootcfg parse(const char *s, int *bad)
{
	struct bootcfg c;
	bootcfg_defaults(&c);
	warned = 0;
	last[0] = 0;
	*bad = bootargs_parse(s, &c, warn);
	return c;
}

static void defaults(void)
{
	int bad;
	struct bootcfg c = parse("", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.ip, 0x0a00020f);
	CHECK_EQ(c.mask, 0xffffff00u);
	CHECK_EQ(c.gw, 0x0a000202);
	CHECK_EQ(c.port, 7);
}

static void good(void)
{
	int bad;
	struct bootcfg c = parse("console=ttyS0  ip=10.9.8.7/16 gw=10.9.0.1\tport=9 quiet", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(warned, 0);
	CHECK_EQ(c.ip, 0x0a090807);
	CHECK_EQ(c.mask, 0xffff0000u);
	CHECK_EQ(c.gw, 0x0a090001);
	CHECK_EQ(c.port, 9);
	c = parse("ip=192.168.1.2", &bad); /* no prefix: keep the mask */
	CHECK_EQ(c.ip, 0xc0a80102);
	CHECK_EQ(c.mask, 0xffffff00u);
	c = parse("ip=1.2.3.4/31 port=65535", &bad);
	CHECK_EQ(c.mask, 0xfffffffeu);
	CHECK_EQ(c.port, 65535);
	CHECK_EQ(c.gw, 0); /* 10.0.2.2 is not on 1.2.3.4/31: no gateway */
	c = parse("ip=1.2.3.4/1", &bad);
	CHECK_EQ(c.mask, 0x80000000u);
	CHECK_EQ(bad, 0);
	c = parse("ip=10.0.2.254/24 gw=10.0.2.1", &bad); /* the last host; a gateway at .1 */
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.ip, 0x0a0002fe);
	CHECK_EQ(c.gw, 0x0a000201);
}

static void bad_values(void)
{
	static const char *words[] = {
		"ip=300.1.2.3/24", "ip=1.2.3/24", "ip=1.2.3.4.5", "ip=1.2.3.4/0", "ip=1.2.3.4/33",
		"ip=1.2.3.4/", "ip=1..3.4", "ip=+1.2.3.4", "ip=", "ip=0.0.0.0", "ip=255.255.255.255",
		"ip=224.0.0.1", "ip=127.0.0.1", "ip=1.2.3.4x", "ip=1.2.3.1234", "gw=1.2.3",
		"gw=0.0.0.0", "port=0", "port=65536", "port=99999", "port=x", "port=", "port=123456",
		"ip=a.b.c.d", "ip=1.2.3.4/24x", "ip=1.2.3.4/-1", "ip=1.2.3.4/+8", "ip=1.2.3.4//24",
		"ip=.1.2.3", "ip=1.2.3.4.", "ip=-1.2.3.4", "ip=1.2.3.256", "ip=239.255.255.255",
		"ip=240.0.0.1", "ip=127.255.255.254", "ip=0.0.0.0/8", "gw=", "gw=1.2.3.4/24",
		"gw=255.255.255.255", "gw=224.0.0.9", "port=+7", "port=-7", "port=7x", "port=0x10",
	};
	for (unsigned k = 0; k < sizeof words / sizeof words[0]; k++) {
		int bad;
		struct bootcfg c = parse(words[k], &bad);
		if (bad != 1 || warned != 1 || strcmp(last, words[k]))
			printf("  word %s: bad=%d warned=%d last=%s\n", words[k], bad, warned, last);
		CHECK_EQ(bad, 1);
		CHECK_EQ(warned, 1);
		CHECK(!strcmp(last, words[k]));
		CHECK_EQ(c.ip, 0x0a00020f);
		CHECK_EQ(c.mask, 0xffffff00u);
		CHECK_EQ(c.gw, 0x0a000202);
		CHECK_EQ(c.port, 7);
	}
}

static void mixed(void)
{
	int bad;
	struct bootcfg c = parse("ip=10.1.1.1/8 port=0 gw=10.0.0.1", &bad);
	CHECK_EQ(bad, 1);
	CHECK(!strcmp(last, "port=0"));
	CHECK_EQ(c.ip, 0x0a010101);
	CHECK_EQ(c.mask, 0xff000000u);
	CHECK_EQ(c.gw, 0x0a000001);
	CHECK_EQ(c.port, 7);
	c = parse("ipx=1 gwz port9 =", &bad); /* not ours: ignored */
	CHECK_EQ(bad, 0);
	CHECK_EQ(bootargs_parse(NULL, &c, NULL), 0);
	CHECK_EQ(bootargs_parse("port=0", &c, NULL), 1); /* NULL warn is fine */
}

static void edges(void)
{
	int bad;
	struct bootcfg c = parse("   ", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.ip, 0x0a00020f);
	c = parse("  \tport=1\t\t ", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.port, 1);
	c = parse("ip=10.1.2.3/31", &bad);
	CHECK_EQ(c.mask, 0xfffffffeu);
	c = parse("ip=10.1.2.3/9", &bad);
	CHECK_EQ(c.mask, 0xff800000u);
	c = parse("ip=223.255.255.254/24 gw=99.1.1.1", &bad); /* gw off-subnet: refused */
	CHECK_EQ(bad, 1);
	CHECK(!strcmp(last, "gw=99.1.1.1"));
	CHECK_EQ(c.ip, 0xdffffffe);
	CHECK_EQ(c.gw, 0); /* nor does the default fit: no gateway */
	c = parse("ip=10.1.2.3/20 ip=10.9.9.9/33 port=80 port=65536", &bad); /* bad ones keep the earlier good ones */
	CHECK_EQ(bad, 2);
	CHECK_EQ(warned, 2);
	CHECK(!strcmp(last, "port=65536"));
	CHECK_EQ(c.ip, 0x0a010203);
	CHECK_EQ(c.mask, 0xfffff000u);
	CHECK_EQ(c.port, 80);
	c = parse("IP=1.2.3.4 ip 1.2.3.4 xip=1.2.3.4 port", &bad); /* not ours */
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.ip, 0x0a00020f);
}

/* Addresses that parse but cannot work: our subnet's network or
 * broadcast address, an all-ones mask, a gateway that is us, outside the
 * subnet, or the subnet's network or broadcast address. Each is reported
 * by its whole word and the default kept. */
static void unusable(void)
{
	static const char *words[] = {
		"ip=10.0.2.255/24", "ip=10.0.2.0/24", "ip=10.0.2.255", "ip=10.0.0.0/16",
		"ip=10.0.255.255/16", "ip=10.0.2.15/32", "gw=10.0.2.15", "gw=10.0.3.1",
		"gw=10.0.2.255", "gw=10.0.2.0", "gw=192.168.1.1", "gw=127.0.0.1", "gw=224.0.0.1",
		"gw=240.0.0.1", "ip=240.1.2.3/24", "ip=127.0.0.2/8",
	};
	for (unsigned k = 0; k < sizeof words / sizeof words[0]; k++) {
		int bad;
		struct bootcfg c = parse(words[k], &bad);
		if (bad != 1 || warned != 1 || strcmp(last, words[k]))
			printf("  word %s: bad=%d warned=%d last=%s\n", words[k], bad, warned, last);
		CHECK_EQ(bad, 1);
		CHECK(!strcmp(last, words[k]));
		CHECK_EQ(c.ip, 0x0a00020f);
		CHECK_EQ(c.mask, 0xffffff00u);
		CHECK_EQ(c.gw, 0x0a000202);
	}
	/* The gateway is judged against the final address, in any order. */
	int bad;
	struct bootcfg c = parse("gw=10.9.0.1 ip=10.9.8.7/16", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.gw, 0x0a090001);
	c = parse("ip=10.9.8.7/16 gw=10.9.8.7", &bad); /* us: refused, the default does not fit */
	CHECK_EQ(bad, 1);
	CHECK_EQ(c.gw, 0);
	c = parse("ip=10.0.2.20/31", &bad); /* a /31: both addresses are hosts */
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.mask, 0xfffffffeu);
	c = parse("ip=10.0.2.21/31 gw=10.0.2.20", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.gw, 0x0a000214);
}

/* poll=US: busy-polling microseconds, 0 (off, the default) to
 * CFG_BUSY_POLL_MAX_US, decimal; a bad value is reported and the
 * previous setting kept. */
static void busy_poll(void)
{
	int bad;
	struct bootcfg c = parse("", &bad);
	CHECK_EQ(c.poll_us, CFG_BUSY_POLL_US);
	CHECK_EQ(c.poll_us, 0); /* off unless asked for */
	c = parse("poll=50", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.poll_us, 50);
	c = parse("poll=0", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.poll_us, 0);
	char w[32];
	snprintf(w, sizeof w, "poll=%u", (unsigned)CFG_BUSY_POLL_MAX_US);
	c = parse(w, &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.poll_us, CFG_BUSY_POLL_MAX_US);
	c = parse("poll=20 port=9 poll=30", &bad); /* the last one wins */
	CHECK_EQ(c.poll_us, 30);
	CHECK_EQ(c.port, 9);
	snprintf(w, sizeof w, "poll=%u", (unsigned)CFG_BUSY_POLL_MAX_US + 1);
	const char *words[] = {w, "poll=", "poll=-1", "poll=+5", "poll=5us", "poll=0x10",
			       "poll=99999999", "poll=1.5", "poll= 5"};
	for (unsigned k = 0; k < sizeof words / sizeof words[0]; k++) {
		char args[64];
		snprintf(args, sizeof args, "poll=40 %s", words[k]);
		c = parse(args, &bad);
		const char *word = !strcmp(words[k], "poll= 5") ? "poll=" : words[k];
		if (bad != 1 || strcmp(last, word))
			printf("  word %s: bad=%d last=%s\n", words[k], bad, last);
		CHECK_EQ(bad, 1);
		CHECK(!strcmp(last, word));
		CHECK_EQ(c.poll_us, 40); /* kept */
	}
}

/* A long bad word reaches warn NUL-terminated and cut to the buffer. */
static void long_word(void)
{
	char args[200] = "ip=1.2.3.4";
	int bad;
	memset(args + 10, '9', 150);
	args[160] = 0;
	parse(args, &bad);
	CHECK_EQ(bad, 1);
	CHECK_EQ(warned, 1);
	CHECK_EQ(strlen(last), 63);
	CHECK(!strncmp(last, args, 63));
}

static void dotted_quad(void)
{
	uint32_t a;
	CHECK_EQ(ip_parse("10.0.2.15", 9, &a), 0);
	CHECK_EQ(a, 0x0a00020f);
	CHECK_EQ(ip_parse("10.0.2.15", 8, &a), 0); /* exactly n chars: 10.0.2.1 */
	CHECK_EQ(a, 0x0a000201);
	CHECK_EQ(ip_parse("10.0.2.", 7, &a), -1);
	CHECK_EQ(ip_parse("", 0, &a), -1);
	CHECK_EQ(ip_parse("0.0.0.0", 7, &a), 0); /* syntax only: ip= rejects it */
	CHECK_EQ(a, 0);
	CHECK_EQ(ip_parse("255.255.255.255", 15, &a), 0);
	CHECK_EQ(a, 0xffffffffu);
	a = 42;
	CHECK_EQ(ip_parse("1.2.3.4 ", 8, &a), -1);
	CHECK_EQ(ip_parse(" 1.2.3.4", 8, &a), -1);
	CHECK_EQ(ip_parse("1.2.3.4", 6, &a), -1); /* "1.2.3.": n ends the string */
	CHECK_EQ(a, 42); /* untouched on error */
}

/* mcast=: a group outside 224.0.0.0/24; a bad one is reported and the
 * earlier setting (none, by default) kept. */
static void mcast_group(void)
{
	int bad;
	struct bootcfg c = parse("", &bad);
	CHECK_EQ(c.mcast, 0);
	c = parse("mcast=239.1.2.3", &bad);
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.mcast, 0xef010203u);
	c = parse("mcast=224.0.1.0 port=9", &bad); /* just past the control block */
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.mcast, 0xe0000100u);
	c = parse("mcast=239.255.255.255", &bad);
	CHECK_EQ(c.mcast, 0xefffffffu);
	static const char *words[] = {
		"mcast=224.0.0.1", "mcast=224.0.0.0", "mcast=224.0.0.255", "mcast=10.0.2.15",
		"mcast=240.0.0.1", "mcast=255.255.255.255", "mcast=223.255.255.255", "mcast=",
		"mcast=239.1.2", "mcast=239.1.2.3/8", "mcast=239.1.2.256", "mcast=0.0.0.0",
	};
	for (unsigned k = 0; k < sizeof words / sizeof words[0]; k++) {
		c = parse(words[k], &bad);
		if (bad != 1 || warned != 1 || strcmp(last, words[k]))
			printf("  word %s: bad=%d warned=%d last=%s\n", words[k], bad, warned, last);
		CHECK_EQ(bad, 1);
		CHECK_EQ(c.mcast, 0);
		CHECK_EQ(c.port, 7);
	}
	c = parse("mcast=239.1.2.3 mcast=224.0.0.2", &bad); /* the good one stays */
	CHECK_EQ(bad, 1);
	CHECK(!strcmp(last, "mcast=224.0.0.2"));
	CHECK_EQ(c.mcast, 0xef010203u);
}

int main(void)
{
	TEST(defaults);
	TEST(good);
	TEST(bad_values);
	TEST(mixed);
	TEST(edges);
	TEST(unusable);
	TEST(busy_poll);
	TEST(long_word);
	TEST(dotted_quad);
	TEST(mcast_group);
	DONE("bootargs");
}
