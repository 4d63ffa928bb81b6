#include <stddef.h>
#include <string.h>
#include "stats.h"
#include "tune.h"

NET_GP struct net_stats net_stats;

#define ROW(r) NET_STAT_ROW_##r
#define DESC(layer, name, role) \
	{#layer, #name, STAT_##role, STAT_COUNTED, offsetof(struct net_stats, layer##_##name), \
	 {STAT_NONE, STAT_NONE, STAT_NONE}},
#define ALIAS(layer, name, role, same) \
	{#layer, #name, STAT_##role, STAT_SUM, 0, {ROW(same), STAT_NONE, STAT_NONE}},
#define SUM(layer, name, role, a, b, c) \
	{#layer, #name, STAT_##role, STAT_SUM, 0, {ROW(a), ROW(b), ROW(c)}},
#define BAL(layer, name) {#layer, #name, STAT_IN, STAT_BALANCE, 0, {STAT_NONE, STAT_NONE, STAT_NONE}},
const struct stat_desc net_stat_desc[NET_STAT_ROWS] = {NET_STATS(DESC, ALIAS, SUM, BAL)};
#undef DESC
#undef ALIAS
#undef SUM
#undef BAL
#undef ROW
const unsigned net_stat_count = NET_STAT_ROWS;

static int same_layer(unsigned a, unsigned b)
{
	return !strcmp(net_stat_desc[a].layer, net_stat_desc[b].layer);
}

void net_stat_terms(unsigned r, int sign, void (*f)(void *ctx, unsigned offset, int sign), void *ctx)
{
	const struct stat_desc *d = &net_stat_desc[r];
	if (d->kind == STAT_COUNTED) {
		f(ctx, d->offset, sign);
	} else if (d->kind == STAT_SUM) {
		for (int i = 0; i < 3; i++)
			if (d->rows[i] != STAT_NONE)
				net_stat_terms(d->rows[i], sign, f, ctx);
	} else {
		/* the layer's rows lie together: its outcomes, less its other
		 * ways in (the row itself is not one of its own terms) */
		unsigned i = r;
		while (i > 0 && same_layer(i - 1, r))
			i--;
		for (; i < NET_STAT_ROWS && same_layer(i, r); i++)
			if (i != r && net_stat_desc[i].role != STAT_INFO)
				net_stat_terms(i, net_stat_desc[i].role == STAT_IN ? -sign : sign, f, ctx);
	}
}

static void add_word(void *ctx, unsigned offset, int sign)
{
	uint32_t v;
	memcpy(&v, (const char *)&net_stats + offset, sizeof v);
	*(uint32_t *)ctx += sign > 0 ? v : 0u - v;
}

uint32_t net_stat_value(const struct stat_desc *d)
{
	uint32_t v = 0;
	net_stat_terms((unsigned)(d - net_stat_desc), 1, add_word, &v);
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
