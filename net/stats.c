#include <stddef.h>
#include <string.h>
#include "stats.h"
#include "tune.h"

NET_GP struct net_stats net_stats;

#define DESC(layer, name, role) \
	{#layer, #name, STAT_##role, offsetof(struct net_stats, layer##_##name)},
#define ALIAS(layer, name, role, same) {#layer, #name, STAT_##role, offsetof(struct net_stats, same)},
const struct stat_desc net_stat_desc[] = {NET_STATS(DESC, ALIAS)};
#undef DESC
#undef ALIAS
const unsigned net_stat_count = sizeof net_stat_desc / sizeof net_stat_desc[0];

static uint32_t value(const struct stat_desc *d)
{
	uint32_t v;
	memcpy(&v, (const char *)&net_stats + d->offset, sizeof v);
	return v;
}

uint32_t net_stat_get(const char *layer, const char *name)
{
	for (unsigned i = 0; i < net_stat_count; i++)
		if (!strcmp(net_stat_desc[i].layer, layer) && !strcmp(net_stat_desc[i].name, name))
			return value(&net_stat_desc[i]);
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
				in += value(&net_stat_desc[i]);
			else if (net_stat_desc[i].role != STAT_INFO)
				out += value(&net_stat_desc[i]);
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
