/*
 * The telemetry sender (telemetry.h): one connected PCB for the reports,
 * one bound PCB for queries. Only the UDP API and netif, as echo.c.
 */
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "telemetry.h"
#include "net/netif.h"
#include "net/stats.h"
#include "net/udp.h"

struct telem_stats telem_stats;
static struct udp_pcb *rep, *qry;
static uint32_t due, hold_until, last_now, seq;
static int holding, started; /* started: due is set */

unsigned telem_report(char *buf, unsigned n, uint32_t now)
{
	int k = snprintf(buf, n, "rvnet seq=%lu up_ms=%lu udp_rx=%lu udp_tx=%lu icmp_rx=%lu\n",
			 (unsigned long)seq, (unsigned long)now, (unsigned long)net_stat_row(NET_STAT_ROW(udp, rx)),
			 (unsigned long)net_stats.udp_tx, (unsigned long)net_stat_row(NET_STAT_ROW(icmp, rx)));
	return k < 0 ? 0 : (unsigned)k < n ? (unsigned)k : n;
}

/* A report came back as an ICMP error (the stack checked it quotes one
 * of ours, to the collector): nobody there, or no way there. Sending on
 * would only draw more errors; wait, then try again. */
static void rep_err(struct udp_pcb *pcb, uint8_t type, uint8_t code, uint32_t dst, uint16_t dport,
		    void *arg)
{
	(void)pcb, (void)type, (void)code, (void)dst, (void)dport, (void)arg;
	telem_stats.refused++;
	holding = 1;
	hold_until = last_now + CFG_TELEM_BACKOFF_MS;
}

/* A query: answered with the report, written over the query in its own
 * buffer (the headers in front of it leave room for the answer's). Never
 * to a broadcast (one query, many answers), a non-unicast source, or a
 * port below 1024: a well-known service would answer back, and the two
 * could go on forever. */
static void qry_recv(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	uint32_t src = udp_src_ip(p);
	uint16_t sport = udp_src_port(p);
	(void)arg;
	telem_stats.rx++;
	if ((p->flags & PKT_F_BCAST) || !ip_is_unicast(src) || sport < 1024) {
		telem_stats.drop_src++;
		pkt_free(p);
		return;
	}
	/* The report replaces the query in the first buffer, all of whose
	 * room it may use: the rest of a query that came in fragments (a
	 * chain, udp.h) is freed, else it would be sent after it */
	pkt_chain_trim(p, 0);
	p->len = (uint16_t)telem_report((char *)p->data, (unsigned)pkt_tailroom(p), last_now);
	p->flags &= (uint8_t)~PKT_F_PSUM; /* new payload: the kept sum is wrong now */
	if (udp_sendto(pcb, p, src, sport) == 0)
		telem_stats.answered++;
	else
		telem_stats.drop_tx++;
}

void telem_tick(uint32_t now)
{
	last_now = now;
	if (!rep)
		return;
	if (holding && (int32_t)(now - hold_until) < 0)
		return;
	holding = 0;
	if (started && (int32_t)(now - due) < 0)
		return;
	started = 1;
	due = now + CFG_TELEM_PERIOD_MS;
	/* The collector is the gateway, which DHCP may give or change. */
	if (!netif.gw || !netif.ip)
		return;
	if (!rep->connected || rep->remote_ip != netif.gw)
		udp_connect(rep, netif.gw, CFG_TELEM_PORT);
	struct pkt *p = pkt_alloc(PKT_APP);
	if (!p) {
		telem_stats.report_err++;
		return;
	}
	seq++;
	p->len = (uint16_t)telem_report((char *)p->data, (unsigned)pkt_tailroom(p), now);
	if (udp_send(rep, p) == 0)
		telem_stats.reports++;
	else
		telem_stats.report_err++;
}

/* A second start (after net_init, the table is new) closes what the
 * first opened, if the slots are still ours. */
int telem_start(uint16_t query_port)
{
	if (rep && rep->used && rep->errf == rep_err)
		udp_remove(rep);
	if (qry && qry->used && qry->recv == qry_recv)
		udp_remove(qry);
	telem_stats_reset();
	started = holding = 0;
	seq = 0;
	rep = udp_new();
	qry = udp_new();
	int err = rep && qry ? udp_bind(qry, 0, query_port) : NET_ERR_MEM;
	if (!err)
		err = udp_recv(qry, qry_recv, NULL);
	if (!err)
		err = udp_err(rep, rep_err, NULL);
	if (err) {
		if (rep)
			udp_remove(rep);
		if (qry)
			udp_remove(qry);
		rep = qry = NULL;
	}
	return err;
}

void telem_stats_reset(void)
{
	memset(&telem_stats, 0, sizeof telem_stats);
}

int telem_stats_ok(void)
{
	const struct telem_stats *s = &telem_stats;
	return s->rx == s->answered + s->drop_src + s->drop_tx;
}
