/*
 * Load generator for make bench: sends UDP datagrams of one size to an
 * echo service, keeps a fixed number outstanding, checks every reply
 * and measures the rate and the round-trip latency.
 *
 *   loadgen udp HOST PORT [options]
 *       through a connected UDP socket (hostfwd, or the tap's address)
 *   loadgen raw IFACE OURMAC OURIP GUESTMAC GUESTIP PORT [options]
 *       whole Ethernet frames on an AF_PACKET socket (a tap device): the
 *       same frames suit the stack (which answers from port PORT) and the
 *       L2 reflector (which sends the frame back with its MACs swapped);
 *       either way the payload comes back at the same offset. --arp first
 *       sends an ARP request from OURMAC/OURIP and waits for whatever
 *       comes back (the stack's reply, or the reflection), so the stack
 *       knows where to answer and both are known to be up.
 *
 * Options: --size N (payload bytes, >= 8), --window W (outstanding),
 * --seconds T (stop sending after T s), --count C (stop after C sent),
 * --timeout MS (a datagram not back after MS is lost; default 200),
 * --sport P (our UDP source port, default 40007).
 *
 * Output: one JSON object on stdout. Exit status 0 unless setup failed
 * or a reply was corrupted (speed never fails).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 4096 /* seq ring: far more than any window */
#define MAXLAT (4u << 20)

static int raw_mode;
static int fd;
static unsigned size = 64, window = 1, timeout_ms = 200;
static double seconds = 3;
static unsigned long count_limit = ~0ul;
static uint16_t sport = 40007, dport;
static uint8_t our_mac[6], guest_mac[6];
static uint32_t our_ip, guest_ip; /* network order */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
	printf("{\"error\": \"%s: %s\"}\n", what, strerror(errno));
	exit(2);
}

static int parse_mac(const char *s, uint8_t m[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4],
		      &m[5]) == 6 ? 0 : -1;
}

/* ---- payloads: a sequence number, then bytes derived from it ---- */
static void fill_payload(uint8_t *p, uint32_t seq)
{
	memcpy(p, &seq, 4);
	for (unsigned i = 4; i < size; i++)
		p[i] = (uint8_t)(seq * 31 + i);
}

static int payload_ok(const uint8_t *p, uint32_t seq)
{
	for (unsigned i = 4; i < size; i++)
		if (p[i] != (uint8_t)(seq * 31 + i))
			return 0;
	return 1;
}

/* ---- raw frames ---- */
static uint16_t csum(uint32_t s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t build_frame(uint8_t *f, uint32_t seq)
{
	size_t ulen = 8 + size, total = 20 + ulen, len = 14 + total;
	memset(f, 0, 64);
	memcpy(f, guest_mac, 6);
	memcpy(f + 6, our_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14, *u = ip + 20;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[4] = (uint8_t)(seq >> 8);
	ip[5] = (uint8_t)seq;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &our_ip, 4);
	memcpy(ip + 16, &guest_ip, 4);
	uint16_t c = csum(0, ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	fill_payload(u + 8, seq);
	uint32_t ps = 17 + (uint32_t)ulen;
	for (int i = 12; i < 20; i += 2)
		ps += (uint32_t)ip[i] << 8 | ip[i + 1];
	c = csum(ps, u, ulen);
	c = c ? c : 0xffff;
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
	return len < 60 ? 60 : len;
}

/* A received frame for us: 0 and the payload, or -1 to ignore it. */
static int raw_payload(const uint8_t *f, size_t n, const uint8_t **pl)
{
	if (n < 42 + size || memcmp(f, our_mac, 6) || f[12] != 0x08 || f[13] != 0x00)
		return -1;
	const uint8_t *ip = f + 14, *u = ip + 20;
	if (ip[0] != 0x45 || ip[9] != 17 || (size_t)(ip[2] << 8 | ip[3]) != 28 + size)
		return -1;
	if ((unsigned)(u[4] << 8 | u[5]) != 8 + size)
		return -1;
	*pl = u + 8;
	return 0;
}

static int raw_open(const char *ifname)
{
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (s < 0)
		die("AF_PACKET socket");
	struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				.sll_ifindex = (int)if_nametoindex(ifname)};
	if (!a.sll_ifindex)
		die("no such interface");
	if (bind(s, (struct sockaddr *)&a, sizeof a))
		die("bind AF_PACKET");
	int one = 1;
	setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
	return s;
}

/* Next frame from the guest that is for us (skipping our own). */
static ssize_t raw_recv(uint8_t *buf, size_t cap)
{
	struct sockaddr_ll from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n >= 0 && from.sll_pkttype == PACKET_OUTGOING)
		return 0;
	return n;
}

/* ARP request from us to the guest's address; wait up to 5 s for any
 * ARP frame addressed to our MAC (a reply or a reflection). */
static int raw_arp(void)
{
	uint8_t f[60] = {0}, buf[2048];
	memset(f, 0xff, 6);
	memcpy(f + 6, our_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	uint8_t *a = f + 14;
	a[1] = 1;
	a[2] = 0x08;
	a[4] = 6;
	a[5] = 4;
	a[7] = 1;
	memcpy(a + 8, our_mac, 6);
	memcpy(a + 14, &our_ip, 4);
	memcpy(a + 24, &guest_ip, 4);
	for (int tries = 0; tries < 50; tries++) {
		if (send(fd, f, sizeof f, 0) < 0)
			die("send ARP");
		uint64_t end = now_ns() + 100000000u;
		while (now_ns() < end) {
			struct pollfd p = {fd, POLLIN, 0};
			if (poll(&p, 1, 10) <= 0)
				continue;
			ssize_t n;
			while ((n = raw_recv(buf, sizeof buf)) >= 0)
				if (n >= 42 && !memcmp(buf, our_mac, 6) && buf[12] == 8 && buf[13] == 6)
					return 0;
		}
	}
	return -1;
}

/* ---- the run ---- */
static uint64_t sent_at[SLOTS]; /* 0: not outstanding */
static uint32_t *lat;           /* ns */
static unsigned long nlat;

static int cmp32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int ai;
	if (argc >= 4 && !strcmp(argv[1], "udp")) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			die("socket");
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
		if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1 ||
		    connect(fd, (struct sockaddr *)&a, sizeof a))
			die("connect");
		ai = 4;
	} else if (argc >= 8 && !strcmp(argv[1], "raw")) {
		raw_mode = 1;
		struct in_addr ia;
		if (parse_mac(argv[3], our_mac) || parse_mac(argv[5], guest_mac))
			die("bad MAC");
		if (inet_pton(AF_INET, argv[4], &ia) != 1)
			die("bad IP");
		our_ip = ia.s_addr;
		if (inet_pton(AF_INET, argv[6], &ia) != 1)
			die("bad IP");
		guest_ip = ia.s_addr;
		dport = (uint16_t)atoi(argv[7]);
		fd = raw_open(argv[2]);
		ai = 8;
	} else {
		fprintf(stderr, "usage: loadgen udp HOST PORT | raw IFACE OURMAC OURIP GUESTMAC "
				"GUESTIP PORT  [--size N] [--window W] [--seconds T] [--count C] "
				"[--timeout MS] [--sport P] [--arp]\n");
		return 2;
	}
	int arp = 0;
	for (; ai < argc; ai++) {
		const char *o = argv[ai], *v = ai + 1 < argc ? argv[ai + 1] : "0";
		if (!strcmp(o, "--arp")) {
			arp = 1;
			continue;
		}
		if (!strcmp(o, "--size"))
			size = (unsigned)atoi(v);
		else if (!strcmp(o, "--window"))
			window = (unsigned)atoi(v);
		else if (!strcmp(o, "--seconds"))
			seconds = atof(v);
		else if (!strcmp(o, "--count"))
			count_limit = strtoul(v, NULL, 10);
		else if (!strcmp(o, "--timeout"))
			timeout_ms = (unsigned)atoi(v);
		else if (!strcmp(o, "--sport"))
			sport = (uint16_t)atoi(v);
		else {
			fprintf(stderr, "unknown option %s\n", o);
			return 2;
		}
		ai++;
	}
	if (size < 8 || size > 1472 || window < 1 || window > SLOTS / 2) {
		fprintf(stderr, "bad size or window\n");
		return 2;
	}
	int big = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	if (raw_mode && arp && raw_arp()) {
		printf("{\"error\": \"no answer to ARP\"}\n");
		return 2;
	}
	lat = malloc(MAXLAT * sizeof *lat);
	if (!lat)
		die("malloc");

	static uint8_t out[2048], in[2048];
	unsigned long sent = 0, got = 0, lost = 0, bad = 0, late = 0, send_err = 0;
	unsigned outstanding = 0;
	uint32_t seq = 0;
	uint64_t start = now_ns(), stop = start + (uint64_t)(seconds * 1e9), last_rx = start;
	uint64_t tmo = (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		uint64_t t = now_ns();
		int sending = t < stop && sent < count_limit;
		while (sending && outstanding < window && sent < count_limit) {
			size_t n;
			if (raw_mode) {
				n = build_frame(out, seq);
			} else {
				fill_payload(out, seq);
				n = size;
			}
			uint64_t ts = now_ns();
			if (send(fd, out, n, 0) < 0) {
				send_err++;
				break;
			}
			sent_at[seq % SLOTS] = ts;
			seq++;
			sent++;
			outstanding++;
		}
		if (!outstanding && !sending)
			break;
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, 1);
		t = now_ns();
		if (r > 0) {
			ssize_t n;
			while ((n = raw_mode ? raw_recv(in, sizeof in) : recv(fd, in, sizeof in, MSG_DONTWAIT)) >= 0) {
				const uint8_t *pl = in;
				if (raw_mode ? raw_payload(in, (size_t)n, &pl) != 0 : (size_t)n != size) {
					if (!raw_mode)
						bad++;
					continue;
				}
				uint32_t s;
				memcpy(&s, pl, 4);
				uint64_t rx = now_ns();
				if (s >= seq || seq - s > SLOTS / 2 || !sent_at[s % SLOTS]) {
					late++; /* already given up on, or a duplicate */
					continue;
				}
				if (!payload_ok(pl, s))
					bad++;
				if (nlat < MAXLAT)
					lat[nlat++] = (uint32_t)(rx - sent_at[s % SLOTS]);
				sent_at[s % SLOTS] = 0;
				outstanding--;
				got++;
				last_rx = rx;
			}
		}
		/* Give up on datagrams older than the timeout: the window refills. */
		if (outstanding && t - last_rx > tmo / 4) {
			for (uint32_t s = seq - (seq < SLOTS / 2 ? seq : SLOTS / 2); s != seq; s++) {
				uint64_t ts = sent_at[s % SLOTS];
				if (ts && t - ts > tmo) {
					sent_at[s % SLOTS] = 0;
					outstanding--;
					lost++;
				}
			}
		}
	}
	double el = (double)(last_rx - start) / 1e9;
	qsort(lat, nlat, sizeof *lat, cmp32);
	double p50 = nlat ? lat[nlat / 2] / 1e3 : 0, p99 = nlat ? lat[nlat * 99 / 100] / 1e3 : 0;
	double p999 = nlat ? lat[nlat * 999 / 1000] / 1e3 : 0, max = nlat ? lat[nlat - 1] / 1e3 : 0;
	double mean = 0;
	for (unsigned long i = 0; i < nlat; i++)
		mean += lat[i];
	mean = nlat ? mean / (double)nlat / 1e3 : 0;
	printf("{\"size\": %u, \"window\": %u, \"sent\": %lu, \"received\": %lu, \"lost\": %lu, "
	       "\"late\": %lu, \"bad\": %lu, \"send_errors\": %lu, \"seconds\": %.3f, "
	       "\"rate\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
	       "\"max_us\": %.1f, \"mean_us\": %.1f}\n",
	       size, window, sent, got, lost, late, bad, send_err, el, el > 0 ? got / el : 0.0, p50,
	       p99, p999, max, mean);
	return bad ? 1 : 0;
}
