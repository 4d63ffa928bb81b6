/* The echo firmware: the service of echo.c on the port boot arguments
 * choose. */
#include <stdio.h>
#include "app.h"
#include "echo.h"

static void start(const struct bootcfg *cfg)
{
	int err = echo_start(cfg->port);
	if (err)
		printf("echo: cannot bind UDP port %u (error %d)\n", cfg->port, err);
	else if (cfg->mcast && (err = echo_join(cfg->mcast)) != 0)
		print_ip("echo: cannot join group ", cfg->mcast), printf(" (error %d)\n", err);
}

/* Out of line: make bench's boot profile ends where it is first called. */
static __attribute__((noinline)) void ready(void)
{
	printf("echo: listening on UDP port %u\n", echo_port());
	if (echo_group())
		print_ip("echo: and on group ", echo_group()), printf(" port %u (IGMPv2)\n", echo_port());
	printf("echo: from the host (make run forwards 127.0.0.1:5555 to it): nc -u 127.0.0.1 5555\n");
	printf("console: type 'help' for commands\n");
}

static void stats(void)
{
	const struct echo_stats *s = &echo_stats;
	printf("echo  rx=%lu replied=%lu drop_src=%lu drop_loop=%lu drop_bcast=%lu drop_tx=%lu mcast=%lu\n",
	       (unsigned long)s->rx, (unsigned long)s->replied, (unsigned long)s->drop_src,
	       (unsigned long)s->drop_loop, (unsigned long)s->drop_bcast, (unsigned long)s->drop_tx,
	       (unsigned long)s->mcast);
}

const struct app app = {
	.name = "echo",
	.stack = 1,
	.start = start,
	.ready = ready,
	.stats = stats,
	.stats_ok = echo_stats_ok,
	.reset = echo_stats_reset,
};
