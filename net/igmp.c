/*
 * IGMPv2 for a host (RFC 2236), and the table of the groups the PCBs
 * joined. What a host must do: report a group when it joins (twice,
 * in case the first is lost), answer a router's queries after a random
 * delay, stay quiet when another member of the group answered first
 * (one report per group per link is all a router needs), and say
 * Leave when the last member goes. A router still speaking IGMPv1 gets
 * v1 reports and no Leave (section 4); an IGMPv3 query is taken as a v2
 * one (RFC 3376 7.2.1: what a v2 host does with it).
 *
 * Timers run from net_tick (CFG_TICK_MS): a report due at t leaves at
 * the first walk at or after t, so delays are drawn in [0, max - tick]
 * and the answer comes within the Max Response Time.
 */
#include "net.h"
#include "igmp.h"

struct group {
	uint32_t addr;  /* host order; meaningful while refs > 0 */
	uint16_t refs;  /* PCBs that joined it (each PCB counts once) */
	uint8_t timer;  /* a report is due at 'due' */
	uint32_t due;
};

static struct group groups[CFG_MCAST_GROUPS];
/* A v1 router was heard (a query with Max Resp Time 0) less than
 * CFG_IGMP_V1_ROUTER_MS ago: until v1_until, v1 reports and no Leave. */
static uint8_t v1_router;
static uint32_t v1_until;

void igmp_init(void)
{
	for (int i = 0; i < CFG_MCAST_GROUPS; i++)
		groups[i] = (struct group){0};
	v1_router = 0;
	v1_until = 0;
}

/* RFC 1112 6.4: 01:00:5e and the group's low 23 bits. */
static void group_mac(uint32_t g, uint8_t mac[6])
{
	mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
	mac[3] = (uint8_t)(g >> 16 & 0x7f), mac[4] = (uint8_t)(g >> 8), mac[5] = (uint8_t)g;
}

static void tell_nic(uint32_t g, int join)
{
	uint8_t mac[6];
	if (!netif.mcast)
		return;
	group_mac(g, mac);
	netif.mcast(mac, join);
}

/*
 * One IGMP message, 8 bytes, in an IP header with TTL 1 and the Router
 * Alert option (RFC 2236 2: routers must look at it even when not
 * members). Without an address (DHCP has not bound yet) nothing is sent:
 * a report from 0.0.0.0 is legal but ip_output refuses that source for
 * anything but a broadcast, and the query that follows the lease, or
 * the router's next General Query, brings the membership back.
 */
static void igmp_send(uint8_t type, uint32_t group, uint32_t dst)
{
	struct pkt *p = netif.ip ? pkt_alloc(PKT_STACK) : NULL;
	if (!p) {
		STAT(igmp, tx_err);
		return;
	}
	uint8_t *m = p->data;
	m[IGMP_TYPE] = type;
	m[IGMP_MAXRESP] = 0;
	put16(m + IGMP_CSUM, 0);
	put32(m + IGMP_GROUP, group);
	put16(m + IGMP_CSUM, csum_finish(csum_add(0, m, IGMP_HLEN)));
	p->len = IGMP_HLEN;
	if (ip_output_tx(p, 0, dst, IPPROTO_IGMP, (struct ip_tx){.ttl = 1, .tos = 0, .ra = 1})) {
		STAT(igmp, tx_err);
		return;
	}
	if (type == IGMP_LEAVE)
		STAT(igmp, tx_leave);
	else
		STAT(igmp, tx_report);
}

static int v1_present(void)
{
	return v1_router && (int32_t)(net_clock - v1_until) < 0;
}

static void report(const struct group *g)
{
	igmp_send(v1_present() ? IGMP_V1_REPORT : IGMP_V2_REPORT, g->addr, g->addr);
}

/* A query asks for a report within max_ms: a running timer that ends
 * sooner stays (RFC 2236 3), otherwise a random one in [0, max_ms]
 * (less a tick, see above). */
static void query_timer(struct group *g, uint32_t max_ms)
{
	if (g->timer && (int32_t)(g->due - net_clock) <= (int32_t)max_ms)
		return;
	uint32_t span = max_ms > CFG_TICK_MS ? max_ms - CFG_TICK_MS : 0;
	g->timer = 1;
	g->due = net_clock + net_random() % (span + 1);
}

void igmp_readdress(void)
{
	for (struct group *g = groups; g < groups + CFG_MCAST_GROUPS; g++)
		if (g->refs)
			query_timer(g, CFG_IGMP_UNSOL_MS);
}

void igmp_tick(uint32_t now)
{
	if (v1_router && (int32_t)(now - v1_until) >= 0)
		v1_router = 0;
	for (struct group *g = groups; g < groups + CFG_MCAST_GROUPS; g++) {
		if (g->refs && g->timer && (int32_t)(now - g->due) >= 0) {
			g->timer = 0;
			report(g);
		}
	}
}

uint32_t igmp_next_due(uint32_t now)
{
	uint32_t d = UINT32_MAX;
	if (v1_router)
		d = (int32_t)(v1_until - now) > 0 ? v1_until - now : 0;
	for (const struct group *g = groups; g < groups + CFG_MCAST_GROUPS; g++) {
		if (g->refs && g->timer) {
			uint32_t t = (int32_t)(g->due - now) > 0 ? g->due - now : 0;
			d = t < d ? t : d;
		}
	}
	return d;
}

int igmp_slot(uint32_t group)
{
	for (int i = 0; i < CFG_MCAST_GROUPS; i++)
		if (groups[i].refs && groups[i].addr == group)
			return i;
	return -1;
}

/* All-hosts is every host's without joining, and never reported
 * (RFC 2236 6): udp_join refuses it. */
int igmp_join(uint32_t group)
{
	if (!ip_is_mcast(group) || group == IGMP_ALL_HOSTS)
		return NET_ERR_ARG;
	int slot = igmp_slot(group);
	if (slot >= 0) {
		groups[slot].refs++;
		return slot;
	}
	for (int i = 0; i < CFG_MCAST_GROUPS; i++) {
		struct group *g = &groups[i];
		if (g->refs)
			continue;
		*g = (struct group){.addr = group, .refs = 1};
		tell_nic(group, 1);
		/* unsolicited: now, and once more a random 1..CFG_IGMP_UNSOL_MS
		 * later (RFC 2236 3: "repeat once or twice after short delays") */
		report(g);
		g->timer = 1;
		g->due = net_clock + 1 + net_random() % CFG_IGMP_UNSOL_MS;
		return i;
	}
	STAT(igmp, groups_full);
	return NET_ERR_MEM;
}

/* The last member gone: Leave Group to all-routers (RFC 2236 3), unless
 * a v1 router is about, which knows no Leave. Sent whether or not we
 * were the last to report (the flag RFC 2236 lets a host keep to skip
 * it): one message more, and the router stops forwarding sooner. */
void igmp_leave(int slot)
{
	if (slot < 0 || slot >= CFG_MCAST_GROUPS || !groups[slot].refs)
		return;
	struct group *g = &groups[slot];
	if (--g->refs)
		return;
	g->timer = 0;
	if (!v1_present())
		igmp_send(IGMP_LEAVE, g->addr, IGMP_ALL_ROUTERS);
	tell_nic(g->addr, 0);
}

int igmp_ip_accepts(uint32_t group, uint8_t proto)
{
	if (group == IGMP_ALL_HOSTS)
		return proto == IPPROTO_IGMP;
	return igmp_slot(group) >= 0;
}

int igmp_mac_accepts(const uint8_t *m)
{
	if (m[0] != 0x01 || m[1] != 0x00 || m[2] != 0x5e || (m[3] & 0x80))
		return 0;
	uint32_t low = (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5];
	if (low == (IGMP_ALL_HOSTS & 0x7fffff))
		return 1;
	for (const struct group *g = groups; g < groups + CFG_MCAST_GROUPS; g++)
		if (g->refs && (g->addr & 0x7fffff) == low)
			return 1;
	return 0;
}

/*
 * A query: v1 (8 bytes, Max Resp Time 0: 10 s, RFC 2236 4), v2 (8
 * bytes), v3 (12 or more; its Max Resp Code read as v2's, as a v2 host
 * does, RFC 3376 7.2.1; its sources ignored). A general one (group 0)
 * sets a timer for every group we are in, a group-specific one for that
 * group, if ours. 9..11 bytes is no query at all (RFC 3376 7.1).
 */
static int igmp_query(const uint8_t *m, unsigned len)
{
	uint32_t group = get32(m + IGMP_GROUP);
	uint32_t max = m[IGMP_MAXRESP];
	if ((len > IGMP_HLEN && len < 12) || (group && !ip_is_mcast(group)))
		return -1;
	if (len == IGMP_HLEN && max == 0) {
		max = 100;
		group = 0; /* v1 queries are general: the field is unused */
		v1_router = 1;
		v1_until = net_clock + CFG_IGMP_V1_ROUTER_MS;
	}
	for (struct group *g = groups; g < groups + CFG_MCAST_GROUPS; g++)
		if (g->refs && (!group || g->addr == group))
			query_timer(g, max * 100);
	return 0;
}

void igmp_input(struct pkt *p)
{
	const uint8_t *m = p->data;
	unsigned len = p->len;
	if (len < IGMP_HLEN) {
		STAT(igmp, drop_short);
		goto out;
	}
	if (csum_fold(csum_add(0, m, len)) != 0xffff) {
		STAT(igmp, drop_csum);
		goto out;
	}
	int slot;
	switch (m[IGMP_TYPE]) {
	case IGMP_QUERY:
		if (igmp_query(m, len)) {
			STAT(igmp, drop_malformed);
			goto out;
		}
		STAT(igmp, query);
		break;
	case IGMP_V1_REPORT:
	case IGMP_V2_REPORT:
		/* another member answered: ours would tell the router nothing */
		slot = igmp_slot(get32(m + IGMP_GROUP));
		if (slot < 0) {
			STAT(igmp, ignored);
			break;
		}
		groups[slot].timer = 0;
		STAT(igmp, report_heard);
		break;
	default: /* Leave (for routers), v3 reports, DVMRP, ... */
		STAT(igmp, ignored);
		break;
	}
out:
	pkt_free(p);
}
