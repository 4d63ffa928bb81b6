/* What main.c needs from the application it is built with (APP=). */
#ifndef APP_APP_H
#define APP_APP_H

#include <stdint.h>
#include "bootargs.h"

struct app {
	const char *name;
	int stack;         /* start the stack and give it the received frames */
	void (*start)(const struct bootcfg *cfg); /* after the NIC and the stack */
	void (*ready)(void);                      /* how to reach it, on the console */
	void (*stats)(void);                      /* its counters, for `stats` */
	int (*stats_ok)(void);                    /* do its counters add up? (NULL: nothing to add) */
	void (*reset)(void);                      /* zero its counters */
	/* A console command of its own: 1 if it took cmd, else 0 (NULL: none);
	 * help names what it takes, for the console's help line. */
	int (*command)(const char *cmd);
	const char *help;
};

extern const struct app app;

/* main.c: the superloop's own accounting, for `stats` and benchmarks. */
struct loop_stats {
	uint64_t busy_instret; /* instructions retired while awake (wfi excluded) */
	uint32_t wakeups;
	uint32_t repeats;      /* passes that went on without sleeping: passes are these
				  and the wake-ups */
	uint32_t boot_ms;      /* clock at ready */
	uint64_t boot_instret; /* instret at ready */
};
extern struct loop_stats loop_stats;

/* console.c */
void console_start(void);
int console_pending(void);
void console_poll(void);
void print_ip(const char *label, uint32_t a); /* label, then a.b.c.d */

#endif
