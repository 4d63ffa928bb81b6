#include <string.h>
#include "bootargs.h"
#include "net/config.h"

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

/* A host address we can use as our own or as a gateway. */
static int unicast(uint32_t a)
{
	return a != 0 && a != 0xffffffffu && (a >> 24) != 127 && (a >> 28) < 0xe;
}

static int set_ip(const char *v, size_t n, struct bootcfg *c)
{
	const char *slash = memchr(v, '/', n);
	size_t alen = slash ? (size_t)(slash - v) : n;
	uint32_t a, prefix = 0;
	if (ip_parse(v, alen, &a) || !unicast(a))
		return -1;
	if (slash && (num_parse(slash + 1, n - alen - 1, 2, &prefix) || prefix < 1 || prefix > 32))
		return -1;
	c->ip = a;
	if (slash)
		c->mask = prefix_mask(prefix);
	return 0;
}

static int setting(const char *w, size_t n, struct bootcfg *c)
{
	uint32_t v;
	if (n >= 3 && !memcmp(w, "ip=", 3))
		return set_ip(w + 3, n - 3, c);
	if (n >= 3 && !memcmp(w, "gw=", 3)) {
		if (ip_parse(w + 3, n - 3, &v) || !unicast(v))
			return -1;
		c->gw = v;
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

int bootargs_parse(const char *args, struct bootcfg *c, void (*warn)(const char *word))
{
	int bad = 0;
	while (args && *args) {
		while (*args == ' ' || *args == '\t')
			args++;
		size_t n = 0;
		while (args[n] && args[n] != ' ' && args[n] != '\t')
			n++;
		if (n && setting(args, n, c)) {
			bad++;
			if (warn) {
				char word[64];
				size_t l = n < sizeof word - 1 ? n : sizeof word - 1;
				memcpy(word, args, l);
				word[l] = 0;
				warn(word);
			}
		}
		args += n;
	}
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
}
