#include <string.h>
#include "bootargs.h"
#include "config.h"
#include "net/netif.h"

/* A decimal number of 1..digits digits, exactly the n characters at s. */
static int num_parse(const char *s, size_t n, unsigned digits, uint32_t *out)
{
	uint32_t v = 0;
	if (n == 0 || n > digits)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int ip_parse(const char *s, size_t n, uint32_t *out)
{
	uint32_t a = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t j = i;
		while (j < n && s[j] != '.')
			j++;
		uint32_t v;
		if (num_parse(s + i, j - i, 3, &v) || v > 255)
			return -1;
		a = a << 8 | v;
		if (part < 3 && j == n)
			return -1; /* too few parts */
		i = j + 1;
	}
	if (i != n + 1)
		return -1; /* trailing characters */
	*out = a;
	return 0;
}

/* The netmask of a 1..32-bit prefix (a shift by 32 would be undefined). */
static uint32_t prefix_mask(uint32_t prefix)
{
	return prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

/* A host of the subnet: not its network address nor its broadcast
 * (a /31 has neither, RFC 3021). */
static int in_subnet(uint32_t a, uint32_t net, uint32_t mask)
{
	uint32_t host = a & ~mask;
	return (a & mask) == (net & mask) && (~mask == 1 || (host != 0 && host != ~mask));
}

/* Our address: a unicast host, and a host of its own subnet, which must
 * have room for two (no /32: every peer would be off-link, with the
 * gateway among them). */
static int set_ip(const char *v, size_t n, struct bootcfg *c)
{
	const char *slash = memchr(v, '/', n);
	size_t alen = slash ? (size_t)(slash - v) : n;
	uint32_t a, prefix = 0, mask = c->mask;
	if (ip_parse(v, alen, &a) || !ip_is_host(a))
		return -1;
	if (slash && (num_parse(slash + 1, n - alen - 1, 2, &prefix) || prefix < 1 || prefix > 31))
		return -1;
	if (slash)
		mask = prefix_mask(prefix);
	if (!in_subnet(a, a, mask))
		return -1;
	c->ip = a;
	c->mask = mask;
	return 0;
}

/* RFC 1123 2.1's host name characters, within what option 12 carries. */
static int set_hostname(const char *v, size_t n, struct bootcfg *c)
{
	if (n == 0 || n > CFG_DHCP_HOSTNAME_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int alnum = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
			    (v[i] >= '0' && v[i] <= '9');
		if (!alnum && (i == 0 || i == n - 1 || (v[i] != '-' && v[i] != '.')))
			return -1;
	}
	memcpy(c->hostname, v, n);
	c->hostname[n] = 0;
	return 0;
}

/* A gateway: another host of our subnet. */
static int gw_ok(uint32_t gw, const struct bootcfg *c)
{
	return ip_is_host(gw) && gw != c->ip && in_subnet(gw, c->ip, c->mask);
}

static int setting(const char *w, size_t n, struct bootcfg *c)
{
	uint32_t v;
	if (n == 7 && !memcmp(w, "ip=dhcp", 7)) {
		c->dhcp = 1;
		return 0;
	}
	if (n >= 3 && !memcmp(w, "ip=", 3)) {
		if (set_ip(w + 3, n - 3, c))
			return -1;
		c->dhcp = 0;
		return 0;
	}
	if (n >= 9 && !memcmp(w, "hostname=", 9))
		return set_hostname(w + 9, n - 9, c);
	if (n >= 3 && !memcmp(w, "gw=", 3)) {
		if (ip_parse(w + 3, n - 3, &v) || !ip_is_host(v))
			return -1;
		c->gw = v; /* checked against the subnet once every word is read */
		return 0;
	}
	if (n >= 6 && !memcmp(w, "mcast=", 6)) {
		/* a group, but not one of 224.0.0.0/24: those are the link's
		 * own protocols (RFC 5771), no service's */
		if (ip_parse(w + 6, n - 6, &v) || !ip_is_mcast(v) || (v >> 8) == 0xe00000)
			return -1;
		c->mcast = v;
		return 0;
	}
	if (n >= 5 && !memcmp(w, "poll=", 5)) {
		if (num_parse(w + 5, n - 5, 7, &v) || v > CFG_BUSY_POLL_MAX_US)
			return -1;
		c->poll_us = v;
		return 0;
	}
	if (n >= 5 && !memcmp(w, "port=", 5)) {
		if (num_parse(w + 5, n - 5, 5, &v) || v == 0 || v > 65535)
			return -1;
		c->port = (uint16_t)v;
		return 0;
	}
	return 0; /* not ours */
}

static void report(void (*warn)(const char *word), const char *w, size_t n)
{
	char word[64];
	size_t l = n < sizeof word - 1 ? n : sizeof word - 1;
	if (!warn)
		return;
	memcpy(word, w, l);
	word[l] = 0;
	warn(word);
}

int bootargs_parse(const char *args, struct bootcfg *c, void (*warn)(const char *word))
{
	int bad = 0;
	uint32_t gw0 = c->gw;
	const char *gw_word = NULL;
	size_t gw_len = 0;
	while (args && *args) {
		while (*args == ' ' || *args == '\t')
			args++;
		size_t n = 0;
		while (args[n] && args[n] != ' ' && args[n] != '\t')
			n++;
		if (n && setting(args, n, c)) {
			bad++;
			report(warn, args, n);
		} else if (n >= 3 && !memcmp(args, "gw=", 3)) {
			gw_word = args;
			gw_len = n;
		}
		args += n;
	}
	/* The gateway must be another host of the subnet we ended up in. A
	 * bad one keeps the earlier gateway if that fits, else there is none
	 * (only on-link peers are reachable). */
	if (gw_word && !gw_ok(c->gw, c)) {
		bad++;
		report(warn, gw_word, gw_len);
		c->gw = gw0;
	}
	if (!gw_ok(c->gw, c))
		c->gw = 0;
	return bad;
}

void bootcfg_defaults(struct bootcfg *c)
{
	uint32_t a = 0;
	ip_parse(CFG_IP_ADDR, strlen(CFG_IP_ADDR), &a);
	c->ip = a;
	c->mask = prefix_mask(CFG_IP_PREFIX);
	a = 0;
	ip_parse(CFG_IP_GW, strlen(CFG_IP_GW), &a);
	c->gw = a;
	c->port = CFG_ECHO_PORT;
	c->dhcp = CFG_IP_DHCP;
	c->poll_us = CFG_BUSY_POLL_US;
	c->hostname[0] = 0;
	c->mcast = 0;
}
