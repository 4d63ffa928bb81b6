/*
 * The driver's test and the stack's ceiling: every frame goes straight
 * back out of the buffer it came in, source and destination MAC swapped.
 * rx_frames == tx_frames + tx_full + tx_bad + runts at all times.
 */
#include <stdio.h>
#include "app.h"
#include "drivers/platform.h"
#include "drivers/virtio_net.h"

const char app_name[] = "l2reflect";
uint32_t l2_runts;

void app_init(const struct bootcfg *cfg)
{
	(void)cfg;
}

void app_input(struct pkt *p)
{
	if (p->len < 12) {
		l2_runts++;
		pkt_free(p);
		return;
	}
	uint8_t *f = p->data;
	for (int i = 0; i < 6; i++) {
		uint8_t t = f[i];
		f[i] = f[6 + i];
		f[6 + i] = t;
	}
	virtio_net_tx(p);
}

void app_tick(uint32_t now)
{
	(void)now;
}

/* Out of line: make bench's boot profile ends where it is first called. */
__attribute__((noinline)) void app_ready(void)
{
	printf("l2reflect: every frame goes back with its MAC addresses swapped\n");
}
