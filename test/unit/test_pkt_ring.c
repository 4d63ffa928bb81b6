/* The buffer pool (ownership, exhaustion, double free, use after free)
 * and the virtqueue index arithmetic across 16-bit wrap-around. */
#include "check.h"
#include "drivers/virtio_mmio.h"
#include "net/pkt.h"

static void alloc_all_and_back(void)
{
	static struct pkt *held[CFG_PKT_COUNT];
	pkt_pool_init();
	for (int i = 0; i < CFG_PKT_COUNT; i++) {
		held[i] = pkt_alloc(PKT_STACK);
		CHECK(held[i] != NULL);
	}
	CHECK_EQ(pkt_free_count(), 0);
	CHECK(pkt_alloc(PKT_STACK) == NULL); /* exhaustion is counted, not fatal */
	CHECK_EQ(pkt_stats.alloc_fail, 1);
	CHECK_EQ(pkt_stats.low_water, 0);
	for (int i = 0; i < CFG_PKT_COUNT; i++)
		pkt_free(held[i]);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);
	CHECK_EQ(pkt_stats.alloc, CFG_PKT_COUNT);
	CHECK_EQ(pkt_stats.freed, CFG_PKT_COUNT);
	CHECK(pkt_alloc(PKT_STACK) != NULL); /* and it recovers */
}

static void distinct_aligned_buffers(void)
{
	pkt_pool_init();
	struct pkt *a = pkt_alloc(PKT_STACK), *b = pkt_alloc(PKT_STACK);
	CHECK(a && b && a->head != b->head);
	CHECK_EQ((uintptr_t)a->head % 64, 0);
	CHECK(pkt_headroom(a) >= CFG_PKT_LINK_OFF + 14 + 20 + 8);
	CHECK_EQ(a->owner, PKT_STACK);
	pkt_reset_link(a);
	CHECK_EQ(a->data - a->head, CFG_PKT_LINK_OFF);
	/* the IPv4 header after a 14-byte Ethernet header is 4-byte aligned */
	CHECK_EQ(((uintptr_t)a->data + 14) % 4, 0);
	CHECK(pkt_push(a, CFG_PKT_LINK_OFF) != NULL);
	CHECK(pkt_push(a, 1) == NULL); /* no headroom left: refused */
	pkt_free(a);
	pkt_free(b);
}

static void double_free_refused(void)
{
	pkt_pool_init();
	struct pkt *p = pkt_alloc(PKT_STACK);
	pkt_free(p);
	unsigned n = pkt_free_count();
	pkt_free(p);
	CHECK_EQ(pkt_stats.bad_free, 1);
	CHECK_EQ(pkt_free_count(), n); /* not linked in twice */
	/* the free list is intact: every buffer comes out exactly once */
	static struct pkt *seen[CFG_PKT_COUNT];
	int dup = 0;
	for (int i = 0; i < CFG_PKT_COUNT; i++) {
		seen[i] = pkt_alloc(PKT_STACK);
		for (int j = 0; j < i; j++)
			dup += seen[j] == seen[i];
	}
	CHECK_EQ(dup, 0);
	CHECK(pkt_alloc(PKT_STACK) == NULL);
}

static void foreign_pointer_refused(void)
{
	pkt_pool_init();
	struct pkt fake = {0};
	fake.owner = PKT_STACK;
	pkt_free(&fake);
	CHECK_EQ(pkt_stats.bad_free, 1);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);
}

static void use_after_free_caught(void)
{
	pkt_pool_init();
	struct pkt *p = pkt_alloc(PKT_STACK);
	CHECK_EQ(pkt_own(p, PKT_QUEUED), 0);
	CHECK_EQ(p->owner, PKT_QUEUED);
	pkt_free(p);
	CHECK(pkt_own(p, PKT_TXRING) != 0); /* handing on a freed buffer */
	CHECK_EQ(pkt_stats.bad_use, 1);
	CHECK_EQ(p->owner, PKT_FREE); /* still free, still in the pool once */
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);
}

/* Index arithmetic: 16-bit counters, masked into a power-of-two ring. */
static void event_index_wraps(void)
{
	/* the device asked to be told when index 'ev' is passed */
	CHECK(vring_need_event(5, 6, 5));        /* 5 -> 6 crosses 5 */
	CHECK(!vring_need_event(7, 6, 5));       /* not yet */
	CHECK(vring_need_event(0xffff, 0x0001, 0xfffe)); /* across the wrap */
	CHECK(vring_need_event(0x0000, 0x0002, 0xfffe));
	CHECK(!vring_need_event(0x0002, 0x0001, 0xfffe));
	CHECK(!vring_need_event(0xfffd, 0x0001, 0xfffe)); /* already behind */
	/* exhaustively near the wrap: the rule equals "ev in [old, new)" */
	int bad = 0;
	for (unsigned old = 0xff00; old < 0x10100; old++)
		for (unsigned k = 0; k < 8; k++)
			for (unsigned d = 0; d < 12; d++) {
				uint16_t o = (uint16_t)old, n = (uint16_t)(old + k), ev = (uint16_t)(old + d - 2);
				int in = (uint16_t)(ev - o) < (uint16_t)(n - o);
				bad += vring_need_event(ev, n, o) != in;
			}
	CHECK_EQ(bad, 0);
}

static void ring_slots_wrap(void)
{
	/* A consumer walking used entries from 0xfff0 to 0x0010 sees every
	 * slot of a 32-entry ring once per lap, in order. */
	uint16_t mask = 31, last = 0xfff0, end = 0x0010;
	unsigned n = 0, expect = 0xfff0 & 31;
	int bad = 0;
	while (last != end) {
		bad += (last & mask) != expect;
		expect = (expect + 1) & 31;
		last++;
		n++;
	}
	CHECK_EQ(n, 32);
	CHECK_EQ(bad, 0);
	CHECK_EQ((uint16_t)(end - 0xfff0), 32); /* entries pending across the wrap */
	CHECK_EQ(VQ_USED_OFF(128) % VQ_ALIGN, 0);
	CHECK(VQ_USED_OFF(128) >= 16 * 128 + 6 + 2 * 128);
	CHECK(VQ_BYTES(128) >= VQ_USED_OFF(128) + 6 + 8 * 128);
}

int main(void)
{
	TEST(alloc_all_and_back);
	TEST(distinct_aligned_buffers);
	TEST(double_free_refused);
	TEST(foreign_pointer_refused);
	TEST(use_after_free_caught);
	TEST(event_index_wraps);
	TEST(ring_slots_wrap);
	DONE("pkt_ring");
}
