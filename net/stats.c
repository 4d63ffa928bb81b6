#include <stddef.h>
#include <string.h>
#include "stats.h"
#include "tune.h"

NET_GP struct net_stats net_stats;

#define OFF(f) offsetof(struct net_stats, f)
#define DESC(layer, name, role) \
	{#layer, #name, STAT_##role, OFF(layer##_##name), {STAT_NONE, STAT_NONE}},
#define ALIAS(layer, name, role, same) {#layer, #name, STAT_##role, OFF(same), {STAT_NONE, STAT_NONE}},
#define SUM(layer, name, role, a, b, c) {#layer, #name, STAT_##role, OFF(a), {OFF(b), OFF(c)}},
const struct stat_desc net_stat_desc[] = {NET_STATS(DESC, ALIAS, SUM)};
#undef DESC
#undef ALIAS
#undef SUM
#undef OFF
const unsigned net_stat_count = sizeof net_stat_desc / sizeof net_stat_desc[0];

static uint32_t word(uint16_t offset)
{
	uint32_t v;
	memcpy(&v, (const char *)&net_stats + offset, sizeof v);
	return v;
}

uint32_t net_stat_value(const struct stat_desc *d)
{
	uint32_t v = word(d->offset);
	for (int i = 0; i < 2; i++)
		if (d->plus[i] != STAT_NONE)
			v += word(d->plus[i]);
	return v;
}

uint32_t net_stat_get(const char *layer, const char *name)
{
	for (unsigned i = 0; i < net_stat_count; i++)
		if (!strcmp(net_stat_desc[i].layer, layer) && !strcmp(net_stat_desc[i].name, name))
			return net_stat_value(&net_stat_desc[i]);
	return ~0u;
}

const char *net_stats_check(void)
{
	unsigned i = 0;
	while (i < net_stat_count) {
		const char *layer = net_stat_desc[i].layer;
		uint32_t in = 0, out = 0;
		for (; i < net_stat_count && !strcmp(net_stat_desc[i].layer, layer); i++) {
			if (net_stat_desc[i].role == STAT_IN)
				in += net_stat_value(&net_stat_desc[i]);
			else if (net_stat_desc[i].role != STAT_INFO)
				out += net_stat_value(&net_stat_desc[i]);
		}
		if (in != out)
			return layer;
	}
	return NULL;
}

OUT_OF_LINE void net_stats_reset(void)
{
	memset(&net_stats, 0, sizeof net_stats);
}
