/*
 * The UART console: a line at a time, read only when the UART's
 * interrupt says bytes are waiting, so it never blocks the superloop.
 */
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "drivers/riscv.h"
#include "drivers/platform.h"
#include "drivers/port.h"
#include "net/dhcp.h"
#include "net/net.h"

static char line[80];
static unsigned len;
static GP_DATA volatile int waiting; /* read every pass (net/tune.h: GP_DATA) */

static void uart_ready(void *arg)
{
	(void)arg;
	waiting = 1;
}

int console_pending(void)
{
	return waiting;
}

void print_ip(const char *label, uint32_t a)
{
	printf("%s%u.%u.%u.%u", label, a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

static void cmd_stats(void)
{
	const char *layer = "";
	for (unsigned i = 0; i < net_stat_count; i++) {
		const struct stat_desc *d = &net_stat_desc[i];
		uint32_t v = net_stat_value(d);
		if (strcmp(layer, d->layer)) {
			layer = d->layer;
			printf("\n%-5s", layer);
		}
		printf(" %s=%lu", d->name, (unsigned long)v);
	}
	printf("\n");
	if (app.stats)
		app.stats();
	struct nic *n = port_nic();
	static const struct nic_stats none;
	const struct nic_stats *s = n ? n->stats : &none;
	unsigned rx_posted = 0, tx_inflight = 0;
	if (n) {
		n->stats_sync();
		n->rings(&rx_posted, &tx_inflight);
	}
	printf("nic   rx=%lu rx_bytes=%lu tx=%lu tx_bytes=%lu rx_nobuf=%lu rx_bad=%lu "
	       "tx_full=%lu tx_bad=%lu irqs=%lu notifies=%lu link_changes=%lu csum_fixed=%lu "
	       "dev_errors=%lu filter_errors=%lu\n",
	       (unsigned long)s->rx_frames, (unsigned long)s->rx_bytes,
	       (unsigned long)s->tx_frames, (unsigned long)s->tx_bytes,
	       (unsigned long)s->rx_nobuf, (unsigned long)s->rx_bad,
	       (unsigned long)s->tx_full, (unsigned long)s->tx_bad,
	       (unsigned long)s->irqs, (unsigned long)s->notifies,
	       (unsigned long)s->link_changes, (unsigned long)s->csum_fixed,
	       (unsigned long)s->dev_errors, (unsigned long)s->filter_errors);
	/* free + rx_posted + tx_inflight + reass_held = total, when idle:
	 * datagrams in progress hold the buffers their fragments came in */
	printf("pool  free=%u/%u low=%lu alloc_fail=%lu bad_free=%lu bad_use=%lu rx_posted=%u "
	       "tx_inflight=%u reass_held=%u\n",
	       pkt_free_count(), CFG_PKT_COUNT, (unsigned long)pkt_stats.low_water,
	       (unsigned long)pkt_stats.alloc_fail, (unsigned long)pkt_stats.bad_free,
	       (unsigned long)pkt_stats.bad_use, rx_posted, tx_inflight, ip_reass_held());
	printf("loop  busy_instret=%llu wakeups=%lu passes=%lu boot_ms=%lu boot_instret=%llu\n",
	       (unsigned long long)loop_stats.busy_instret, (unsigned long)loop_stats.wakeups,
	       (unsigned long)(loop_stats.wakeups + loop_stats.repeats), (unsigned long)loop_stats.boot_ms,
	       (unsigned long long)loop_stats.boot_instret);
	const char *bad = net_stats_check();
	if (!bad && app.stats_ok && !app.stats_ok())
		bad = app.name;
	printf("check %s%s\n", bad ? "FAILED in layer " : "ok", bad ? bad : "");
}

/* DHCP's events, as they happen: what the interface has now. */
static void dhcp_event(const char *event)
{
	printf("dhcp: %s, inet", event);
	print_ip(" ", netif.ip);
	printf("/%d", __builtin_popcount(netif.mask));
	if (netif.gw)
		print_ip(" gw ", netif.gw);
	printf("\n");
}

void console_start(void)
{
	uart_rx_irq(uart_ready, NULL);
	dhcp_set_hook(dhcp_event);
}

static void print_time(const char *label, uint32_t s)
{
	if (s == DHCP_INFINITE)
		printf("%snever", label);
	else
		printf("%s%lu s", label, (unsigned long)s);
}

static void print_list(const char *label, const uint32_t *a, unsigned n)
{
	printf("%s", label);
	for (unsigned i = 0; i < n; i++)
		print_ip(i ? "," : "", a[i]);
	if (!n)
		printf("none");
}

/* The lease, for ifconfig: its server, what is left, T1 and T2. */
static void cmd_lease(void)
{
	uint32_t left, t1, t2;
	enum dhcp_state st = dhcp_state();
	if (st == DHCP_OFF)
		return;
	printf("dhcp %s", dhcp_state_name(st));
	const struct dhcp_lease *l = dhcp_lease(&left, &t1, &t2);
	if (l) {
		print_ip(" server ", l->server);
		print_time(" lease ", l->lease_s);
		print_time(" left ", left);
		print_time(" t1 in ", t1);
		print_time(" t2 in ", t2);
		print_list("\ndns ", l->dns, l->ndns);
		print_list(" ntp ", l->ntp, l->nntp);
		if (l->mtu)
			printf(" mtu option %u", l->mtu);
	}
	printf("\n");
}

/* dhcp [renew | release]: the lease, or what to do with it. */
static void cmd_dhcp(const char *arg)
{
	if (!strcmp(arg, "renew")) {
		if (dhcp_renew())
			printf("dhcp: an address is still being acquired (%s)\n",
			       dhcp_state_name(dhcp_state()));
	} else if (!strcmp(arg, "release")) {
		if (dhcp_release())
			printf("dhcp: no lease held; client stopped\n");
	} else if (!arg[0]) {
		if (dhcp_state() == DHCP_OFF)
			printf("dhcp off\n");
		cmd_lease();
	} else {
		printf("usage: dhcp [renew|release]\n");
	}
}

static void cmd_ifconfig(void)
{
	printf("mac %02x:%02x:%02x:%02x:%02x:%02x link %s mtu %u\n", netif.mac[0], netif.mac[1],
	       netif.mac[2], netif.mac[3], netif.mac[4], netif.mac[5],
	       netif.link_up ? "up" : "down", netif.mtu);
	print_ip("inet ", netif.ip);
	print_ip(" mask ", netif.mask);
	print_ip(" gw ", netif.gw);
	printf("\n");
	cmd_lease();
}

static void cmd_arp(void)
{
	uint32_t ip, age;
	uint8_t mac[6];
	int state;
	for (unsigned i = 0; arp_entry_get(i, &ip, mac, &state, &age) == 0; i++) {
		if (state == 0)
			continue;
		print_ip("", ip);
		printf(" %02x:%02x:%02x:%02x:%02x:%02x %s age %lu ms\n", mac[0], mac[1], mac[2],
		       mac[3], mac[4], mac[5], state == 1 ? "pending" : "stable",
		       (unsigned long)age);
	}
}

static void run(const char *cmd)
{
	if (!strcmp(cmd, "stats"))
		cmd_stats();
	else if (!strcmp(cmd, "ifconfig"))
		cmd_ifconfig();
	else if (!strcmp(cmd, "arp"))
		cmd_arp();
	else if (!strcmp(cmd, "dhcp") || !strncmp(cmd, "dhcp ", 5))
		cmd_dhcp(cmd[4] ? cmd + 5 : "");
	else if (!strcmp(cmd, "reset")) {
		net_stats_reset();
		if (app.reset)
			app.reset();
		struct nic *n = port_nic();
		if (n) {
			n->stats_sync(); /* what it folds in is then cleared too */
			memset(n->stats, 0, sizeof *n->stats);
		}
		loop_stats.busy_instret = 0;
		loop_stats.wakeups = loop_stats.repeats = 0;
		printf("counters reset\n");
	} else if (!strcmp(cmd, "poweroff"))
		platform_exit(0);
	else if (!strcmp(cmd, "help"))
		printf("commands: stats ifconfig arp dhcp [renew|release] %s%sreset poweroff help\n",
		       app.help ? app.help : "", app.help ? " " : "");
	else if (app.command && app.command(cmd))
		;
	else if (cmd[0])
		printf("unknown command '%s' (try help)\n", cmd);
}

__attribute__((noinline)) void console_poll(void)
{
	int c;
	waiting = 0;
	while ((c = uart_getc()) >= 0) {
		if (c == '\r' || c == '\n') {
			printf("\n");
			line[len] = 0;
			run(line);
			len = 0;
			printf("> ");
		} else if ((c == 8 || c == 127) && len) {
			len--;
			printf("\b \b");
		} else if (c >= ' ' && c < 127 && len < sizeof line - 1) {
			line[len++] = (char)c;
			uart_putc((char)c);
		}
	}
}
