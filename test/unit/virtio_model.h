/*
 * A model of a virtio-net device on virtio-mmio, for testing the real
 * driver (drivers/virtio_net.c, built with RVNET_HOST_MMIO) on the host.
 * Include once per program: it defines the MMIO functions the driver's
 * register accesses become, and the plic_enable/printf it calls.
 *
 * The model is the device side of the protocol: registers (legacy and
 * modern), reset, feature negotiation, the split rings as the device sees
 * them. It receives frames into the RX buffers it holds, completes TX
 * buffers, raises interrupts, and, on command, breaks the rules: ids it
 * does not hold, bad lengths, used-index jumps, a reset that never
 * finishes, buffers never returned.
 *
 * It also checks the driver, after every step (vm_check):
 *  - every descriptor the driver posts names a pool buffer tagged for that
 *    ring, lies inside it, and is not already held by the device;
 *  - the driver does not write to a buffer while the device holds it (RX
 *    buffers are filled with a byte when taken and must still hold it when
 *    a frame is written there; a TX frame must not change until completed);
 *  - every pool buffer is accounted for: free in the pool, on the RX ring,
 *    on the TX ring, or held by the test, and the owner tags say exactly
 *    that; a ring's buffers are exactly those the device holds and those
 *    it gave back that the driver has not yet taken (and a poll takes all
 *    it can: every completed TX buffer, every RX entry within budget);
 *  - every frame delivered has the length, bytes and flags the device
 *    wrote, in order; bad lengths are dropped and counted;
 *  - buffers published are notified (when the device asks), never before
 *    DRIVER_OK, and a driver that says it may sleep has armed the RX
 *    interrupt.
 * With CTRL_VQ offered there is a control queue (index 2): the model
 * answers each command inside the notify write, as QEMU does, checks its
 * framing (header alone in a descriptor, the data, one writable ack
 * byte last; MAC tables each in a descriptor, their counts matching
 * their lengths), logs it (vm.cmd) and applies it to a receive filter
 * that behaves as QEMU's (receive_filter: promiscuous after a reset,
 * broadcast always, ALLMULTI or a table overflow passing every
 * multicast); a received frame the filter rejects is never written.
 * On command it refuses (ack ERR), answers nothing, names an id it was
 * not given, jumps its used index, or leaves the ack unwritten.
 *
 * Once the model itself has broken the protocol on a queue (an id it does
 * not hold, a jump), what the driver does with that queue is no longer
 * predictable entry by entry: the ownership and content checks of that
 * queue pause until the driver resets the device (the accounting checks
 * never pause). A broken RX queue can reach into the TX ring: the content
 * checks of a TX buffer pause too while that RX queue still holds it (see
 * vm_sync), and only of that buffer.
 */
#ifndef TEST_VIRTIO_MODEL_H
#define TEST_VIRTIO_MODEL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drivers/virtio_mmio.h"
#include "drivers/virtio_net.h"
#include "net/pkt.h"

/* A fuzzer should learn the driver's branches, not the model's: untraced,
 * the model's bookkeeping also costs a fraction of the time. */
#ifdef __clang__
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), apply_to = function)
#endif

/* For the model's hot loops over memory whose bounds it has checked: no
 * sanitizer check per access. Words are read through vm_u64. */
#ifdef __clang__
#define VM_NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))
#else
#define VM_NO_SANITIZE
#endif

typedef uint64_t __attribute__((may_alias, aligned(1))) vm_u64;

#define VM_BASE 0x10008000u
#define VM_IRQ 8
#define VM_QMAX 256     /* the largest queue the model lets the driver set up */
#define VM_FRAME_MAX 1514
#define VM_EXPECT 1024  /* RX entries written and not yet seen by the driver */
#define VM_SENT 1024    /* frames the test sent that the device has not taken */

/* The driver's host-only hooks (RVNET_HOST_MMIO). */
extern uint16_t virtio_net_host_start_idx;
extern unsigned virtio_net_host_batch; /* sent buffers reclaimed at once; 0: every poll */
void virtio_net_host_detach(void);

enum { VM_RX, VM_TX, VM_CTRL };

/* How the control queue answers (vm.ctrl_mode, for the commands that
 * vm.ctrl_only names, or all when it is 0). */
enum { VM_CTRL_ACK, VM_CTRL_NAK, VM_CTRL_SILENT, VM_CTRL_BAD_ID, VM_CTRL_JUMP, VM_CTRL_NO_ACK,
       VM_CTRL_ODD_ACK };
#define VM_CMD(cls, cmd) ((cls) << 8 | (cmd) | 0x10000)
#define VM_CMD_LOG 32
#define VM_MACS 64 /* QEMU's MAC_TABLE_ENTRIES */

/* A command the control queue got. */
struct vm_cmd {
	uint8_t cls, cmd, on;     /* on: PROMISC's / ALLMULTI's argument */
	unsigned nuni, nmulti;    /* MAC_TABLE_SET's counts */
	uint8_t uni[VM_MACS][6], multi[VM_MACS][6]; /* the first VM_MACS of each */
};
enum { VM_EXP_FRAME, VM_EXP_DROP, VM_EXP_UNKNOWN };

struct vm_expect {
	uint8_t kind;  /* VM_EXP_* */
	uint8_t flags; /* pkt flags the frame must arrive with */
	uint16_t len;
	uint16_t csum_start, csum_off; /* with PKT_F_CSUM_PART */
	uint64_t hash;
};

struct vm_queue {
	uint32_t num, align, pfn;
	uint32_t desc_lo, desc_hi, avail_lo, avail_hi, used_lo, used_hi;
	int live;                 /* set up by the driver (PFN or READY) */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;      /* next avail entry the device reads */
	uint16_t used_idx;        /* the device's used index */
	uint16_t kick_seen;       /* avail index when last notified */
	uint16_t irq_seen;        /* used index at the last interrupt decision */
	unsigned notifies;
	int tainted;              /* the model broke the protocol here: see above */
	uint16_t held[VM_QMAX];   /* ids the device holds, in the order taken */
	unsigned nheld;
	uint8_t owns[VM_QMAX];
	uint16_t buf[VM_QMAX];    /* pool index of the buffer each held id names */
	uint8_t fill[VM_QMAX];    /* RX: the byte that buffer was filled with */
	uint64_t hash[VM_QMAX];   /* TX: the frame when taken */
	uint8_t unchecked[VM_QMAX]; /* TX: a broken RX queue holds this buffer too (vm_sync) */
	/* buffers given back (used entries) the driver may not have seen yet,
	 * in used order: still on its ring until it does */
	uint16_t ret[VM_QMAX];
	unsigned ret_head, ret_n;
};

/* A frame the test sent, as it must reach the ring: its bytes (a partial
 * checksum finished by the driver unless the device was to finish it)
 * and the NIC header (zero, or NEEDS_CSUM with the checksum's place). */
struct vm_sent {
	uint16_t len;
	uint8_t hdr_flags;
	uint16_t csum_start, csum_off;
	uint64_t hash;
};

static struct {
	/* the device, as configured before the driver probes it */
	uint32_t version;         /* 1 legacy, 2 modern */
	uint64_t offer;           /* features offered */
	uint32_t num_max[3];
	uint8_t mac[6];
	uint16_t start_idx;       /* both sides start the rings here */
	int reset_stuck;          /* status never reads 0 after a reset */
	int reject_features;      /* FEATURES_OK does not stick */
	int no_notify;            /* the device asks not to be notified */
	int deep;                 /* vm_check also reads every held buffer */
	int abort_on_violation;   /* the fuzzer: a violation is a crash */

	/* registers */
	uint32_t status, dev_sel, drv_sel, page_size, qsel, irq_status;
	uint64_t drv_features;
	uint8_t link;             /* config status: VIRTIO_NET_S_LINK_UP */
	struct vm_queue q[3];
	unsigned resets, status_reads, notify_early;

	/* the control queue and the receive filter (QEMU's fields) */
	int ctrl_mode;            /* VM_CTRL_* */
	int ctrl_only;            /* VM_CMD(cls, cmd) the mode is for; 0: all */
	int ctrl_held;            /* a command answered with silence: the device keeps it */
	struct vm_cmd cmd[VM_CMD_LOG];
	unsigned ncmd;            /* commands since the test last cleared it (the log keeps VM_CMD_LOG) */
	struct {
		int promisc, allmulti, uni_overflow, multi_overflow;
		unsigned in_use, first_multi;
		uint8_t macs[VM_MACS][6];
	} rxf;
	unsigned filtered_out;    /* frames the filter kept from the driver */

	/* the interrupt handler the driver registered */
	void (*isr)(void *arg);
	void *isr_arg;
	unsigned irqs_raised;

	/* the pool, as the driver sees it */
	struct pkt *pool[CFG_PKT_COUNT];
	int16_t bufh[CFG_PKT_COUNT]; /* which id of which queue holds it (VM_HOLDER), -1 none */
	unsigned app_held;        /* buffers the test holds (delivered or allocated) */

	/* what the driver must deliver, in order */
	struct vm_expect exp[VM_EXPECT];
	unsigned exp_head, exp_n;
	uint32_t drops_seen;      /* DROP entries passed by deliveries */
	uint64_t delivered, rx_written;

	/* what the test sent, in order, until the device takes it */
	struct vm_sent sent[VM_SENT];
	unsigned sent_head, sent_n;
	uint64_t tx_done;

	struct nic nic;
	int probed;
	/* owner tags change only when the driver or the test runs: the
	 * census of the pool is taken again only then */
	int touched;
	unsigned census[PKT_APP + 1], census_other;
	int census_stolen[2];
	unsigned violations;
	char first[240];          /* the first violation */
	void (*on_frame)(struct pkt *p); /* what the test does with a delivered frame */
} vm;

static void vm_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vm_violation(const char *fmt, ...)
{
	char msg[240];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (vm.violations++ == 0)
		snprintf(vm.first, sizeof vm.first, "%s", msg);
	if (vm.violations <= 5 || vm.abort_on_violation)
		fprintf(stderr, "  VIOLATION: %s\n", msg);
	if (vm.abort_on_violation)
		abort();
}

/* Frames are compared by hash: every frame is hashed several times, so
 * eight bytes a step, without a sanitizer check on each (the callers'
 * ranges lie inside pool buffers, checked where they are made). */
static VM_NO_SANITIZE uint64_t vm_hash(const uint8_t *b, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		h = (h ^ *(const vm_u64 *)(b + i)) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h ^ n;
}

/* ---- the pool ---- */

/* Every pool buffer by index: allocate them all once (pool_init re-links
 * the same descriptors, so the table stays good). */
static void vm_learn_pool(void)
{
	pkt_pool_init();
	for (int i = 0; i < CFG_PKT_COUNT; i++)
		vm.pool[i] = pkt_alloc(PKT_STACK);
	for (int i = 0; i < CFG_PKT_COUNT; i++) {
		if (!vm.pool[i] || vm.pool[i] != vm.pool[0] + i || vm.pool[i]->index != i ||
		    vm.pool[i]->head != vm.pool[0]->head + (size_t)i * CFG_PKT_BUFSZ) {
			fprintf(stderr, "virtio model: the pool is not one array\n");
			abort();
		}
	}
	pkt_pool_init();
}

/* The pool buffer [addr, addr+len) lies in, or -1. */
static int vm_buffer_of(uint64_t addr, uint32_t len)
{
	uintptr_t base = (uintptr_t)vm.pool[0]->head;
	if (addr < base || addr - base >= (uint64_t)CFG_PKT_COUNT * CFG_PKT_BUFSZ)
		return -1;
	unsigned i = (unsigned)((addr - base) / CFG_PKT_BUFSZ);
	if (addr + len > base + (uint64_t)(i + 1) * CFG_PKT_BUFSZ || len == 0)
		return -1;
	return (int)i;
}

/* ---- rings, as the device reads and writes them ---- */

static int vm_hdrlen(void) { return vm.version == 2 ? 12 : 10; }
static int vm_event_idx(void) { return !!(vm.drv_features & (1ull << VIRTIO_RING_F_EVENT_IDX)); }

#define VM_HOLDER(qi, id) ((int16_t)((qi) << 9 | (id)))

/* Buffer b is no longer held as id of queue qi (it may be held elsewhere
 * by now, when the model broke the protocol). */
static void vm_unhold(unsigned b, int qi, unsigned id)
{
	if (vm.bufh[b] == VM_HOLDER(qi, id))
		vm.bufh[b] = -1;
}

static void vm_queue_reset(struct vm_queue *q)
{
	int qi = (int)(q - vm.q);
	for (unsigned i = 0; i < q->nheld; i++)
		vm_unhold(q->buf[q->held[i]], qi, q->held[i]);
	memset(q, 0, sizeof *q);
}

/* Legacy rings are given by a 32-bit page number; on a 64-bit host the
 * driver's static rings lie above 16 TiB only by the bits this program's
 * own data shares with them. */
static uint64_t vm_legacy_base(uint32_t pfn)
{
	uint64_t page = vm.page_size ? vm.page_size : 4096;
	uint64_t a = (uint64_t)pfn * page;
	uint64_t hi = (uintptr_t)&vm & ~(((uint64_t)1 << 44) - 1);
	return hi | a;
}

static void vm_queue_go(struct vm_queue *q)
{
	uint64_t d, a, u;
	if (vm.version == 1) {
		d = vm_legacy_base(q->pfn);
		a = d + 16ull * q->num;
		uint64_t align = q->align ? q->align : 4096;
		u = (a + 6 + 2ull * q->num + align - 1) & ~(align - 1);
	} else {
		d = (uint64_t)q->desc_hi << 32 | q->desc_lo;
		a = (uint64_t)q->avail_hi << 32 | q->avail_lo;
		u = (uint64_t)q->used_hi << 32 | q->used_lo;
	}
	if (!q->num || (q->num & (q->num - 1)) || !d || (d & 15) || (a & 1) || (u & 3)) {
		vm_violation("queue set up with size %u, rings %#llx %#llx %#llx", q->num,
			     (unsigned long long)d, (unsigned long long)a, (unsigned long long)u);
		return;
	}
	q->desc = (struct vring_desc *)(uintptr_t)d;
	q->avail = (struct vring_avail *)(uintptr_t)a;
	q->used = (struct vring_used *)(uintptr_t)u;
	q->last_avail = q->used_idx = q->kick_seen = q->irq_seen = vm.start_idx;
	q->live = 1;
	/* what the device asks of notifications: all of them, or none */
	q->used->flags = vm.no_notify ? VRING_USED_F_NO_NOTIFY : 0;
	*(uint16_t *)&q->used->ring[q->num] = vm.no_notify ? (uint16_t)(vm.start_idx - 1) : vm.start_idx;
}

static void vm_drop_held(struct vm_queue *q, unsigned pos)
{
	unsigned id = q->held[pos];
	q->owns[id] = 0;
	vm_unhold(q->buf[id], (int)(q - vm.q), id);
	memmove(&q->held[pos], &q->held[pos + 1], (q->nheld - pos - 1) * sizeof q->held[0]);
	q->nheld--;
}

/* The device gives the buffer at pos back with a used entry. */
static void vm_give_back(struct vm_queue *q, unsigned pos)
{
	if (q->ret_n < VM_QMAX)
		q->ret[(q->ret_head + q->ret_n++) % VM_QMAX] = q->buf[q->held[pos]];
	vm_drop_held(q, pos);
}

static int vm_held_pos(struct vm_queue *q, unsigned id)
{
	for (unsigned i = 0; i < q->nheld; i++)
		if (q->held[i] == id)
			return (int)i;
	return -1;
}

static uint16_t vm_avail_idx(struct vm_queue *q) { return *(volatile uint16_t *)&q->avail->idx; }

/* Does the RX queue, broken (tainted), still hold buffer b? */
static int vm_rx_broken_holds(unsigned b)
{
	struct vm_queue *r = &vm.q[VM_RX];
	for (unsigned i = 0; r->tainted && i < r->nheld; i++)
		if (r->buf[r->held[i]] == b)
			return 1;
	return 0;
}

/* Read every avail entry the driver has published, taking the buffers.
 *
 * One buffer on both rings at once, as the device sees them: after a used
 * entry for an RX id it did not hold, the driver may meet that entry only
 * once it has posted the id again (a fresh return looks the same) and hand
 * that buffer to the stack, which may send it, while the RX avail entry
 * that posted it is still to be read. The device takes that entry as it
 * would any other and then writes into the buffer, as a real device does
 * into every RX buffer it holds (the model's fill, a received frame), while
 * the buffer is on the TX ring. Such writes are the broken device's, not
 * the driver's: the TX content checks of that buffer (zero header, the
 * frame sent, unchanged while held) pause while the broken RX queue holds
 * it too, whichever ring took it first. A reset ends it (vm_queue_reset). */
static void vm_sync(int qi)
{
	struct vm_queue *q = &vm.q[qi];
	if (!q->live)
		return;
	uint16_t idx = vm_avail_idx(q);
	unsigned fresh = (uint16_t)(idx - q->last_avail);
	if (fresh > q->num - q->nheld && !q->tainted) {
		vm_violation("q%d: avail index moved by %u with %u of %u free", qi, fresh,
			     q->num - q->nheld, q->num);
		fresh = q->num - q->nheld;
	}
	if (fresh > q->num) { /* tainted: the driver reused what we did not know it had */
		q->last_avail = (uint16_t)(idx - q->num);
		fresh = q->num;
	}
	for (; fresh; fresh--, q->last_avail++) {
		uint16_t id = q->avail->ring[q->last_avail & (q->num - 1)];
		if (id >= q->num) {
			vm_violation("q%d: avail entry %u names id %u of %u", qi, q->last_avail, id, q->num);
			continue;
		}
		if (q->owns[id]) {
			if (!q->tainted) {
				vm_violation("q%d: id %u posted while the device holds it", qi, id);
				continue;
			}
			vm_drop_held(q, (unsigned)vm_held_pos(q, id)); /* the driver knows better */
		}
		struct vring_desc *d = &q->desc[id];
		int b = vm_buffer_of(d->addr, d->len);
		uint16_t want_flags = qi == VM_RX ? VRING_DESC_F_WRITE : 0;
		if (b < 0 || d->flags != want_flags) {
			vm_violation("q%d: id %u: descriptor %#llx+%u flags %u is not inside one pool buffer",
				     qi, id, (unsigned long long)d->addr, d->len, d->flags);
			continue;
		}
		struct pkt *p = vm.pool[b];
		int want_owner = qi == VM_RX ? PKT_RXRING : PKT_TXRING;
		if (p->owner != want_owner && !q->tainted)
			vm_violation("q%d: id %u: buffer %d posted with owner %u", qi, id, b, p->owner);
		int h = vm.bufh[b];
		int other_sure = h >= 0 && !vm.q[h >> 9].tainted;
		if (other_sure && !q->tainted)
			vm_violation("q%d: id %u: buffer %d already held on q%d", qi, id, b, h >> 9);
		if (!other_sure || !q->tainted) /* a queue we know beats one we do not */
			vm.bufh[b] = VM_HOLDER(qi, id);
		q->owns[id] = 1;
		q->buf[id] = (uint16_t)b;
		q->held[q->nheld++] = id;
		uint8_t *mem = (uint8_t *)(uintptr_t)d->addr;
		if (qi == VM_RX && q->tainted) { /* the TX ring may hold it: see above */
			struct vm_queue *t = &vm.q[VM_TX];
			for (unsigned i = 0; i < t->nheld; i++)
				if (t->buf[t->held[i]] == b)
					t->unchecked[t->held[i]] = 1;
		}
		if (qi == VM_TX)
			q->unchecked[id] = (uint8_t)vm_rx_broken_holds((unsigned)b);
		if (qi == VM_RX) {
			if (d->len != (uint32_t)vm_hdrlen() + VM_FRAME_MAX)
				vm_violation("rx: id %u: buffer of %u bytes", id, d->len);
			static uint8_t fill;
			q->fill[id] = (uint8_t)(++fill | 0x80);
			memset(mem, q->fill[id], d->len);
		} else {
			int hl = vm_hdrlen();
			if (d->len < (uint32_t)hl || d->len > (uint32_t)hl + VM_FRAME_MAX) {
				vm_violation("tx: id %u: %u bytes", id, d->len);
			} else if (!q->tainted && !q->unchecked[id]) { /* else it may be someone else's buffer by now */
				/* the header the frame must carry: zero, or NEEDS_CSUM and
				 * where the checksum is (LE) */
				uint8_t want[12] = {0};
				if (vm.sent_n && vm.sent[vm.sent_head].hdr_flags) {
					const struct vm_sent *e = &vm.sent[vm.sent_head];
					want[0] = e->hdr_flags;
					want[6] = (uint8_t)e->csum_start, want[7] = (uint8_t)(e->csum_start >> 8);
					want[8] = (uint8_t)e->csum_off, want[9] = (uint8_t)(e->csum_off >> 8);
				}
				for (int i = 0; i < hl; i++)
					if (mem[i] != want[i]) {
						vm_violation("tx: id %u: NIC header byte %d is %u, not %u", id, i, mem[i],
							     want[i]);
						break;
					}
			}
			q->hash[id] = vm_hash(mem, d->len);
			if (vm.sent_n) { /* frames reach the ring in the order sent */
				struct vm_sent *s = &vm.sent[vm.sent_head];
				if (!q->tainted && !q->unchecked[id] && (s->len + (uint32_t)hl != d->len ||
						    s->hash != vm_hash(mem + hl, d->len - hl)))
					vm_violation("tx: id %u: %u bytes that are not the frame sent (%u bytes)",
						     id, d->len - hl, s->len);
				vm.sent_head = (vm.sent_head + 1) % VM_SENT;
				vm.sent_n--;
			} else if (!q->tainted) {
				vm_violation("tx: id %u: a frame nobody sent", id);
			}
		}
	}
}

/* Does the RX buffer the device holds still hold its fill byte? */
static int vm_fill_intact(unsigned id)
{
	struct vm_queue *q = &vm.q[VM_RX];
	const uint8_t *m = (const uint8_t *)(uintptr_t)q->desc[id].addr;
	uint32_t n = q->desc[id].len;
	return m[0] == q->fill[id] && memcmp(m, m + 1, n - 1) == 0; /* all bytes alike */
}

static void vm_expect_push(uint8_t kind, uint16_t len, uint64_t hash, uint8_t flags)
{
	if (vm.exp_n == VM_EXPECT) {
		vm_violation("model: more than %d RX entries outstanding", VM_EXPECT);
		return;
	}
	vm.exp[(vm.exp_head + vm.exp_n++) % VM_EXPECT] = (struct vm_expect){.kind = kind, .flags = flags, .len = len, .hash = hash};
}

/* Interrupt for the used entries written since the last decision, if the
 * driver asked for one (event index, or the avail ring flag). */
static void vm_maybe_irq(int qi)
{
	struct vm_queue *q = &vm.q[qi];
	int want;
	if (vm_event_idx())
		want = vring_need_event(*(volatile uint16_t *)&q->avail->ring[q->num], q->used_idx, q->irq_seen);
	else
		want = q->used_idx != q->irq_seen && !(q->avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
	q->irq_seen = q->used_idx;
	if (want) {
		vm.irq_status |= VIRTIO_IRQ_USED;
		vm.irqs_raised++;
		if (vm.isr)
			vm.isr(vm.isr_arg);
	}
}

/* Write one used entry and publish it. */
static void vm_put_used(int qi, uint32_t id, uint32_t len)
{
	struct vm_queue *q = &vm.q[qi];
	struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1)];
	e->id = id;
	e->len = len;
	q->used_idx++;
	*(volatile uint16_t *)&q->used->idx = q->used_idx;
}

static int vm_filter_passes(const uint8_t *dst);

static int vm_ready(void)
{
	return (vm.status & VSTAT_DRIVER_OK) && !(vm.status & VSTAT_FAILED) && vm.q[0].live && vm.q[1].live;
}

/* ---- device actions ---- */

/* How a frame is received: header flags and checksum fields, and the
 * used length when it is not the true one (a lie: too short, too long). */
struct vm_rxopt {
	uint8_t hdr_flags;      /* VIRTIO_NET_HDR_F_* */
	uint16_t csum_start, csum_off;
	int lie;                /* write used_len instead of the true length */
	uint32_t used_len;
};

/* Receive a frame into the RX buffer at position pos of those the device
 * holds (0: the one it took first). frame NULL: the buffer's contents as
 * they are. Returns the id used, -1 when it holds none, or -2 when the
 * receive filter keeps the frame out (counted in vm.filtered_out). */
static int vm_rx_ex(unsigned pos, const uint8_t *frame, unsigned len, const struct vm_rxopt *o)
{
	static const struct vm_rxopt plain;
	struct vm_queue *q = &vm.q[VM_RX];
	vm_sync(VM_RX);
	if (q->tainted) /* a TX buffer this write may land in is known as such first (vm_sync) */
		vm_sync(VM_TX);
	if (!vm_ready() || pos >= q->nheld)
		return -1;
	if (!o)
		o = &plain;
	if (len > VM_FRAME_MAX)
		len = VM_FRAME_MAX;
	if (frame && len >= 6 && !vm_filter_passes(frame)) {
		vm.filtered_out++;
		return -2;
	}
	unsigned id = q->held[pos];
	int hl = vm_hdrlen();
	uint8_t *m = (uint8_t *)(uintptr_t)q->desc[id].addr;
	if (!q->tainted && !vm_fill_intact(id))
		vm_violation("rx: id %u: the driver wrote into a buffer the device held", id);
	memset(m, 0, hl);
	m[0] = o->hdr_flags;
	m[6] = (uint8_t)o->csum_start, m[7] = (uint8_t)(o->csum_start >> 8);
	m[8] = (uint8_t)o->csum_off, m[9] = (uint8_t)(o->csum_off >> 8);
	if (frame)
		memcpy(m + hl, frame, len);
	uint32_t ulen = o->lie ? o->used_len : hl + len;
	/* what the driver must make of it */
	if (ulen < (uint32_t)hl || ulen > q->desc[id].len) {
		vm_expect_push(q->tainted ? VM_EXP_UNKNOWN : VM_EXP_DROP, 0, 0, 0);
	} else {
		unsigned n = ulen - hl, cs = o->csum_start, co = o->csum_off;
		static uint8_t want[VM_FRAME_MAX];
		memcpy(want, m + hl, n);
		uint8_t flags = 0;
		int drop = 0;
		if (m[0] & VIRTIO_NET_HDR_F_DATA_VALID) {
			flags = PKT_F_CSUM_OK;
		} else if (m[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			/* left partial, as the device gave it, if its place lies in
			 * the frame (csum_start + csum_offset + 2 <= length); else
			 * the frame is dropped and counted */
			flags = PKT_F_CSUM_OK | PKT_F_CSUM_PART;
			drop = cs > n || co + 2 > n - cs;
		}
		if (drop) {
			vm_expect_push(q->tainted ? VM_EXP_UNKNOWN : VM_EXP_DROP, 0, 0, 0);
		} else {
			vm_expect_push(q->tainted ? VM_EXP_UNKNOWN : VM_EXP_FRAME, (uint16_t)n,
				       vm_hash(want, n), flags);
			struct vm_expect *e = &vm.exp[(vm.exp_head + vm.exp_n - 1) % VM_EXPECT];
			e->csum_start = (uint16_t)cs;
			e->csum_off = (uint16_t)co;
		}
	}
	vm_give_back(q, pos);
	vm_put_used(VM_RX, id, ulen);
	vm.rx_written++;
	vm_maybe_irq(VM_RX);
	return (int)id;
}

static int vm_rx(const uint8_t *frame, unsigned len)
{
	return vm_rx_ex(0, frame, len, NULL);
}

/* The same with a lying used length. */
static int vm_rx_len(const uint8_t *frame, unsigned len, uint32_t used_len)
{
	struct vm_rxopt o = {.lie = 1, .used_len = used_len};
	return vm_rx_ex(0, frame, len, &o);
}

/* Complete up to n TX buffers, oldest first (or the one at pos when
 * pos >= 0). Checks the frame did not change while the device held it.
 * Returns how many. */
static unsigned vm_tx_complete_at(int pos, unsigned n)
{
	struct vm_queue *q = &vm.q[VM_TX];
	vm_sync(VM_TX);
	if (!vm_ready())
		return 0;
	unsigned done = 0;
	while (done < n && q->nheld) {
		unsigned at = pos >= 0 ? (unsigned)pos % q->nheld : 0;
		unsigned id = q->held[at];
		const uint8_t *m = (const uint8_t *)(uintptr_t)q->desc[id].addr;
		if (!q->tainted && !q->unchecked[id] && vm_hash(m, q->desc[id].len) != q->hash[id])
			vm_violation("tx: id %u: the frame changed while the device held it", id);
		vm_give_back(q, at);
		vm_put_used(VM_TX, id, 0);
		vm.tx_done++;
		done++;
	}
	if (done)
		vm_maybe_irq(VM_TX);
	return done;
}

static unsigned vm_tx_complete(unsigned n) { return vm_tx_complete_at(-1, n); }

/* Misbehaviour: a used entry for any id, held or not. A held id is an
 * honest return (its frame empty, the length as given); any other breaks
 * the protocol. */
static void vm_used_raw(int qi, uint32_t id, uint32_t len)
{
	struct vm_queue *q = &vm.q[qi];
	vm_sync(qi);
	if (!vm_ready())
		return;
	int pos = id < q->num && q->owns[id] ? vm_held_pos(q, id) : -1;
	if (pos >= 0) {
		if (qi == VM_RX) { /* a frame of whatever the buffer holds */
			struct vm_rxopt o = {.lie = 1, .used_len = len};
			vm_rx_ex((unsigned)pos, NULL, 0, &o);
			return;
		}
		vm_give_back(q, (unsigned)pos);
	} else {
		q->tainted = 1;
		if (qi == VM_RX)
			vm_expect_push(VM_EXP_UNKNOWN, 0, 0, 0);
	}
	vm_put_used(qi, id, len);
	vm_maybe_irq(qi);
}

/* Misbehaviour: move the used index by k without writing entries; the
 * driver would read whatever an earlier lap left there. */
static void vm_used_jump(int qi, uint16_t k)
{
	struct vm_queue *q = &vm.q[qi];
	vm_sync(qi);
	if (!vm_ready() || !k)
		return;
	q->tainted = 1;
	if (qi == VM_RX)
		vm_expect_push(VM_EXP_UNKNOWN, 0, 0, 0);
	q->used_idx += k;
	*(volatile uint16_t *)&q->used->idx = q->used_idx;
	vm_maybe_irq(qi);
}

/* The link goes up or down: config status and a config interrupt. */
static void vm_set_link(int up)
{
	vm.link = up ? VIRTIO_NET_S_LINK_UP : 0;
	vm.irq_status |= VIRTIO_IRQ_CONFIG;
	if (vm.isr)
		vm.isr(vm.isr_arg);
}

static void vm_device_reset(void)
{
	vm.status = 0;
	vm.drv_features = 0;
	vm.irq_status = 0;
	vm_queue_reset(&vm.q[0]);
	vm_queue_reset(&vm.q[1]);
	vm_queue_reset(&vm.q[2]);
	memset(&vm.rxf, 0, sizeof vm.rxf);
	vm.rxf.promisc = 1; /* QEMU's virtio_net_reset */
	vm.ctrl_held = 0;
	/* entries not yet seen and frames not yet taken are gone with the rings */
	vm.exp_n = 0;
	vm.sent_n = 0;
	vm.resets++;
}

/* ---- the control queue and the receive filter ---- */

/* Would QEMU (7.2, receive_filter) pass a frame to dst? */
static int vm_filter_passes(const uint8_t *dst)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	if (vm.rxf.promisc)
		return 1;
	if (dst[0] & 1) {
		if (!memcmp(dst, bcast, 6) || vm.rxf.allmulti || vm.rxf.multi_overflow)
			return 1;
		for (unsigned i = vm.rxf.first_multi; i < vm.rxf.in_use; i++)
			if (!memcmp(dst, vm.rxf.macs[i], 6))
				return 1;
		return 0;
	}
	if (vm.rxf.uni_overflow || !memcmp(dst, vm.mac, 6))
		return 1;
	for (unsigned i = 0; i < vm.rxf.first_multi; i++)
		if (!memcmp(dst, vm.rxf.macs[i], 6))
			return 1;
	return 0;
}

static uint32_t vm_le32(const uint8_t *b)
{
	return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Check one command's framing, log it and apply it as QEMU would; the
 * ack it deserves (0 OK, 1 ERR). */
static uint8_t vm_ctrl_apply(uint8_t *const out[], const uint32_t outlen[], unsigned nout)
{
	struct vm_cmd c;
	memset(&c, 0, sizeof c);
	if (outlen[0] != 2) {
		vm_violation("ctrl: header of %u bytes, not a descriptor of its own", outlen[0]);
		return 1;
	}
	c.cls = out[0][0];
	c.cmd = out[0][1];
	uint8_t ack = 1;
	if (c.cls == VIRTIO_NET_CTRL_RX && c.cmd <= VIRTIO_NET_CTRL_RX_ALLMULTI) {
		if (nout != 2 || outlen[1] != 1) {
			vm_violation("ctrl: RX command %u with %u data descriptors", c.cmd, nout - 1);
		} else {
			c.on = out[1][0];
			if (c.on > 1)
				vm_violation("ctrl: RX command %u with %u", c.cmd, c.on);
			*(c.cmd ? &vm.rxf.allmulti : &vm.rxf.promisc) = !!c.on;
			ack = 0;
		}
	} else if (c.cls == VIRTIO_NET_CTRL_MAC && c.cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
		uint32_t nu = nout == 3 && outlen[1] >= 4 ? vm_le32(out[1]) : 0;
		uint32_t nm = nout == 3 && outlen[2] >= 4 ? vm_le32(out[2]) : 0;
		if (nout != 3 || outlen[1] < 4 || outlen[2] < 4 || (uint64_t)nu * 6 + 4 != outlen[1] ||
		    (uint64_t)nm * 6 + 4 != outlen[2]) {
			vm_violation("ctrl: MAC_TABLE_SET framed as %u descriptors", nout);
		} else {
			c.nuni = nu;
			c.nmulti = nm;
			for (unsigned i = 0; i < nu && i < VM_MACS; i++)
				memcpy(c.uni[i], out[1] + 4 + 6 * i, 6);
			for (unsigned i = 0; i < nm && i < VM_MACS; i++)
				memcpy(c.multi[i], out[2] + 4 + 6 * i, 6);
			memset(&vm.rxf.macs, 0, sizeof vm.rxf.macs);
			vm.rxf.in_use = vm.rxf.first_multi = 0;
			vm.rxf.uni_overflow = vm.rxf.multi_overflow = 0;
			if (nu <= VM_MACS) {
				memcpy(vm.rxf.macs, c.uni, 6 * nu);
				vm.rxf.in_use = nu;
			} else {
				vm.rxf.uni_overflow = 1;
			}
			vm.rxf.first_multi = vm.rxf.in_use;
			if (nm <= VM_MACS - vm.rxf.in_use) {
				memcpy(vm.rxf.macs[vm.rxf.in_use], c.multi, 6 * nm);
				vm.rxf.in_use += nm;
			} else {
				vm.rxf.multi_overflow = 1;
			}
			ack = 0;
		}
	} else {
		vm_violation("ctrl: class %u command %u", c.cls, c.cmd);
	}
	if (vm.ncmd < VM_CMD_LOG)
		vm.cmd[vm.ncmd] = c;
	vm.ncmd++;
	return ack;
}

/* The driver notified the control queue: every command it posted, read,
 * applied and answered (as vm.ctrl_mode says) before the write returns. */
static void vm_ctrl_kick(void)
{
	struct vm_queue *q = &vm.q[VM_CTRL];
	uint16_t idx = vm_avail_idx(q);
	if ((uint16_t)(idx - q->last_avail) > q->num) {
		vm_violation("ctrl: avail index moved by %u", (uint16_t)(idx - q->last_avail));
		q->last_avail = idx;
	}
	while (q->last_avail != idx) {
		if (vm.ctrl_held)
			vm_violation("ctrl: a command posted while the device holds one");
		uint16_t head = q->avail->ring[q->last_avail++ & (q->num - 1)];
		uint8_t *out[8], *in = NULL;
		uint32_t outlen[8], inlen = 0;
		unsigned nout = 0, id = head, steps = 0;
		for (;;) {
			if (id >= q->num || steps++ >= q->num) {
				vm_violation("ctrl: chain from %u runs to id %u", head, id);
				return;
			}
			struct vring_desc *d = &q->desc[id];
			if (!d->addr || !d->len || d->len > 4096) {
				vm_violation("ctrl: id %u: %#llx+%u", id, (unsigned long long)d->addr, d->len);
				return;
			}
			if (d->flags & VRING_DESC_F_WRITE) {
				if (in)
					vm_violation("ctrl: two writable descriptors");
				in = (uint8_t *)(uintptr_t)d->addr;
				inlen = d->len;
			} else if (in || nout == 8) {
				vm_violation("ctrl: a readable descriptor after the ack, or too many");
				return;
			} else {
				out[nout] = (uint8_t *)(uintptr_t)d->addr;
				outlen[nout++] = d->len;
			}
			if (!(d->flags & VRING_DESC_F_NEXT))
				break;
			id = d->next;
		}
		if (!nout || !in || inlen != 1) {
			vm_violation("ctrl: %u readable descriptors, ack of %u bytes", nout, inlen);
			return;
		}
		int mode = vm.ctrl_mode;
		if (vm.ctrl_only && vm.ctrl_only != VM_CMD(out[0][0], out[0][1]))
			mode = VM_CTRL_ACK;
		__typeof__(vm.rxf) before = vm.rxf;
		uint8_t ack = vm_ctrl_apply(out, outlen, nout);
		if (mode != VM_CTRL_ACK)
			vm.rxf = before; /* a command refused or lost changes nothing */
		switch (mode) {
		case VM_CTRL_ACK: *in = ack; vm_put_used(VM_CTRL, head, 1); break;
		case VM_CTRL_NAK: *in = 1; vm_put_used(VM_CTRL, head, 1); break;
		case VM_CTRL_ODD_ACK: *in = 0x5a; vm_put_used(VM_CTRL, head, 1); break;
		case VM_CTRL_NO_ACK: vm_put_used(VM_CTRL, head, 0); break;
		case VM_CTRL_SILENT: vm.ctrl_held = 1; break;
		case VM_CTRL_BAD_ID: *in = 0; vm_put_used(VM_CTRL, (head + 1) % q->num, 1); break;
		case VM_CTRL_JUMP:
			*in = 0;
			vm_put_used(VM_CTRL, head, 1);
			q->used_idx += 3;
			*(volatile uint16_t *)&q->used->idx = q->used_idx;
			break;
		}
		if (mode != VM_CTRL_SILENT)
			vm_maybe_irq(VM_CTRL);
	}
}

/* ---- the MMIO the driver's register accesses become ---- */

uint32_t host_mmio_read32(uintptr_t a)
{
	unsigned off = (unsigned)(a - VM_BASE);
	struct vm_queue *q = vm.qsel < 3 ? &vm.q[vm.qsel] : NULL;
	switch (off) {
	case VMMIO_MAGIC: return VIRTIO_MAGIC;
	case VMMIO_VERSION: return vm.version;
	case VMMIO_DEVICE_ID: return VIRTIO_DEV_NET;
	case VMMIO_DEV_FEATURES: return vm.dev_sel < 2 ? (uint32_t)(vm.offer >> (32 * vm.dev_sel)) : 0;
	case VMMIO_QUEUE_NUM_MAX: return q ? vm.num_max[vm.qsel] : 0;
	case VMMIO_QUEUE_READY: return q ? (uint32_t)q->live : 0;
	case VMMIO_QUEUE_PFN: return q ? q->pfn : 0;
	case VMMIO_IRQ_STATUS: return vm.irq_status;
	case VMMIO_STATUS:
		vm.status_reads++;
		return vm.status;
	}
	vm_violation("read32 of register %#x", off);
	return 0;
}

void host_mmio_write32(uintptr_t a, uint32_t v)
{
	unsigned off = (unsigned)(a - VM_BASE);
	struct vm_queue *q = vm.qsel < 3 ? &vm.q[vm.qsel] : NULL;
	int setup = off >= VMMIO_QUEUE_NUM && off != VMMIO_QUEUE_NOTIFY && off != VMMIO_IRQ_ACK &&
		    off != VMMIO_STATUS;
	if (setup && (vm.status & VSTAT_DRIVER_OK))
		vm_violation("queue register %#x written after DRIVER_OK", off);
	if (setup && !q)
		vm_violation("queue register %#x written with queue %u selected", off, vm.qsel);
	switch (off) {
	case VMMIO_DEV_FEATURES_SEL: vm.dev_sel = v; return;
	case VMMIO_DRV_FEATURES_SEL: vm.drv_sel = v; return;
	case VMMIO_DRV_FEATURES:
		if (vm.drv_sel < 2) {
			vm.drv_features &= ~(0xffffffffull << (32 * vm.drv_sel));
			vm.drv_features |= (uint64_t)v << (32 * vm.drv_sel);
		}
		if (vm.drv_features & ~vm.offer)
			vm_violation("driver took features %#llx not offered",
				     (unsigned long long)(vm.drv_features & ~vm.offer));
		return;
	case VMMIO_GUEST_PAGE_SIZE: vm.page_size = v; return;
	case VMMIO_QUEUE_SEL: vm.qsel = v; return;
	case VMMIO_QUEUE_NOTIFY:
		if (v == VM_CTRL && vm.q[VM_CTRL].live && (vm.status & VSTAT_DRIVER_OK)) {
			vm.q[v].notifies++;
			vm_ctrl_kick();
			vm.q[v].kick_seen = vm_avail_idx(&vm.q[v]);
			if (!vm.no_notify)
				*(volatile uint16_t *)&vm.q[v].used->ring[vm.q[v].num] = vm.q[v].kick_seen;
		} else if (v >= 2) {
			vm_violation("notify of queue %u", v);
		} else if (!(vm.status & VSTAT_DRIVER_OK)) {
			vm.notify_early++;
			vm_violation("notify of queue %u before DRIVER_OK", v);
		} else {
			vm.q[v].notifies++;
			vm.q[v].kick_seen = vm_avail_idx(&vm.q[v]);
			if (!vm.no_notify) /* ask for the next one as soon as anything new comes */
				*(volatile uint16_t *)&vm.q[v].used->ring[vm.q[v].num] = vm.q[v].kick_seen;
		}
		return;
	case VMMIO_IRQ_ACK: vm.irq_status &= ~v; return;
	case VMMIO_STATUS:
		if (v == 0) {
			if (!vm.reset_stuck)
				vm_device_reset();
			else /* stays as it was, and says it needs a reset */
				vm.status |= 0x40;
			return;
		}
		if ((vm.status & ~v) && !(v & VSTAT_FAILED))
			vm_violation("status %#x after %#x: a bit cleared without a reset", v, vm.status);
		if (vm.reject_features)
			v &= ~(uint32_t)VSTAT_FEATURES_OK;
		vm.status = v;
		return;
	}
	if (!q)
		return;
	switch (off) {
	case VMMIO_QUEUE_NUM:
		if (v > vm.num_max[vm.qsel] || v > VM_QMAX)
			vm_violation("queue %u: size %u, max %u", vm.qsel, v, vm.num_max[vm.qsel]);
		q->num = v;
		return;
	case VMMIO_QUEUE_ALIGN: q->align = v; return;
	case VMMIO_QUEUE_PFN:
		q->pfn = v;
		if (v)
			vm_queue_go(q);
		return;
	case VMMIO_QUEUE_READY:
		if (v)
			vm_queue_go(q);
		return;
	case VMMIO_QUEUE_DESC_LO: q->desc_lo = v; return;
	case VMMIO_QUEUE_DESC_HI: q->desc_hi = v; return;
	case VMMIO_QUEUE_AVAIL_LO: q->avail_lo = v; return;
	case VMMIO_QUEUE_AVAIL_HI: q->avail_hi = v; return;
	case VMMIO_QUEUE_USED_LO: q->used_lo = v; return;
	case VMMIO_QUEUE_USED_HI: q->used_hi = v; return;
	}
	vm_violation("write32 of register %#x", off);
}

uint8_t host_mmio_read8(uintptr_t a)
{
	unsigned off = (unsigned)(a - VM_BASE) - VMMIO_CONFIG;
	if (off < 6)
		return vm.mac[off];
	if (off == 6)
		return vm.link;
	if (off == 7)
		return 0;
	vm_violation("read8 of %#x", off + VMMIO_CONFIG);
	return 0;
}

void host_mmio_write8(uintptr_t a, uint8_t v)
{
	(void)v;
	vm_violation("write8 of %#lx", (unsigned long)(a - VM_BASE));
}

/* virtio-mmio has no 16-bit registers: a 16-bit access is a driver bug. */
uint16_t host_mmio_read16(uintptr_t a)
{
	vm_violation("read16 of %#lx", (unsigned long)(a - VM_BASE));
	return 0;
}

void host_mmio_write16(uintptr_t a, uint16_t v)
{
	(void)v;
	vm_violation("write16 of %#lx", (unsigned long)(a - VM_BASE));
}

/* The model runs between the driver's calls, on the same thread: the call
 * itself is the barrier a fence must be. */
void host_fence(void) {}

/* What the driver calls besides the device. */
void plic_enable(uint32_t irq, void (*fn)(void *arg), void *arg)
{
	if (irq != VM_IRQ)
		vm_violation("interrupt %u enabled, the device has %u", irq, VM_IRQ);
	vm.isr = fn;
	vm.isr_arg = arg;
}
void plic_enable_hot(uint32_t irq, void (*fn)(void *arg), void *arg)
{
	plic_enable(irq, fn, arg);
}

/* The clock the driver waits on: one tick a look, so a wait ends after
 * as many looks as it allows (ten a millisecond), never on the wall. */
uint64_t timer_ticks(void);
uint64_t timer_ms_to_ticks(uint32_t ms);
static uint64_t vm_ticks;
uint64_t timer_ticks(void) { return ++vm_ticks; }
uint64_t timer_ms_to_ticks(uint32_t ms) { return 10ull * ms; }

static char vm_console[256]; /* the driver's last message */
int vnet_host_printf(const char *fmt, ...);
int vnet_host_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(vm_console, sizeof vm_console, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- the harness: the driver's calls, each followed by the checks ---- */

/* Forget the given-back buffers the driver has taken off its ring: in
 * used order, each either left the ring's owner tag or is back on a ring.
 * Returns how many it has not taken yet. */
static unsigned vm_prune(int qi)
{
	struct vm_queue *q = &vm.q[qi];
	uint8_t tag = qi == VM_RX ? PKT_RXRING : PKT_TXRING;
	while (q->ret_n) {
		unsigned b = q->ret[q->ret_head];
		if (vm.pool[b]->owner == tag && vm.bufh[b] < 0)
			break;
		q->ret_head = (q->ret_head + 1) % VM_QMAX;
		q->ret_n--;
	}
	return q->ret_n;
}

/* Owner tags of the whole pool, counted; and per queue the first buffer
 * the device holds that is not tagged for its ring (-1: none). The step's hot loop:
 * no ASan on reads of the pool's own descriptors. */
static VM_NO_SANITIZE void vm_census(unsigned n[PKT_APP + 1], unsigned *other, int stolen[2])
{
	static const uint8_t ring_tag[2] = {PKT_RXRING, PKT_TXRING};
	stolen[0] = stolen[1] = -1;
	const struct pkt *p = vm.pool[0]; /* one array (vm_learn_pool) */
	for (int i = 0; i < CFG_PKT_COUNT; i++) {
		unsigned o = p[i].owner;
		if (o <= PKT_APP)
			n[o]++;
		else
			(*other)++;
		int h = vm.bufh[i];
		if (h >= 0 && o != ring_tag[h >> 9] && stolen[h >> 9] < 0)
			stolen[h >> 9] = i;
	}
}

/* Every invariant that holds between driver calls. */
static void vm_check(void)
{
	vm_sync(VM_RX);
	vm_sync(VM_TX);
	vm_prune(VM_RX);
	vm_prune(VM_TX);
	if (vm.touched) {
		memset(vm.census, 0, sizeof vm.census);
		vm.census_other = 0;
		vm_census(vm.census, &vm.census_other, vm.census_stolen);
		vm.touched = 0;
	}
	const unsigned *n = vm.census, other = vm.census_other;
	unsigned rxp = 0, txi = 0;
	if (vm.probed)
		vm.nic.rings(&rxp, &txi);
	unsigned held = n[PKT_STACK] + n[PKT_QUEUED] + n[PKT_APP] + other;
	if (n[PKT_FREE] != pkt_free_count() || n[PKT_RXRING] != rxp || n[PKT_TXRING] != txi ||
	    held != vm.app_held)
		vm_violation("accounting: tags free %u rx %u tx %u held %u; pool free %u, driver rx %u tx %u, "
			     "test holds %u (of %d)", n[PKT_FREE], n[PKT_RXRING], n[PKT_TXRING], held,
			     pkt_free_count(), rxp, txi, vm.app_held, CFG_PKT_COUNT);
	if (pkt_stats.bad_free || pkt_stats.bad_use)
		vm_violation("pool: %u bad frees, %u uses after free", pkt_stats.bad_free, pkt_stats.bad_use);
	static const uint8_t ring_tag[2] = {PKT_RXRING, PKT_TXRING};
	for (int qi = 0; qi < 2; qi++) {
		struct vm_queue *q = &vm.q[qi];
		if (q->tainted)
			continue;
		/* the buffers on the driver's ring are exactly those the device
		 * holds and those it gave back that the driver has not yet seen */
		if (q->nheld + q->ret_n != n[ring_tag[qi]])
			vm_violation("q%d: device holds %u buffers and gave back %u unseen, %u are tagged "
				     "for its ring", qi, q->nheld, q->ret_n, n[ring_tag[qi]]);
		int stolen = vm.census_stolen[qi];
		if (stolen >= 0)
			vm_violation("q%d: the driver took back buffer %d the device holds (owner %u)", qi,
				     stolen, vm.pool[stolen]->owner);
		for (unsigned i = 0; vm.deep && i < q->nheld; i++) {
			unsigned id = q->held[i];
			if (qi == VM_RX && !vm_fill_intact(id))
				vm_violation("rx: id %u: the driver wrote into a buffer the device held", id);
			else if (qi == VM_TX && !q->unchecked[id] &&
				 vm_hash((const uint8_t *)(uintptr_t)q->desc[id].addr, q->desc[id].len) != q->hash[id])
				vm_violation("tx: id %u: the frame changed while the device held it", id);
		}
	}
}

/* The deliver callback: the frame must be the next one the device wrote. */
static void vm_deliver(struct pkt *p)
{
	vm.delivered++;
	vm.app_held++;
	if (p->owner != PKT_STACK || p->data != p->head + CFG_PKT_LINK_OFF || p->len > VM_FRAME_MAX ||
	    vm_buffer_of((uintptr_t)p->head, CFG_PKT_BUFSZ) != p->index)
		vm_violation("delivered: buffer %u owner %u data +%ld len %u", p->index, p->owner,
			     (long)(p->data - p->head), p->len);
	while (vm.exp_n && vm.exp[vm.exp_head].kind == VM_EXP_DROP) {
		vm.exp_head = (vm.exp_head + 1) % VM_EXPECT;
		vm.exp_n--;
		vm.drops_seen++;
	}
	if (!vm.exp_n) {
		if (!vm.q[VM_RX].tainted)
			vm_violation("delivered a frame of %u bytes the device never wrote", p->len);
	} else if (vm.exp[vm.exp_head].kind == VM_EXP_FRAME) {
		struct vm_expect *e = &vm.exp[vm.exp_head];
		if (p->len != e->len || vm_hash(p->data, p->len) != e->hash || p->flags != e->flags)
			vm_violation("delivered %u bytes flags %u, the device wrote %u bytes flags %u%s", p->len,
				     p->flags, e->len, e->flags, p->len == e->len ? " (other bytes)" : "");
		else if ((e->flags & PKT_F_CSUM_PART) &&
			 (p->csum_start != e->csum_start || p->csum_off != e->csum_off))
			vm_violation("delivered a partial checksum at %u+%u, the device said %u+%u",
				     p->csum_start, p->csum_off, e->csum_start, e->csum_off);
		vm.exp_head = (vm.exp_head + 1) % VM_EXPECT;
		vm.exp_n--;
	} /* else unknown from here on: the model broke the protocol */
	if (vm.on_frame) {
		vm.on_frame(p);
	} else {
		vm.app_held--;
		pkt_free(p);
	}
}

/* The Internet checksum a device (or the driver in software) puts at
 * start + off: the sum from start to the end of the frame, which holds
 * the pseudo-header's sum in the field; 0 sent as 0xffff. Byte by byte,
 * unlike the driver's. */
static uint16_t vm_csum_finish(const uint8_t *f, unsigned len, unsigned start)
{
	uint32_t sum = 0;
	for (unsigned i = start; i < len; i++)
		sum += (i - start) & 1 ? f[i] : (uint32_t)f[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	return c ? c : 0xffff;
}

/* The test sends a buffer it holds (vm.app_held counts it). A frame with
 * a partial checksum must reach the ring as the device is to finish it
 * (VIRTIO_NET_F_CSUM: NEEDS_CSUM in the header, the frame as it is) or
 * finished by the driver; offsets outside the frame must not reach it. */
static int vm_send(struct pkt *p)
{
	if (vm.sent_n == VM_SENT) {
		vm_violation("model: more than %d frames sent and not taken", VM_SENT);
		return -1;
	}
	unsigned slot = (vm.sent_head + vm.sent_n) % VM_SENT;
	vm.sent[slot] = (struct vm_sent){.len = p->len, .hash = vm_hash(p->data, p->len)};
	unsigned cs = p->csum_start, co = p->csum_off;
	if ((p->flags & PKT_F_CSUM_PART) && cs <= p->len && co + 2 <= p->len - cs) {
		if (vm.drv_features & (1ull << VIRTIO_NET_F_CSUM)) {
			vm.sent[slot].hdr_flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vm.sent[slot].csum_start = (uint16_t)cs;
			vm.sent[slot].csum_off = (uint16_t)co;
		} else {
			static uint8_t f[VM_FRAME_MAX + 1];
			unsigned n = p->len <= VM_FRAME_MAX ? p->len : VM_FRAME_MAX;
			memcpy(f, p->data, n);
			uint16_t c = vm_csum_finish(f, n, cs);
			f[cs + co] = (uint8_t)(c >> 8);
			f[cs + co + 1] = (uint8_t)c;
			vm.sent[slot].hash = vm_hash(f, n);
		}
	}
	vm.sent_n++;
	vm.app_held--;
	unsigned resets = vm.resets;
	vm.touched = 1;
	int r = vm.nic.tx(p);
	if (r != 0 && vm.resets == resets)
		vm.sent_n--; /* dropped: it never reaches the ring */
	return r;
}

static struct pkt *vm_alloc_frame(const uint8_t *frame, unsigned len)
{
	struct pkt *p = pkt_alloc(PKT_APP);
	vm.touched = 1;
	if (!p)
		return NULL;
	vm.app_held++;
	p->data = p->head + CFG_PKT_LINK_OFF;
	if (len)
		memcpy(p->data, frame, len);
	p->len = (uint16_t)len;
	return p;
}

static void vm_free(struct pkt *p)
{
	vm.touched = 1;
	vm.app_held--;
	pkt_free(p);
}

/* Must the last poll have taken back every sent buffer given back? With
 * a batch (virtio_net_host_batch) only once the TX ring holds more than
 * the batch's slack or the RX ring is short of more: a quarter of the
 * ring at most, as the driver sizes it. */
static int vm_reclaim_due(void)
{
	unsigned rxp, txi, b = virtio_net_host_batch;
	unsigned rx_want = vm.q[VM_RX].num < CFG_RXQ_SIZE ? vm.q[VM_RX].num : CFG_RXQ_SIZE;
	unsigned rx_slack = rx_want / 4 < b ? rx_want / 4 : b;
	unsigned tx_slack = vm.q[VM_TX].num / 4 < b ? vm.q[VM_TX].num / 4 : b;
	vm.nic.rings(&rxp, &txi);
	return txi > tx_slack || rxp + rx_slack < rx_want;
}

/* A poll, and what must hold after it: a poll that did not use its whole
 * budget (and did not reset the device) has consumed every entry. */
static unsigned vm_poll(unsigned budget)
{
	uint32_t errs = vm.nic.stats->dev_errors, drops = vm.drops_seen, bad = vm.nic.stats->rx_bad;
	unsigned resets = vm.resets;
	vm.touched = 1;
	unsigned n = virtio_net_poll(vm_deliver, budget);
	if (n > budget)
		vm_violation("poll delivered %u frames, budget %u", n, budget);
	int reset = vm.resets != resets || vm.nic.stats->dev_errors != errs;
	if (!reset && vm_ready() && !vm.q[VM_RX].tainted) {
		if (n < budget) {
			while (vm.exp_n && vm.exp[vm.exp_head].kind == VM_EXP_DROP) {
				vm.exp_head = (vm.exp_head + 1) % VM_EXPECT;
				vm.exp_n--;
				vm.drops_seen++;
			}
			if (vm.exp_n)
				vm_violation("poll returned %u < %u with %u frames not delivered", n, budget,
					     vm.exp_n);
			vm_sync(VM_RX);
			if (vm_prune(VM_RX))
				vm_violation("poll returned %u < %u with %u RX buffers given back not taken", n,
					     budget, vm.q[VM_RX].ret_n);
		}
		if (vm.nic.stats->rx_bad - bad != vm.drops_seen - drops)
			vm_violation("rx_bad moved by %u for %u bad lengths", vm.nic.stats->rx_bad - bad,
				     vm.drops_seen - drops);
	}
	/* every sent buffer given back is reclaimed by a poll (a batch's) */
	vm_sync(VM_RX);
	vm_sync(VM_TX);
	if (!reset && vm_ready() && !vm.q[VM_TX].tainted && vm_prune(VM_TX) && vm_reclaim_due())
		vm_violation("poll left %u sent buffers given back", vm.q[VM_TX].ret_n);
	/* everything published has been notified, as the device asked */
	for (int qi = 0; qi < 2 && vm_ready() && !vm.no_notify; qi++) {
		vm_sync(qi);
		if (vm_avail_idx(&vm.q[qi]) != vm.q[qi].kick_seen)
			vm_violation("q%d: %u buffers published after poll, not notified", qi,
				     (uint16_t)(vm_avail_idx(&vm.q[qi]) - vm.q[qi].kick_seen));
	}
	vm_check();
	return n;
}

/* The idle check: a driver that lets the loop sleep must have the RX
 * interrupt armed for the next entry. */
static int vm_idle(void)
{
	vm.touched = 1;
	int busy = virtio_net_idle();
	struct vm_queue *q = &vm.q[VM_RX];
	if (!busy && vm_ready() && !q->tainted) {
		int armed = vm_event_idx() ? *(volatile uint16_t *)&q->avail->ring[q->num] == q->used_idx
					   : !(q->avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
		if (!armed)
			vm_violation("idle lets the loop sleep with the RX interrupt not armed");
	}
	vm_check();
	return busy;
}

/* A fresh device and driver. version 1 or 2; features offered; queue
 * maxima; the index both sides start at. Returns probe's result. */
static int vm_start(uint32_t version, uint64_t offer, uint32_t rx_max, uint32_t tx_max, uint16_t start)
{
	if (!vm.pool[0])
		vm_learn_pool();
	/* the test's settings hold for the new device, not the old one */
	int abort_on = vm.abort_on_violation, deep = vm.deep, no_notify = vm.no_notify;
	int stuck = vm.reset_stuck, reject = vm.reject_features;
	void (*on_frame)(struct pkt *) = vm.on_frame;
	vm.reset_stuck = 0;
	virtio_net_host_detach();
	struct pkt *keep[CFG_PKT_COUNT];
	memcpy(keep, vm.pool, sizeof keep);
	memset(&vm, 0, sizeof vm);
	memcpy(vm.pool, keep, sizeof keep);
	memset(vm.bufh, -1, sizeof vm.bufh);
	vm.abort_on_violation = abort_on;
	vm.deep = deep;
	vm.no_notify = no_notify;
	vm.reset_stuck = stuck;
	vm.reject_features = reject;
	vm.on_frame = on_frame;
	pkt_pool_init();
	vm.version = version;
	vm.offer = offer;
	vm.num_max[0] = rx_max;
	vm.num_max[1] = tx_max;
	vm.num_max[2] = offer & (1ull << VIRTIO_NET_F_CTRL_VQ) ? 64 : 0; /* QEMU's */
	vm.rxf.promisc = 1;
	memcpy(vm.mac, (const uint8_t[6]){0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}, 6);
	vm.link = VIRTIO_NET_S_LINK_UP;
	vm.start_idx = start;
	virtio_net_host_start_idx = start;
	struct fdt_dev d = {.base = VM_BASE, .size = 0x200, .irq = VM_IRQ, .has_reg = 1};
	static struct fdt_info fi;
	vm.touched = 1;
	int r = virtio_net_probe(&fi, &d, &vm.nic);
	vm.probed = r == 0;
	vm.resets = 0; /* count those after the probe's own */
	vm_check();
	return r;
}

/* What QEMU's virtio-net offers on a tap (less what we never ask for). */
#define VM_OFFER_MODERN (1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS | \
			 1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << VIRTIO_NET_F_GUEST_CSUM | \
			 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_F_VERSION_1)
#define VM_OFFER_LEGACY (VM_OFFER_MODERN & ~(1ull << VIRTIO_F_VERSION_1))
/* and the control queue with its receive filter commands */
#define VM_OFFER_CTRL (1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_CTRL_RX)

#ifdef __clang__
#pragma clang attribute pop
#endif

#endif
