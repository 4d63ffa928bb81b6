/* The echo firmware: the service of echo.c on the port boot arguments
 * choose. */
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "echo.h"
#include "net/netif.h"

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
	printf("echo  rx=%lu replied=%lu drop_src=%lu drop_loop=%lu drop_bcast=%lu mcast=%lu\n",
	       (unsigned long)s->rx, (unsigned long)s->replied, (unsigned long)s->drop_src,
	       (unsigned long)s->drop_loop, (unsigned long)s->drop_bcast, (unsigned long)s->mcast);
}

/* mcast: the group the service answers on; mcast join A.B.C.D joins one
 * (replacing the one it had: a leave, then a join), mcast leave leaves
 * it (IGMP Leave Group). The rules of the mcast= boot argument hold. */
static int command(const char *cmd)
{
	uint32_t g;
	int err;
	if (strcmp(cmd, "mcast") && strncmp(cmd, "mcast ", 6))
		return 0;
	cmd += 5;
	if (!strncmp(cmd, " join ", 6)) {
		cmd += 6;
		if (ip_parse(cmd, strlen(cmd), &g) || !ip_is_mcast(g) || (g >> 8) == 0xe00000) {
			printf("mcast: '%s' is no group outside 224.0.0.0/24\n", cmd);
			return 1;
		}
		if ((err = echo_join(g)) != 0) {
			print_ip("mcast: cannot join group ", g), printf(" (error %d)\n", err);
			return 1;
		}
	} else if (!strcmp(cmd, " leave")) {
		if ((err = echo_leave()) != 0) {
			printf("mcast: no group to leave (error %d)\n", err);
			return 1;
		}
	} else if (cmd[0]) {
		printf("usage: mcast [join A.B.C.D | leave]\n");
		return 1;
	}
	if (echo_group())
		print_ip("mcast: group ", echo_group()), printf(" port %u\n", echo_port());
	else
		printf("mcast: no group\n");
	return 1;
}

const struct app app = {
	.name = "echo",
	.stack = 1,
	.start = start,
	.ready = ready,
	.stats = stats,
	.stats_ok = echo_stats_ok,
	.reset = echo_stats_reset,
	.command = command,
	.help = "mcast [join A.B.C.D|leave]",
};
