/*
 * The driver's test and the stack's ceiling: every frame goes straight
 * back out of the buffer it came in, source and destination MAC swapped.
 * No stack: the port hands the frames here.
 * rx_frames == tx_frames + tx_full + tx_bad + runts at all times.
 */
#include <stdio.h>
#include "app.h"
#include "drivers/port.h"

static uint32_t runts;

static void reflect(struct pkt *p)
{
	if (p->len < 12) {
		runts++;
		pkt_free(p);
		return;
	}
	uint8_t *f = p->data;
	for (int i = 0; i < 6; i++) {
		uint8_t t = f[i];
		f[i] = f[6 + i];
		f[6 + i] = t;
	}
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
