/*
 * The driver's test and the stack's ceiling: every frame goes straight
 * back out of the buffer it came in, source and destination MAC swapped.
 * No stack: the port hands the frames here.
 * rx_frames == tx_frames + tx_full + tx_bad + runts at all times, as
 * `stats` reads them (after the driver's stats_sync).
 */
#include <stdio.h>
#include "app.h"
#include "drivers/port.h"
#include "net/tune.h"

static uint32_t runts;

/* Destination and source MAC swapped: three halfwords each way where the
 * frame starts at an even address (a received one does), bytes otherwise
 * (net/tune.h: u16a). */
static void swap_macs(uint8_t *f)
{
	if (((uintptr_t)f & 1) == 0) {
		u16a *w = (u16a *)(void *)f;
		uint16_t d0 = w[0], d1 = w[1], d2 = w[2];
		w[0] = w[3], w[1] = w[4], w[2] = w[5];
		w[3] = d0, w[4] = d1, w[5] = d2;
		return;
	}
	for (int i = 0; i < 6; i++) {
		uint8_t t = f[i];
		f[i] = f[6 + i];
		f[6 + i] = t;
	}
}

static void reflect(struct pkt *p)
{
	if (p->len < 12) {
		runts++;
		pkt_free(p);
		return;
	}
	swap_macs(p->data);
	port_tx(p);
}

static void start(const struct bootcfg *cfg)
{
	(void)cfg;
	port_raw_input(reflect);
}

static __attribute__((noinline)) void ready(void)
{
	printf("l2reflect: every frame goes back with its MAC addresses swapped\n");
}

static void stats(void)
{
	printf("l2    runts=%lu\n", (unsigned long)runts);
}

static void reset(void)
{
	runts = 0;
}

const struct app app = {
	.name = "l2reflect",
	.stack = 0, /* frames go straight back: no stack */
	.start = start,
	.ready = ready,
	.stats = stats,
	.reset = reset,
};
