/* The telemetry firmware (make APP=telemetry): the service of
 * telemetry.c, its clock from a software timer; queries on the port boot
 * arguments choose (port=, default CFG_ECHO_PORT: make run's 5555). */
#include <stdio.h>
#include "app.h"
#include "config.h"
#include "drivers/platform.h"
#include "telemetry.h"

static struct swtimer timer;
static uint16_t port;

static void on_timer(void *arg)
{
	(void)arg;
	telem_tick(timer_ms());
}

static void start(const struct bootcfg *cfg)
{
	port = cfg->port;
	int err = telem_start(port);
	if (err)
		printf("telemetry: cannot open UDP port %u (error %d)\n", cfg->port, err);
	swtimer_start(&timer, 1000, 1000, on_timer, NULL);
}

static __attribute__((noinline)) void ready(void)
{
	printf("telemetry: a report every %u ms to the gateway's UDP port %u (on the host: nc -ul %u)\n",
	       CFG_TELEM_PERIOD_MS, CFG_TELEM_PORT, CFG_TELEM_PORT);
	printf("telemetry: queries answered on UDP port %u (make run forwards 127.0.0.1:5555 to port 7)\n",
	       port);
	printf("console: type 'help' for commands\n");
}

static void stats(void)
{
	const struct telem_stats *s = &telem_stats;
	printf("telem reports=%lu report_err=%lu refused=%lu rx=%lu answered=%lu drop_src=%lu "
	       "drop_tx=%lu\n",
	       (unsigned long)s->reports, (unsigned long)s->report_err, (unsigned long)s->refused,
	       (unsigned long)s->rx, (unsigned long)s->answered, (unsigned long)s->drop_src,
	       (unsigned long)s->drop_tx);
}

const struct app app = {
	.name = "telemetry",
	.stack = 1,
	.start = start,
	.ready = ready,
	.stats = stats,
	.stats_ok = telem_stats_ok,
	.reset = telem_stats_reset,
};
