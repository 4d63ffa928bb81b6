/* Multicast: the group table, IGMPv2 (RFC 2236) as a host speaks it,
 * and datagrams to groups in and out; frames in, frames out, counters
 * balanced and the pool full afterwards. */
#include "harness.h"
#include "../../net/igmp.h"
#include "../../app/echo.h"

#define G1 0xef010203u /* 239.1.2.3 */
#define G2 0xe0000105u /* 224.0.1.5 */
#define G1_ALIAS 0xe0010203u /* 224.1.2.3: the same MAC as G1 */

static uint8_t f[CFG_PKT_BUFSZ];

static void group_mac(uint32_t g, uint8_t mac[6])
{
	mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
	mac[3] = (uint8_t)(g >> 16 & 0x7f), mac[4] = (uint8_t)(g >> 8), mac[5] = (uint8_t)g;
}

/* An IGMP message (len bytes, the rest zero) from src to dst's MAC. */
static size_t igmp_frame(uint32_t src, uint32_t dst, uint8_t type, uint8_t maxresp, uint32_t group,
			 unsigned len)
{
	uint8_t mac[6];
	group_mac(dst, mac);
	size_t o = h_eth(f, mac, PEER_MAC, ETHTYPE_IP);
	o += h_ip(f + o, src, dst, IPPROTO_IGMP, (uint16_t)(IP_HLEN + len), 7, 0);
	uint8_t *m = f + o;
	memset(m, 0, len);
	m[0] = type;
	m[1] = maxresp;
	put32(m + 4, group);
	put16(m + 2, csum_finish(csum_add(0, m, len)));
	return o + len;
}

static size_t query(uint32_t dst, uint8_t maxresp, uint32_t group)
{
	return igmp_frame(PEER_IP, dst, IGMP_QUERY, maxresp, group, 8);
}

/* A UDP datagram PEER:sport -> group:dport, to the group's MAC. */
static size_t group_udp(uint32_t group, uint16_t sport, uint16_t dport, const char *payload)
{
	uint8_t mac[6];
	group_mac(group, mac);
	return h_udp_frame_to(f, mac, PEER_IP, group, sport, dport, payload, (uint16_t)strlen(payload));
}

/* Frame i is an IGMP message of ours: type, group, to dst, every field
 * RFC 2236 2 asks for (TTL 1, Router Alert, checksums). */
static void check_igmp(int i, uint8_t type, uint32_t group, uint32_t dst)
{
	const uint8_t *fr = h_frames[i], *ip = fr + ETH_HLEN, *m = ip + 24;
	uint8_t mac[6];
	group_mac(dst, mac);
	CHECK(i < h_nsent);
	CHECK_EQ(h_lens[i], ETH_HLEN + 24 + 8);
	CHECK(!memcmp(fr + ETH_DST, mac, 6));
	CHECK(!memcmp(fr + ETH_SRC, H_MAC, 6));
	CHECK_EQ(get16(fr + ETH_TYPE), ETHTYPE_IP);
	CHECK_EQ(ip[IP_VHL], 0x46);
	CHECK(h_ip_ok(ip));
	CHECK_EQ(get16(ip + IP_LEN), 24 + 8);
	CHECK_EQ(ip[IP_TTL], 1);
	CHECK_EQ(ip[IP_PROTO], IPPROTO_IGMP);
	CHECK_EQ(get32(ip + IP_SRC), H_IP);
	CHECK_EQ(get32(ip + IP_DST), dst);
	CHECK_EQ(get32(ip + IP_HLEN), 0x94040000u); /* Router Alert */
	CHECK_EQ(m[0], type);
	CHECK_EQ(m[1], 0);
	CHECK_EQ(get32(m + 4), group);
	CHECK(h_sum_ok(0, m, 8));
}

/* Advance tick by tick up to ms; the time of the first frame sent (ms
 * from now), or -1. */
static int run(uint32_t ms)
{
	int first = -1, n0 = h_nsent;
	for (uint32_t t = CFG_TICK_MS; t <= ms; t += CFG_TICK_MS) {
		h_advance(CFG_TICK_MS);
		if (first < 0 && h_nsent > n0)
			first = (int)t;
	}
	return first;
}

static int count_reports(uint32_t group, uint8_t type)
{
	int n = 0;
	for (int i = 0; i < h_nsent && i < H_MAX_FRAMES; i++) {
		const uint8_t *m = h_frames[i] + ETH_HLEN + 24;
		if (h_frames[i][ETH_HLEN + IP_PROTO] == IPPROTO_IGMP && m[0] == type && get32(m + 4) == group)
			n++;
	}
	return n;
}

/* A member with both groups, their unsolicited reports sent and done. */
static struct udp_pcb *member(void)
{
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(udp_join(pcb, G1), NET_OK);
	CHECK_EQ(udp_join(pcb, G2), NET_OK);
	run(CFG_IGMP_UNSOL_MS + CFG_TICK_MS);
	CHECK_EQ(h_stat("igmp", "tx_report"), 4);
	h_reset_sent();
	return pcb;
}

/* The NIC filter hook sees each group's MAC come and go. */
static int hook_calls, hook_joined;
static uint8_t hook_mac[6];
static void hook(const uint8_t mac[6], int join)
{
	hook_calls++;
	hook_joined += join ? 1 : -1;
	memcpy(hook_mac, mac, 6);
}

static void test_igmp_join_reports(void)
{
	h_init();
	netif.mcast = hook;
	hook_calls = hook_joined = 0;
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(udp_join(pcb, G1), NET_OK);
	CHECK_EQ(h_nsent, 1); /* the first at once */
	check_igmp(0, IGMP_V2_REPORT, G1, G1);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(hook_joined, 1);
	CHECK(!memcmp(hook_mac, "\x01\x00\x5e\x01\x02\x03", 6));
	int t = run(CFG_IGMP_UNSOL_MS + CFG_TICK_MS);
	CHECK(t > 0 && t <= CFG_IGMP_UNSOL_MS + CFG_TICK_MS);
	CHECK_EQ(h_nsent, 2);
	check_igmp(1, IGMP_V2_REPORT, G1, G1);
	CHECK_EQ(udp_join(pcb, G1), NET_OK); /* again: one membership, nothing sent */
	run(60000);
	CHECK_EQ(h_nsent, 2);
	CHECK_EQ(h_stat("igmp", "tx_report"), 2);
	/* a second PCB in the same group: no report, no hook call */
	struct udp_pcb *b = udp_new();
	CHECK_EQ(udp_join(b, G1), NET_OK);
	CHECK_EQ(h_nsent, 2);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(udp_join(pcb, 0x0a000202u), NET_ERR_ARG);
	CHECK_EQ(udp_join(pcb, IGMP_ALL_HOSTS), NET_ERR_ARG);
	udp_remove(pcb);
	udp_remove(b);
	CHECK_EQ(hook_joined, 0);
	CHECK_EQ(udp_join(pcb, G1), NET_ERR_CLOSED);
	netif.mcast = NULL;
	h_idle();
}

static void test_igmp_leave(void)
{
	h_init();
	struct udp_pcb *a = udp_new(), *b = udp_new();
	CHECK_EQ(udp_join(a, G1), NET_OK);
	CHECK_EQ(udp_join(b, G1), NET_OK);
	h_reset_sent();
	CHECK_EQ(udp_leave(a, G1), NET_OK);
	CHECK_EQ(h_nsent, 0); /* b is still in it */
	CHECK_EQ(udp_leave(a, G1), NET_ERR_ARG); /* not a member any more */
	CHECK_EQ(udp_leave(a, G2), NET_ERR_ARG);
	udp_remove(b); /* the last member: its membership goes with it */
	CHECK_EQ(h_nsent, 1);
	check_igmp(0, IGMP_LEAVE, G1, IGMP_ALL_ROUTERS);
	CHECK_EQ(h_stat("igmp", "tx_leave"), 1);
	run(5000); /* the pending unsolicited report died with the group */
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(igmp_slot(G1), -1);
	udp_remove(a);
	h_idle();
}

static void test_igmp_table_full(void)
{
	h_init();
	struct udp_pcb *pcb = udp_new();
	for (unsigned i = 0; i < CFG_MCAST_GROUPS; i++)
		CHECK_EQ(udp_join(pcb, 0xef000001u + i), NET_OK);
	CHECK_EQ(udp_join(pcb, 0xef000100u), NET_ERR_MEM);
	CHECK_EQ(h_stat("igmp", "groups_full"), 1);
	CHECK_EQ(udp_leave(pcb, 0xef000001u), NET_OK);
	CHECK_EQ(udp_join(pcb, 0xef000100u), NET_OK); /* the freed slot */
	udp_remove(pcb);
	CHECK_EQ(h_stat("igmp", "tx_leave"), CFG_MCAST_GROUPS + 1);
	h_idle();
}

/* A General Query (to 224.0.0.1, group 0): each group reported once,
 * within Max Resp Time (here 2 s). */
static void test_igmp_general_query(void)
{
	h_init();
	struct udp_pcb *pcb = member();
	h_inject(f, query(IGMP_ALL_HOSTS, 20, 0));
	CHECK_EQ(h_stat("igmp", "query"), 1);
	CHECK_EQ(h_nsent, 0); /* after a random delay, never at once from input */
	int t = run(2000);
	CHECK(t >= 0 && t <= 2000);
	CHECK_EQ(h_nsent, 2);
	CHECK_EQ(count_reports(G1, IGMP_V2_REPORT), 1);
	CHECK_EQ(count_reports(G2, IGMP_V2_REPORT), 1);
	for (int i = 0; i < h_nsent; i++) {
		uint32_t g = get32(h_frames[i] + ETH_HLEN + 24 + 4);
		check_igmp(i, IGMP_V2_REPORT, g, g);
	}
	run(30000);
	CHECK_EQ(h_nsent, 2); /* one per group per query */
	/* the delays are drawn, not fixed: over many queries they spread */
	int early = 0, late = 0;
	for (int k = 0; k < 20; k++) {
		h_reset_sent();
		h_inject(f, query(IGMP_ALL_HOSTS, 100, 0));
		t = run(10000);
		CHECK(t >= 0 && t <= 10000);
		early += t <= 5000;
		late += t > 5000;
	}
	CHECK(early > 0 && late > 0);
	udp_remove(pcb);
	h_idle();
}

/* A Group-Specific Query (to the group, naming it): that group only. A
 * query for a group we are not in: nothing. */
static void test_igmp_group_query(void)
{
	h_init();
	struct udp_pcb *pcb = member();
	h_inject(f, query(G1, 10, G1));
	CHECK_EQ(h_stat("igmp", "query"), 1);
	int t = run(1000);
	CHECK(t >= 0 && t <= 1000);
	CHECK_EQ(h_nsent, 1);
	check_igmp(0, IGMP_V2_REPORT, G1, G1);
	h_reset_sent();
	h_inject(f, query(IGMP_ALL_HOSTS, 10, 0xef090909u)); /* not ours */
	h_inject(f, query(0xef090909u, 10, 0xef090909u));   /* not even its MAC is ours */
	CHECK_EQ(h_stat("eth", "drop_not_ours"), 1);
	CHECK_EQ(h_stat("igmp", "query"), 2);
	run(5000);
	CHECK_EQ(h_nsent, 0);
	/* a running timer that ends sooner than a new query's Max Resp Time stays */
	h_inject(f, query(G1, 10, G1));
	h_inject(f, query(G1, 250, G1));
	t = run(1000);
	CHECK(t >= 0 && t <= 1000);
	CHECK_EQ(h_nsent, 1);
	udp_remove(pcb);
	h_idle();
}

/* IGMPv1: Max Resp Time 0 means 10 s; while a v1 router is about,
 * reports are v1 and no Leave is sent (RFC 2236 4). */
static void test_igmp_v1_query(void)
{
	h_init();
	struct udp_pcb *pcb = member();
	h_inject(f, query(IGMP_ALL_HOSTS, 0, 0));
	int t = run(10000);
	CHECK(t >= 0 && t <= 10000);
	CHECK_EQ(h_nsent, 2);
	CHECK_EQ(count_reports(G1, IGMP_V1_REPORT), 1);
	CHECK_EQ(count_reports(G2, IGMP_V1_REPORT), 1);
	check_igmp(0, IGMP_V1_REPORT, get32(h_frames[0] + ETH_HLEN + 28), get32(h_frames[0] + ETH_HLEN + 28));
	h_reset_sent();
	CHECK_EQ(udp_leave(pcb, G2), NET_OK);
	CHECK_EQ(h_nsent, 0); /* no Leave for a v1 router */
	run(CFG_IGMP_V1_ROUTER_MS);
	h_inject(f, query(IGMP_ALL_HOSTS, 10, 0)); /* v2 again */
	run(1000);
	CHECK_EQ(count_reports(G1, IGMP_V2_REPORT), 1);
	udp_remove(pcb);
	CHECK_EQ(count_reports(G1, IGMP_LEAVE), 1);
	h_idle();
}

/* IGMPv3 queries (12 bytes and more) are v2 queries to a v2 host (RFC
 * 3376 7.2.1), answered with v2 reports; 9..11 bytes is no query (7.1). */
static void test_igmp_v3_query(void)
{
	h_init();
	struct udp_pcb *pcb = member();
	h_inject(f, igmp_frame(PEER_IP, IGMP_ALL_HOSTS, IGMP_QUERY, 10, 0, 12));
	h_inject(f, igmp_frame(PEER_IP, G1, IGMP_QUERY, 10, G1, 16)); /* with a source */
	CHECK_EQ(h_stat("igmp", "query"), 2);
	int t = run(1000);
	CHECK(t >= 0 && t <= 1000);
	CHECK_EQ(count_reports(G1, IGMP_V2_REPORT), 1);
	CHECK_EQ(count_reports(G2, IGMP_V2_REPORT), 1);
	CHECK_EQ(h_nsent, 2);
	h_reset_sent();
	h_inject(f, igmp_frame(PEER_IP, IGMP_ALL_HOSTS, IGMP_QUERY, 10, 0, 10));
	CHECK_EQ(h_stat("igmp", "drop_malformed"), 1);
	run(2000);
	CHECK_EQ(h_nsent, 0);
	udp_remove(pcb);
	h_idle();
}

/* Another member's report for the group cancels ours (RFC 2236 3). */
static void test_igmp_suppression(void)
{
	h_init();
	struct udp_pcb *pcb = member();
	h_inject(f, query(IGMP_ALL_HOSTS, 100, 0));
	h_inject(f, igmp_frame(0x0a000209u, G1, IGMP_V2_REPORT, 0, G1, 8));
	CHECK_EQ(h_stat("igmp", "report_heard"), 1);
	run(10000);
	CHECK_EQ(count_reports(G1, IGMP_V2_REPORT), 0);
	CHECK_EQ(count_reports(G2, IGMP_V2_REPORT), 1);
	CHECK_EQ(h_nsent, 1);
	/* a v1 report suppresses too; one for another group does not count */
	h_reset_sent();
	h_inject(f, query(IGMP_ALL_HOSTS, 100, 0));
	h_inject(f, igmp_frame(0x0a000209u, G2, IGMP_V1_REPORT, 0, G2, 8));
	h_inject(f, igmp_frame(0x0a000209u, IGMP_ALL_HOSTS, IGMP_V2_REPORT, 0, 0xef090909u, 8));
	CHECK_EQ(h_stat("igmp", "report_heard"), 2);
	CHECK_EQ(h_stat("igmp", "ignored"), 1);
	run(10000);
	CHECK_EQ(count_reports(G1, IGMP_V2_REPORT), 1);
	CHECK_EQ(h_nsent, 1);
	udp_remove(pcb);
	h_idle();
}

/* Checksums are checked; short and bad messages dropped and counted. */
static void test_igmp_bad(void)
{
	h_init();
	struct udp_pcb *pcb = member();
	size_t n = query(IGMP_ALL_HOSTS, 10, 0);
	f[n - 1] ^= 1;
	h_inject(f, n);
	CHECK_EQ(h_stat("igmp", "drop_csum"), 1);
	n = igmp_frame(PEER_IP, IGMP_ALL_HOSTS, IGMP_QUERY, 10, 0, 6);
	h_inject(f, n);
	CHECK_EQ(h_stat("igmp", "drop_short"), 1);
	h_inject(f, query(IGMP_ALL_HOSTS, 10, 0x0a000202u)); /* a "group" that is none */
	CHECK_EQ(h_stat("igmp", "drop_malformed"), 1);
	h_inject(f, igmp_frame(PEER_IP, IGMP_ALL_HOSTS, IGMP_LEAVE, 0, G1, 8)); /* for routers */
	CHECK_EQ(h_stat("igmp", "ignored"), 1);
	/* all-hosts takes IGMP only; unicast IGMP to us is taken as well */
	n = group_udp(IGMP_ALL_HOSTS, 1000, 7, "x");
	h_inject(f, n);
	CHECK_EQ(h_stat("ip", "drop_not_ours"), 1);
	run(2000);
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(h_stat("icmp", "tx_err_sent"), 0);
	udp_remove(pcb);
	h_idle();
}

/* What the receivers saw. */
static struct {
	int calls[3];
	int flags[3];
	uint32_t dst[3];
	char data[3][16];
	int free_first;
} rx;

static void on_recv(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	int k = (int)(intptr_t)arg;
	(void)pcb;
	CHECK_EQ(udp_src_ip(p), PEER_IP);
	CHECK_EQ(udp_src_port(p), 1000);
	rx.calls[k]++;
	rx.flags[k] = p->flags;
	rx.dst[k] = udp_dst_ip(p);
	memcpy(rx.data[k], p->data, p->len < 15 ? p->len : 15);
	p->data[0] = 'X'; /* the owner may write: no other receiver may see it */
	pkt_free(p);
}

/* Two PCBs in the group on its port both get the datagram: one a copy;
 * a PCB on the port that did not join gets nothing; no ICMP error ever. */
static void test_mcast_two_pcbs(void)
{
	h_init();
	memset(&rx, 0, sizeof rx);
	struct udp_pcb *a = udp_new(), *b = udp_new(), *c = udp_new(), *q = udp_new();
	udp_set_reuse(a, 1), udp_set_reuse(b, 1), udp_set_reuse(c, 1), udp_set_reuse(q, 1);
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK);
	CHECK_EQ(udp_bind(b, G1, 5000), NET_OK); /* bound to the group's address */
	CHECK_EQ(udp_bind(c, 0, 5000), NET_OK);  /* not joined */
	CHECK_EQ(udp_bind(q, 0, 5000), NET_OK);  /* joined, polled */
	udp_recv(a, on_recv, (void *)0);
	udp_recv(b, on_recv, (void *)1);
	udp_recv(c, on_recv, (void *)2);
	CHECK_EQ(udp_join(a, G1), NET_OK);
	CHECK_EQ(udp_join(b, G1), NET_OK);
	CHECK_EQ(udp_join(q, G1), NET_OK);
	h_reset_sent();
	h_inject(f, group_udp(G1, 1000, 5000, "hello"));
	CHECK_EQ(rx.calls[0], 1);
	CHECK_EQ(rx.calls[1], 1);
	CHECK_EQ(rx.calls[2], 0);
	CHECK(!memcmp(rx.data[0], "hello", 5));
	CHECK(!memcmp(rx.data[1], "hello", 5));
	CHECK(rx.flags[0] & PKT_F_BCAST);
	CHECK(rx.flags[1] & PKT_F_BCAST);
	CHECK_EQ(rx.dst[0], G1);
	CHECK_EQ(rx.dst[1], G1);
	uint32_t src;
	uint16_t sport;
	struct pkt *p = udp_poll(q, &src, &sport);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(src, PEER_IP);
		CHECK_EQ(sport, 1000);
		CHECK_EQ(p->len, 5);
		CHECK(!memcmp(p->data, "hello", 5));
		CHECK_EQ(udp_dst_ip(p), G1);
		pkt_free(p);
	}
	CHECK_EQ(h_stat("udp", "mcast_copy"), 2);
	CHECK_EQ(h_stat("udp", "delivered"), 3);
	/* a group other PCBs are in, on a port none of them has: no error */
	CHECK_EQ(udp_join(c, G2), NET_OK);
	h_reset_sent();
	h_inject(f, group_udp(G1, 1000, 5001, "nobody"));
	h_inject(f, group_udp(G2, 1000, 5000, "c only"));
	CHECK_EQ(rx.calls[2], 1);
	CHECK_EQ(rx.calls[0], 1);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	CHECK_EQ(h_stat("icmp", "tx_err_sent"), 0);
	CHECK_EQ(h_nsent, 0);
	/* no buffer for a copy: that PCB misses it, counted */
	struct pkt *held[CFG_PKT_COUNT];
	int nh = 0;
	while (pkt_free_count() > 1)
		held[nh++] = pkt_alloc(PKT_APP);
	h_inject(f, group_udp(G1, 1000, 5000, "tight"));
	CHECK_EQ(h_stat("udp", "mcast_nocopy"), 2);
	while (nh)
		pkt_free(held[--nh]);
	CHECK_EQ(rx.calls[0] + rx.calls[1], 2); /* one of the two missed it */
	p = udp_poll(q, NULL, NULL);             /* q, the last, got the original */
	CHECK(p != NULL);
	if (p)
		pkt_free(p);
	udp_remove(a), udp_remove(b), udp_remove(c), udp_remove(q);
	h_idle();
}

/* A receiver that removes the other member, and then leaves the group
 * itself, in its callback: the datagram goes to nobody after it, and the
 * group's freed slot, taken by another group, lends it no receivers. */
static struct udp_pcb *victim, *other_pcb;
static void on_recv_remove(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	(void)arg;
	rx.calls[0]++;
	udp_remove(victim);
	udp_leave(pcb, G1);
	CHECK_EQ(udp_join(other_pcb, G2), NET_OK); /* reuses G1's slot */
	pkt_free(p);
}

static void test_mcast_remove_in_callback(void)
{
	h_init();
	memset(&rx, 0, sizeof rx);
	struct udp_pcb *a = udp_new(), *b = udp_new(), *c = udp_new();
	victim = b, other_pcb = c;
	udp_set_reuse(a, 1), udp_set_reuse(b, 1), udp_set_reuse(c, 1);
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK);
	CHECK_EQ(udp_bind(b, 0, 5000), NET_OK);
	CHECK_EQ(udp_bind(c, 0, 5000), NET_OK);
	udp_recv(a, on_recv_remove, NULL);
	udp_recv(b, on_recv, (void *)1);
	udp_recv(c, on_recv, (void *)2);
	CHECK_EQ(udp_join(a, G1), NET_OK);
	CHECK_EQ(udp_join(b, G1), NET_OK);
	h_inject(f, group_udp(G1, 1000, 5000, "once"));
	CHECK_EQ(rx.calls[0], 1);
	CHECK_EQ(rx.calls[1], 0);
	CHECK_EQ(rx.calls[2], 0);
	CHECK_EQ(h_stat("udp", "mcast_copy"), 1);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	udp_remove(a), udp_remove(c);
	h_idle();
}

/* Not joined: a MAC not ours dropped by Ethernet, a group sharing a
 * joined group's MAC by IP; counted, nothing sent. */
static void test_mcast_not_joined(void)
{
	h_init();
	memset(&rx, 0, sizeof rx);
	struct udp_pcb *a = udp_new();
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK);
	udp_recv(a, on_recv, (void *)0);
	h_reset_sent();
	h_inject(f, group_udp(G1, 1000, 5000, "x"));
	CHECK_EQ(h_stat("eth", "drop_not_ours"), 1);
	CHECK_EQ(udp_join(a, G1), NET_OK);
	h_reset_sent();
	h_inject(f, group_udp(G1_ALIAS, 1000, 5000, "x"));
	CHECK_EQ(h_stat("ip", "drop_not_ours"), 1);
	CHECK_EQ(rx.calls[0], 0);
	/* a datagram to our own address at a group's MAC: not taken (RFC
	 * 1122 3.3.6), even at all-hosts' */
	size_t n = h_udp_frame(f, 1000, 5000, "u", 1);
	memcpy(f + ETH_DST, "\x01\x00\x5e\x01\x02\x03", 6);
	h_inject(f, n);
	memcpy(f + ETH_DST, "\x01\x00\x5e\x00\x00\x01", 6);
	h_inject(f, n);
	CHECK_EQ(h_stat("eth", "drop_not_ours"), 3);
	CHECK_EQ(rx.calls[0], 0);
	h_inject(f, group_udp(G1, 1000, 5000, "y"));
	CHECK_EQ(rx.calls[0], 1);
	CHECK_EQ(udp_leave(a, G1), NET_OK);
	h_reset_sent();
	h_inject(f, group_udp(G1, 1000, 5000, "z"));
	CHECK_EQ(rx.calls[0], 1);
	CHECK_EQ(h_stat("eth", "drop_not_ours"), 4);
	CHECK_EQ(h_nsent, 0);
	udp_remove(a);
	h_idle();
}

/* Sending to a group: its MAC, no ARP, the PCB's multicast TTL, from
 * our address, and nothing looped back to our own member. */
static void test_mcast_send(void)
{
	h_init();
	memset(&rx, 0, sizeof rx);
	struct udp_pcb *a = udp_new();
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK);
	udp_recv(a, on_recv, (void *)0);
	CHECK_EQ(udp_join(a, G1), NET_OK);
	h_reset_sent();
	uint32_t arp0 = h_stat("arp", "tx_request"); /* the announcement at start */
	struct pkt *p = pkt_alloc(PKT_APP);
	memcpy(p->data, "ping", 4);
	p->len = 4;
	CHECK_EQ(udp_sendto(a, p, G1, 6000), NET_OK);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *fr = h_frames[0], *ip = fr + ETH_HLEN;
	CHECK(!memcmp(fr, "\x01\x00\x5e\x01\x02\x03", 6));
	CHECK_EQ(ip[IP_TTL], 1);
	CHECK_EQ(get32(ip + IP_SRC), H_IP);
	CHECK_EQ(get32(ip + IP_DST), G1);
	CHECK(h_udp_ok(ip));
	CHECK_EQ(h_stat("arp", "tx_request"), arp0);
	CHECK_EQ(rx.calls[0], 0); /* no loopback */
	CHECK_EQ(udp_set_mcast_ttl(a, 32), NET_OK);
	p = pkt_alloc(PKT_APP);
	p->len = 0;
	CHECK_EQ(udp_sendto(a, p, G2, 6000), NET_OK); /* no join needed to send */
	CHECK_EQ(h_frames[1][ETH_HLEN + IP_TTL], 32);
	udp_remove(a);
	h_idle();
}

/* The echo service with a group: a datagram to the group answered with
 * one unicast reply to its sender, from our address; a group it did not
 * ask for, or a broadcast, not answered. */
static void test_mcast_echo(void)
{
	h_init();
	h_learn_peer();
	CHECK_EQ(echo_start(7), 0);
	CHECK_EQ(echo_join(0x0a000202u), NET_ERR_ARG);
	CHECK_EQ(echo_join(G1), 0);
	CHECK_EQ(echo_group(), G1);
	h_reset_sent();
	h_inject(f, group_udp(G1, 1000, 7, "echo me"));
	CHECK_EQ(h_nsent, 1);
	const uint8_t *fr = h_frames[0], *ip = fr + ETH_HLEN, *u = ip + IP_HLEN;
	CHECK(!memcmp(fr + ETH_DST, PEER_MAC, 6));
	h_check_reply_ip(ip, IPPROTO_UDP, IP_HLEN + UDP_HLEN + 7);
	CHECK(h_udp_ok(ip));
	CHECK_EQ(get16(u + UDP_SPORT), 7);
	CHECK_EQ(get16(u + UDP_DPORT), 1000);
	CHECK(!memcmp(u + UDP_HLEN, "echo me", 7));
	CHECK_EQ(echo_stats.replied, 1);
	CHECK_EQ(echo_stats.mcast, 1);
	/* another group on another PCB's port 7 reaches echo only if joined */
	h_inject(f, group_udp(G2, 1000, 7, "no"));
	CHECK_EQ(h_nsent, 1);
	/* moving the group: the old one is left */
	CHECK_EQ(echo_join(G2), 0);
	CHECK_EQ(igmp_slot(G1), -1);
	h_reset_sent();
	h_inject(f, group_udp(G2, 1000, 7, "yes"));
	CHECK_EQ(h_nsent, 1);
	CHECK(echo_stats_ok());
	CHECK_EQ(echo_start(7), 0); /* a restart forgets it, and leaves */
	CHECK_EQ(echo_group(), 0);
	CHECK_EQ(igmp_slot(G2), -1);
	h_idle();
}

/* echo_leave (the console's mcast leave): the group is left with a
 * Leave to 224.0.0.2, and no longer answered; a second leave is refused. */
static void test_mcast_echo_leave(void)
{
	h_init();
	h_learn_peer();
	CHECK_EQ(echo_leave(), NET_ERR_CLOSED); /* before echo_start: the table is new */
	CHECK_EQ(echo_start(7), 0);
	CHECK_EQ(echo_leave(), NET_ERR_ARG);
	CHECK_EQ(echo_join(G1), 0);
	h_reset_sent();
	CHECK_EQ(echo_leave(), 0);
	CHECK_EQ(echo_group(), 0);
	CHECK_EQ(igmp_slot(G1), -1);
	CHECK_EQ(h_nsent, 1);
	check_igmp(0, IGMP_LEAVE, G1, IGMP_ALL_ROUTERS);
	CHECK_EQ(h_stat("igmp", "tx_leave"), 1);
	h_reset_sent();
	h_inject(f, group_udp(G1, 1000, 7, "gone?"));
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(echo_stats.rx, 0);
	CHECK_EQ(echo_leave(), NET_ERR_ARG);
	CHECK(echo_stats_ok());
	h_idle();
}

/* Joined without an address (DHCP not bound yet): nothing can be sent;
 * once the address comes, each group is reported. */
static void test_igmp_no_address(void)
{
	h_init();
	net_set_addr(0, 0, 0);
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(udp_join(pcb, G1), NET_OK);
	run(CFG_IGMP_UNSOL_MS + CFG_TICK_MS);
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(h_stat("igmp", "tx_err"), 2);
	net_set_addr(H_IP, 0xffffff00u, PEER_IP);
	int t = run(CFG_IGMP_UNSOL_MS);
	CHECK(t >= 0 && t <= CFG_IGMP_UNSOL_MS);
	CHECK_EQ(h_nsent, 1);
	check_igmp(0, IGMP_V2_REPORT, G1, G1);
	udp_remove(pcb);
	h_idle();
}

int main(void)
{
	TEST(test_igmp_join_reports);
	TEST(test_igmp_leave);
	TEST(test_igmp_table_full);
	TEST(test_igmp_general_query);
	TEST(test_igmp_group_query);
	TEST(test_igmp_v1_query);
	TEST(test_igmp_v3_query);
	TEST(test_igmp_suppression);
	TEST(test_igmp_bad);
	TEST(test_mcast_two_pcbs);
	TEST(test_mcast_remove_in_callback);
	TEST(test_mcast_not_joined);
	TEST(test_mcast_send);
	TEST(test_mcast_echo);
	TEST(test_mcast_echo_leave);
	TEST(test_igmp_no_address);
	DONE("igmp");
}
