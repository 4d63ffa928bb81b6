/* What main.c needs from the application it is built with (APP=). */
#ifndef APP_APP_H
#define APP_APP_H

#include <stdint.h>
#include "bootargs.h"
#include "net/pkt.h"

extern const char app_name[];
void app_init(const struct bootcfg *cfg); /* after the NIC is up */
void app_input(struct pkt *p);            /* one received frame; owns p */
void app_tick(uint32_t now_ms);           /* every CFG_TICK_MS */
void app_ready(void);                     /* print how to reach the service */

/* main.c: the superloop's own accounting, for `stats` and benchmarks. */
struct loop_stats {
	uint64_t busy_instret; /* instructions retired while awake (wfi excluded) */
	uint32_t wakeups, passes;
	uint32_t boot_ms;      /* clock at ready */
	uint64_t boot_instret; /* instret at ready */
};
extern struct loop_stats loop_stats;

/* console.c */
void console_init(void);
int console_pending(void);
void console_poll(void);

#endif
