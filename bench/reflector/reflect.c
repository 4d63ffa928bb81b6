/*
 * The polling reflector: a measuring tool for make bench, not part of
 * the firmware. It answers what the bench sends over a tap as cheaply as
 * a guest can: no interrupts, no wfi, no stack. It spins on the RX used
 * ring of the virtio-net device (virtio-mmio, legacy or modern), turns a
 * UDP/IPv4 frame for GUEST_IP around in place (MACs, IPv4 addresses and
 * UDP ports swapped: every checksum stays valid) and hands the very same
 * buffer to the TX queue; the buffer goes back to RX once sent. ARP
 * requests for GUEST_IP are answered, so the bench and the kernel can
 * find it. Anything else is dropped. Whatever echo rate it reaches is what
 * QEMU's virtio-net tap path allows a guest that is always awake: the
 * firmware's rate is compared with it in the same run (bench/bench.py).
 *
 * QEMU virt, M-mode, -bios none, one hart; the console is the 16550 at
 * 0x10000000. Boot lines follow the firmware's (bench.py's boot() reads
 * "features", "mac" and "ready in N ms (N instructions)").
 */
#include <stdint.h>

#define GUEST_IP 0x0a00020fu /* 10.0.2.15 */
#define QN 256u              /* descriptors per queue: QEMU's default size */
#define BUF 2048u            /* a frame buffer: header + 1514 bytes fit */
#define PAGE 4096u

#define UART 0x10000000ul
#define MTIME 0x0200bff8ul /* CLINT, 10 MHz on virt */
#define MMIO0 0x10001000ul /* virt's eight virtio-mmio slots, 0x1000 apart */

/* virtio-mmio registers */
enum {
	MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, HOST_FEATURES = 0x010,
	HOST_FEATURES_SEL = 0x014, GUEST_FEATURES = 0x020, GUEST_FEATURES_SEL = 0x024,
	GUEST_PAGE_SIZE = 0x028, QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038,
	QUEUE_ALIGN = 0x03c, QUEUE_PFN = 0x040, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050,
	STATUS = 0x070, QUEUE_DESC = 0x080, QUEUE_AVAIL = 0x090, QUEUE_USED = 0x0a0,
	CONFIG = 0x100,
};
enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_FAILED = 128 };
#define F_MAC (1u << 5)        /* VIRTIO_NET_F_MAC */
#define F_VERSION_1_HI (1u << 0) /* VIRTIO_F_VERSION_1, bit 32 */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
#define D_WRITE 2

/* One queue, laid out as legacy virtio wants it with QN = 256 and 4 KiB
 * alignment: descriptors, the avail ring right after them, the used ring
 * on the next page. Modern virtio takes the three addresses as they are. */
struct queue {
	struct desc d[QN];
	union {
		struct {
			uint16_t flags, idx, ring[QN], used_event;
		} a;
		uint8_t pad[PAGE];
	};
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[QN];
		uint16_t avail_event;
	} u;
} __attribute__((aligned(PAGE)));
_Static_assert(sizeof(struct desc) * QN == PAGE, "legacy layout: avail right after desc");
#define AVAIL_NO_INTERRUPT 1
#define USED_NO_NOTIFY 1

#define NOINIT __attribute__((section(".noinit")))
static struct queue rxq NOINIT, txq NOINIT;
static uint8_t bufs[QN][BUF] NOINIT __attribute__((aligned(64)));

static volatile uint8_t *base;
static unsigned hdr_len;
static uint8_t mac[6];

static inline uint32_t rd(unsigned r) { return *(volatile uint32_t *)(base + r); }
static inline void wr(unsigned r, uint32_t v) { *(volatile uint32_t *)(base + r) = v; }
#define FENCE(x) __asm__ volatile("fence " x ::: "memory")

/* ---- console ---- */
static void putc_(char c)
{
	volatile uint8_t *u = (volatile uint8_t *)UART;
	while (!(u[5] & 0x20))
		;
	u[0] = (uint8_t)c;
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void put_hex(uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--)
		putc_("0123456789abcdef"[v >> (4 * i) & 15]);
}

static void put_dec(uint64_t v)
{
	char b[24];
	int i = 0;
	do
		b[i++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (i)
		putc_(b[--i]);
}

static void fail(const char *why)
{
	puts_("reflector: ");
	puts_(why);
	puts_("\n");
	for (;;)
		__asm__ volatile("wfi");
}

/* ---- the device ---- */
static void queue_setup(unsigned q, struct queue *m, int modern)
{
	wr(QUEUE_SEL, q);
	if (rd(modern ? QUEUE_READY : QUEUE_PFN))
		fail("queue already in use");
	if (rd(QUEUE_NUM_MAX) < QN)
		fail("queue smaller than 256");
	wr(QUEUE_NUM, QN);
	uint64_t d = (uint64_t)(uintptr_t)m->d, a = (uint64_t)(uintptr_t)&m->a,
		 u = (uint64_t)(uintptr_t)&m->u;
	if (modern) {
		wr(QUEUE_DESC, (uint32_t)d);
		wr(QUEUE_DESC + 4, (uint32_t)(d >> 32));
		wr(QUEUE_AVAIL, (uint32_t)a);
		wr(QUEUE_AVAIL + 4, (uint32_t)(a >> 32));
		wr(QUEUE_USED, (uint32_t)u);
		wr(QUEUE_USED + 4, (uint32_t)(u >> 32));
		wr(QUEUE_READY, 1);
	} else {
		wr(QUEUE_ALIGN, PAGE);
		wr(QUEUE_PFN, (uint32_t)(d / PAGE));
	}
}

static int probe(void)
{
	for (unsigned i = 0; i < 8; i++) {
		base = (volatile uint8_t *)(MMIO0 + i * 0x1000ul);
		if (rd(MAGIC) == 0x74726976 && rd(DEVICE_ID) == 1)
			return (int)i;
	}
	return -1;
}

static void init(void)
{
	int slot = probe();
	if (slot < 0)
		fail("no virtio-net device in the virtio-mmio slots");
	uint32_t version = rd(VERSION);
	int modern = version == 2;
	if (version != 1 && !modern)
		fail("unknown virtio-mmio version");
	wr(STATUS, 0);
	wr(STATUS, S_ACK);
	wr(STATUS, S_ACK | S_DRIVER);
	wr(HOST_FEATURES_SEL, 0);
	uint32_t lo = rd(HOST_FEATURES) & F_MAC, hi = 0;
	if (modern) {
		wr(HOST_FEATURES_SEL, 1);
		hi = rd(HOST_FEATURES) & F_VERSION_1_HI;
		if (!hi)
			fail("modern device without VIRTIO_F_VERSION_1");
	}
	wr(GUEST_FEATURES_SEL, 0);
	wr(GUEST_FEATURES, lo);
	if (modern) {
		wr(GUEST_FEATURES_SEL, 1);
		wr(GUEST_FEATURES, hi);
		wr(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
		if (!(rd(STATUS) & S_FEATURES_OK))
			fail("features not accepted");
	} else {
		wr(GUEST_PAGE_SIZE, PAGE);
	}
	/* virtio 1.0 always has num_buffers in the header; legacy without
	 * MRG_RXBUF does not. */
	hdr_len = modern ? 12 : 10;
	static const uint8_t qemu_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	for (int k = 0; k < 6; k++)
		mac[k] = lo ? base[CONFIG + k] : qemu_mac[k];

	for (unsigned k = 0; k < QN; k++) {
		rxq.d[k] = (struct desc){(uint64_t)(uintptr_t)bufs[k], BUF, D_WRITE, 0};
		rxq.a.ring[k] = (uint16_t)k;
	}
	rxq.a.flags = txq.a.flags = AVAIL_NO_INTERRUPT; /* never: we poll */
	rxq.a.idx = (uint16_t)QN;
	txq.a.idx = 0;
	rxq.u.flags = rxq.u.idx = txq.u.flags = txq.u.idx = 0;
	queue_setup(0, &rxq, modern);
	queue_setup(1, &txq, modern);
	FENCE("iorw, iorw");
	wr(STATUS, S_ACK | S_DRIVER | (modern ? S_FEATURES_OK : 0) | S_DRIVER_OK);
	if (rd(STATUS) & S_FAILED)
		fail("device failed");
	wr(QUEUE_NOTIFY, 0);

	puts_("polling reflector: virtio-mmio ");
	puts_(modern ? "modern" : "legacy");
	puts_(" in slot ");
	put_dec((unsigned)slot);
	puts_(", features 0x");
	put_hex((uint64_t)hi << 32 | lo, 1 + (hi != 0) * 8);
	puts_(", mac ");
	for (int k = 0; k < 6; k++) {
		put_hex(mac[k], 2);
		if (k < 5)
			putc_(':');
	}
	puts_(", ip 10.0.2.15, no interrupts\n");
}

/* ---- frames ---- */
static void copy(uint8_t *d, const uint8_t *s, unsigned n)
{
	while (n--)
		*d++ = *s++;
}

static void swap(uint8_t *a, uint8_t *b, unsigned n)
{
	while (n--) {
		uint8_t t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

static int is_us(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) == GUEST_IP;
}

/* Turn frame F (N bytes) into its answer in place: 1, or 0 to drop it. */
static int reflect(uint8_t *f, uint32_t n)
{
	if (n < 42)
		return 0;
	if (f[12] == 0x08 && f[13] == 0x06) { /* ARP request for us: the reply */
		uint8_t *a = f + 14;
		if (a[6] || a[7] != 1 || !is_us(a + 24))
			return 0;
		copy(f, f + 6, 6);
		copy(f + 6, mac, 6);
		a[7] = 2;
		copy(a + 18, a + 8, 10); /* target = the sender */
		copy(a + 8, mac, 6); /* the sender: us */
		a[14] = GUEST_IP >> 24;
		a[15] = GUEST_IP >> 16 & 255;
		a[16] = GUEST_IP >> 8 & 255;
		a[17] = GUEST_IP & 255;
		return 1;
	}
	if (f[12] != 0x08 || f[13] != 0x00 || f[23] != 17 || !is_us(f + 30))
		return 0;
	unsigned ihl = (f[14] & 15u) * 4;
	if (ihl < 20 || n < 14 + ihl + 8)
		return 0;
	copy(f, f + 6, 6);
	copy(f + 6, mac, 6);
	swap(f + 26, f + 30, 4);
	swap(f + 14 + ihl, f + 16 + ihl, 2);
	return 1;
}

int main(void);
int main(void)
{
	init();
	uint64_t ms = *(volatile uint64_t *)MTIME / 10000, ins;
	__asm__ volatile("csrr %0, minstret" : "=r"(ins));
	puts_("ready in ");
	put_dec(ms);
	puts_(" ms (");
	put_dec(ins);
	puts_(" instructions)\n");

	uint16_t rx_seen = 0, tx_seen = 0, rx_next = (uint16_t)QN, tx_next = 0;
	for (;;) {
		/* Sent buffers go back to the RX ring. */
		uint16_t tu = *(volatile uint16_t *)&txq.u.idx;
		int rx_more = 0, tx_more = 0;
		if (tu != tx_seen) {
			FENCE("r, r");
			while (tx_seen != tu) {
				rxq.a.ring[rx_next++ % QN] = (uint16_t)txq.u.ring[tx_seen++ % QN].id;
				rx_more = 1;
			}
		}
		uint16_t ru = *(volatile uint16_t *)&rxq.u.idx;
		if (ru != rx_seen) {
			FENCE("r, r");
			while (rx_seen != ru) {
				uint32_t id = rxq.u.ring[rx_seen % QN].id, len = rxq.u.ring[rx_seen % QN].len;
				rx_seen++;
				uint8_t *b = bufs[id % QN];
				if (len > hdr_len && len <= BUF && reflect(b + hdr_len, len - hdr_len)) {
					for (unsigned k = 0; k < hdr_len; k++)
						b[k] = 0; /* no offloads asked for */
					txq.d[id % QN] = (struct desc){(uint64_t)(uintptr_t)b, len, 0, 0};
					txq.a.ring[tx_next++ % QN] = (uint16_t)(id % QN);
					tx_more = 1;
				} else {
					rxq.a.ring[rx_next++ % QN] = (uint16_t)(id % QN);
					rx_more = 1;
				}
			}
		}
		if (tx_more) {
			FENCE("w, w");
			*(volatile uint16_t *)&txq.a.idx = tx_next;
			FENCE("iorw, iorw");
			if (!(*(volatile uint16_t *)&txq.u.flags & USED_NO_NOTIFY))
				wr(QUEUE_NOTIFY, 1);
		}
		if (rx_more) {
			FENCE("w, w");
			*(volatile uint16_t *)&rxq.a.idx = rx_next;
			FENCE("iorw, iorw");
			if (!(*(volatile uint16_t *)&rxq.u.flags & USED_NO_NOTIFY))
				wr(QUEUE_NOTIFY, 0);
		}
	}
}
