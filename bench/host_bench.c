/*
 * Host benchmark of the stack alone (make bench-host): N prepared frames
 * go through net_input one at a time, the way the driver hands them up,
 * and every reply the stack sends is checked.
 *
 *   host_bench KIND N      KIND: udp18 udp64 udp512 udp1472 (UDP to port 7,
 *                          answered by the firmware's own echo service,
 *                          app/echo.c, linked unchanged), the same with "-ok" appended
 *                          (the NIC already verified the checksum, as with
 *                          virtio's DATA_VALID), icmp56 (echo request with
 *                          56 data bytes), arp (request for our address)
 *   host_bench all N       every kind, with wall-clock ns per packet
 *                          (copying the frame in included; only the first
 *                          16 replies of each kind are checked in full,
 *                          the rest for being exactly one)
 *
 * Built for RISC-V instead (bench/host.mk rv64), it runs bare metal in
 * QEMU with semihosting and reports instructions per packet from the
 * minstret counter read around the two measured calls, with the same
 * compiler flags as the firmware: the stack's share of the firmware's
 * instructions per echo.
 *
 * What is measured is the work of the stack: bench_input() (net_input and
 * everything under it, down to the transmit hook, which only takes the
 * buffer) and bench_release() (the pkt_free the driver does when the
 * device is done with the frame). bench/host.mk runs this under
 * `valgrind --tool=callgrind --toggle-collect=bench_input
 * --toggle-collect=bench_release` with N=1 and N=10001, so the
 * instructions per packet are (Ir(10001) - Ir(1)) / 10000. Copying the
 * frame into the buffer and checking the reply happen outside those two
 * functions and are not counted.
 *
 * Exit status: 0 when every packet got exactly one correct reply.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/net.h"
#include "app/echo.h"
#include "net/udp.h"

static const uint8_t OUR_MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
#define OUR_IP 0x0a00020fu  /* 10.0.2.15 */
#define PEER_IP 0x0a000202u /* 10.0.2.2 */
#define PEER_PORT 40000
#define ECHO_PORT 7

enum kind { K_UDP, K_ICMP, K_ARP };

struct bench {
	const char *name;
	enum kind kind;
	uint16_t payload; /* UDP payload or ICMP data bytes */
	int csum_ok;      /* frame arrives flagged PKT_F_CSUM_OK */
};

static const struct bench benches[] = {
	{"udp18", K_UDP, 18, 0},      {"udp64", K_UDP, 64, 0},
	{"udp512", K_UDP, 512, 0},    {"udp1472", K_UDP, 1472, 0},
	{"udp18-ok", K_UDP, 18, 1},   {"udp64-ok", K_UDP, 64, 1},
	{"udp512-ok", K_UDP, 512, 1}, {"udp1472-ok", K_UDP, 1472, 1},
	{"icmp56", K_ICMP, 56, 0},    {"arp", K_ARP, 0, 0},
};
#define NBENCH (sizeof benches / sizeof benches[0])

/*
 * The clock of the measurement. On the host: nanoseconds of wall time.
 * Built for RISC-V (bare metal under QEMU, semihosting for I/O): the
 * instructions retired counter, read around the two measured calls only,
 * so "per packet" there is exactly the stack's instructions (minus the
 * constant cost of one counter read, calibrated away).
 */
#ifdef __riscv
#define UNIT "instr/packet"
static inline uint64_t now(void)
{
	uint64_t v;
	/* .option arch: the LTO link names plain rv64imac */
	__asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, minstret\n.option pop" : "=r"(v));
	return v;
}
#else
#include <time.h>
#define UNIT "ns/packet"
static inline uint64_t now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
#endif
static uint64_t measured, read_cost;
static int per_call; /* 1: accumulate the counter around each call (RISC-V) */

/* ---- the fake driver: the transmit hook keeps the frame for checking ---- */
static struct pkt *sent;
static unsigned nsent;

static int capture(struct pkt *p)
{
	nsent++;
	if (sent) /* a second frame for one input: keep the first, count both */
		pkt_free(p);
	else
		sent = p;
	return 0;
}

__attribute__((noinline, noipa)) void bench_input(struct pkt *p);
__attribute__((noinline, noipa)) void bench_release(struct pkt *p);

void bench_input(struct pkt *p)
{
	net_input(p);
}

void bench_release(struct pkt *p)
{
	pkt_free(p);
}

/* ---- frames ---- */
static uint16_t sum16(uint32_t s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) /* byte by byte: nothing shared with csum.c */
		s += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static size_t eth_hdr(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, PEER_MAC, 6);
	put16(f + 12, type);
	return ETH_HLEN;
}

static void ip_hdr(uint8_t *h, uint8_t proto, uint16_t total)
{
	memset(h, 0, IP_HLEN);
	h[IP_VHL] = 0x45;
	put16(h + IP_LEN, total);
	put16(h + IP_ID, 0x1234);
	h[IP_TTL] = 64;
	h[IP_PROTO] = proto;
	put32(h + IP_SRC, PEER_IP);
	put32(h + IP_DST, OUR_IP);
	put16(h + IP_CSUM, (uint16_t)~sum16(0, h, IP_HLEN));
}

static size_t make_frame(const struct bench *b, uint8_t *f)
{
	memset(f, 0, CFG_PKT_BUFSZ);
	if (b->kind == K_ARP) {
		eth_hdr(f, BCAST, ETHTYPE_ARP);
		uint8_t *a = f + ETH_HLEN;
		put16(a + ARP_HTYPE, 1);
		put16(a + ARP_PTYPE, ETHTYPE_IP);
		a[ARP_HLEN] = 6;
		a[ARP_PLEN] = 4;
		put16(a + ARP_OPER, ARP_OP_REQUEST);
		memcpy(a + ARP_SHA, PEER_MAC, 6);
		put32(a + ARP_SPA, PEER_IP);
		put32(a + ARP_TPA, OUR_IP);
		return ETH_MIN_FRAME; /* padded as on a real link */
	}
	size_t o = eth_hdr(f, OUR_MAC, ETHTYPE_IP);
	uint8_t *ip = f + o;
	uint8_t *l4 = ip + IP_HLEN;
	if (b->kind == K_UDP) {
		uint16_t ulen = (uint16_t)(UDP_HLEN + b->payload);
		ip_hdr(ip, IPPROTO_UDP, (uint16_t)(IP_HLEN + ulen));
		put16(l4 + UDP_SPORT, PEER_PORT);
		put16(l4 + UDP_DPORT, ECHO_PORT);
		put16(l4 + UDP_LEN, ulen);
		for (unsigned i = 0; i < b->payload; i++)
			l4[UDP_HLEN + i] = (uint8_t)(i * 7 + 3);
		uint32_t ps = (PEER_IP >> 16) + (PEER_IP & 0xffff) + (OUR_IP >> 16) +
			      (OUR_IP & 0xffff) + IPPROTO_UDP + ulen;
		uint16_t c = (uint16_t)~sum16(ps, l4, ulen);
		put16(l4 + UDP_CSUM, c ? c : 0xffff);
		o += IP_HLEN + ulen;
	} else {
		uint16_t mlen = (uint16_t)(ICMP_HLEN + b->payload);
		ip_hdr(ip, IPPROTO_ICMP, (uint16_t)(IP_HLEN + mlen));
		l4[ICMP_TYPE] = ICMP_ECHO;
		put16(l4 + 4, 0x4242); /* identifier */
		put16(l4 + 6, 1);      /* sequence */
		for (unsigned i = 0; i < b->payload; i++)
			l4[ICMP_HLEN + i] = (uint8_t)(i + 0x10);
		put16(l4 + ICMP_CSUM, (uint16_t)~sum16(0, l4, mlen));
		o += IP_HLEN + mlen;
	}
	return o < ETH_MIN_FRAME ? ETH_MIN_FRAME : o;
}

/* ---- reply checks (outside the measured functions) ---- */
static const char *check_reply(const struct bench *b, const uint8_t *req, size_t req_len,
			       const uint8_t *r, size_t len)
{
	if (memcmp(r, PEER_MAC, 6) || memcmp(r + 6, OUR_MAC, 6))
		return "Ethernet addresses not swapped";
	if (b->kind == K_ARP) {
		const uint8_t *a = r + ETH_HLEN;
		if (len != ETH_HLEN + ARP_LEN)
			return "ARP reply size";
		if (get16(r + 12) != ETHTYPE_ARP || get16(a + ARP_OPER) != ARP_OP_REPLY ||
		    memcmp(a + ARP_SHA, OUR_MAC, 6) || get32(a + ARP_SPA) != OUR_IP ||
		    memcmp(a + ARP_THA, PEER_MAC, 6) || get32(a + ARP_TPA) != PEER_IP)
			return "ARP reply fields";
		return NULL;
	}
	const uint8_t *qip = req + ETH_HLEN, *ip = r + ETH_HLEN;
	size_t iplen = get16(qip + IP_LEN);
	if (len != ETH_HLEN + iplen)
		return "reply size";
	if (get16(r + 12) != ETHTYPE_IP || ip[IP_VHL] != 0x45 || get16(ip + IP_LEN) != iplen)
		return "IP header";
	if (get32(ip + IP_SRC) != OUR_IP || get32(ip + IP_DST) != PEER_IP)
		return "IP addresses not swapped";
	if (sum16(0, ip, IP_HLEN) != 0xffff)
		return "IP checksum";
	const uint8_t *q4 = qip + IP_HLEN, *l4 = ip + IP_HLEN;
	size_t l4len = iplen - IP_HLEN;
	if (b->kind == K_UDP) {
		if (ip[IP_PROTO] != IPPROTO_UDP || get16(l4 + UDP_SPORT) != ECHO_PORT ||
		    get16(l4 + UDP_DPORT) != PEER_PORT || get16(l4 + UDP_LEN) != l4len)
			return "UDP header";
		uint32_t ps = (OUR_IP >> 16) + (OUR_IP & 0xffff) + (PEER_IP >> 16) +
			      (PEER_IP & 0xffff) + IPPROTO_UDP + (uint32_t)l4len;
		if (get16(l4 + UDP_CSUM) == 0 || sum16(ps, l4, l4len) != 0xffff)
			return "UDP checksum";
		if (memcmp(l4 + UDP_HLEN, q4 + UDP_HLEN, l4len - UDP_HLEN))
			return "UDP payload";
	} else {
		if (ip[IP_PROTO] != IPPROTO_ICMP || l4[ICMP_TYPE] != ICMP_ECHOREPLY ||
		    l4[ICMP_CODE] != 0)
			return "ICMP header";
		if (sum16(0, l4, l4len) != 0xffff)
			return "ICMP checksum";
		if (memcmp(l4 + 4, q4 + 4, l4len - 4))
			return "ICMP identifier/sequence/data";
	}
	(void)req_len;
	return NULL;
}

/* ---- the run ---- */
static void stack_init(void)
{
	sent = NULL;
	pkt_pool_init();
	net_stats_reset();
	memcpy(netif.mac, OUR_MAC, 6);
	netif.ip = OUR_IP;
	netif.mask = 0xffffff00u;
	netif.gw = PEER_IP;
	netif.mtu = CFG_MTU;
	netif.link_up = 1;
	netif.output = capture;
	net_tick(1000);
	net_init();
	if (echo_start(ECHO_PORT) != 0) {
		fprintf(stderr, "cannot bind port %d\n", ECHO_PORT);
		exit(2);
	}
	if (sent) /* net_init's gratuitous ARP announcement */
		pkt_free(sent);
	sent = NULL;
}

/* One packet through the stack; 0 if its reply was right. */
static uint8_t frame[CFG_PKT_BUFSZ];
static size_t frame_len;

static int check_all = 1; /* 0: check only the first 16 replies in full */

static int one(const struct bench *b, unsigned long i, int verbose)
{
	struct pkt *p = pkt_alloc(PKT_STACK);
	if (!p) {
		fprintf(stderr, "%s: pool empty at packet %lu\n", b->name, i);
		return -1;
	}
	pkt_reset_link(p);
	memcpy(p->data, frame, frame_len);
	p->len = (uint16_t)frame_len;
	if (b->csum_ok)
		p->flags |= PKT_F_CSUM_OK;
	sent = NULL;
	nsent = 0;
	uint64_t t0 = per_call ? now() : 0;
	bench_input(p);
	if (per_call)
		measured += now() - t0 - read_cost;
	struct pkt *r = sent;
	const char *bad = NULL;
	if (nsent != 1 || !r)
		bad = nsent ? "more than one reply" : "no reply";
	else if (check_all || i < 16)
		bad = check_reply(b, frame, frame_len, r->data, r->len);
	if (r) {
		t0 = per_call ? now() : 0;
		bench_release(r);
		if (per_call)
			measured += now() - t0 - read_cost;
	}
	sent = NULL;
	if (bad && verbose)
		fprintf(stderr, "%s: packet %lu: %s\n", b->name, i, bad);
	return bad ? -1 : 0;
}

/* Warm-up, then n packets. Returns the number of bad replies; *ns gets
 * the wall time of the loop. */
static unsigned long run(const struct bench *b, unsigned long n, double *ns)
{
	stack_init();
	frame_len = make_frame(b, frame);
	/* The peer asks for our MAC first, as a real one would: the echo
	 * replies then find it in the ARP cache. Not part of the count. */
	const struct bench arp = {"arp", K_ARP, 0, 0};
	uint8_t save[CFG_PKT_BUFSZ];
	size_t save_len = frame_len;
	memcpy(save, frame, sizeof save);
	frame_len = make_frame(&arp, frame);
	unsigned long bad = one(&arp, 0, 1) ? 1 : 0;
	memcpy(frame, save, sizeof frame);
	frame_len = save_len;

	measured = 0;
	uint64_t t0 = now();
	for (unsigned long i = 0; i < n; i++)
		if (one(b, i, bad < 5))
			bad++;
	uint64_t t1 = now();
	*ns = per_call ? (double)measured : (double)(t1 - t0);

	const char *broken = net_stats_check();
	if (broken) {
		fprintf(stderr, "%s: stats identity broken in layer %s\n", b->name, broken);
		bad++;
	}
	if (pkt_free_count() != CFG_PKT_COUNT || pkt_stats.bad_free) {
		fprintf(stderr, "%s: buffers leaked or freed twice (free %u of %u, bad_free %u)\n",
			b->name, pkt_free_count(), CFG_PKT_COUNT, (unsigned)pkt_stats.bad_free);
		bad++;
	}
	return bad;
}

static const struct bench *find(const char *name)
{
	for (size_t i = 0; i < NBENCH; i++)
		if (!strcmp(benches[i].name, name))
			return &benches[i];
	return NULL;
}

int main(int argc, char **argv)
{
#ifdef __riscv
	/* QEMU's semihosting may pass no command line: default to all kinds */
	static char *dflt[] = {"host_bench", "all", "10001", NULL};
	if (argc < 3) {
		argc = 3;
		argv = dflt;
	}
	per_call = 1;
	uint64_t a = now(), b0 = now();
	read_cost = b0 - a;
#endif
	if (argc != 3) {
		fprintf(stderr, "usage: %s KIND|all N\n", argv[0]);
		return 2;
	}
	unsigned long n = strtoul(argv[2], NULL, 10);
	if (!strcmp(argv[1], "all")) {
		unsigned long bad = 0;
		check_all = 0; /* timing: the loop is copy-in + stack + free */
		printf("%-11s %10s %12s\n", "kind", "packets", UNIT);
		for (size_t i = 0; i < NBENCH; i++) {
			double ns;
			unsigned long b = run(&benches[i], n, &ns);
			bad += b;
			printf("%-11s %10lu %12.1f%s\n", benches[i].name, n, n ? ns / (double)n : 0.0,
			       b ? "  BAD REPLIES" : "");
		}
		return bad ? 1 : 0;
	}
	const struct bench *b = find(argv[1]);
	if (!b) {
		fprintf(stderr, "unknown kind '%s'\n", argv[1]);
		return 2;
	}
	double ns;
	unsigned long bad = run(b, n, &ns);
	printf("%s: %lu packets, %lu bad, %.1f %s\n", b->name, n, bad, n ? ns / (double)n : 0.0,
	       UNIT);
	return bad ? 1 : 0;
}
