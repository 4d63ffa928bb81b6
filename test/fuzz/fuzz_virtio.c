/*
 * libFuzzer target: the virtio-net driver (drivers/virtio_net.c, built
 * with RVNET_HOST_MMIO) against the device model of the unit tests
 * (test/unit/virtio_model.h), the device's every move chosen by the
 * input. The model's checks run after every step; a violation aborts.
 *
 * Input: 4 bytes of device, then one step per byte, some with arguments.
 *   [0] b0 modern, b1 EVENT_IDX, b2 STATUS, b3 GUEST_CSUM, b4 MAC,
 *       b5 the device asks for no notifications, b6-7 where both sides
 *       start the ring indices: 0, 65530, 65535, or 65535 - [3]
 *   [1] RX queue maximum 1 << (b & 7), or 0 if b & 0xf8 == 0xf8
 *   [2] TX queue maximum, the same; b3 (unless b & 0xf8 == 0xf8) also
 *       offers the control queue with CTRL_RX
 * Steps (op % 16), [arguments]:
 *   0 receive a frame [len]
 *   1 receive with a lying used length [how]
 *   2 receive with header flags [flags][csum start][csum offset][len]
 *   3 receive into the buffer held at [pos] [len]
 *   4 complete [n] TX buffers, oldest first
 *   5 complete the TX buffer held at [pos]
 *   6 poll [budget]
 *   7 idle check
 *   8 the test sends a frame [len]
 *   9 what the test does with delivered frames [mode]: free, hold, echo
 *   10 [n]: the test frees n held frames, or takes 4*(n&127) from the
 *      pool if n&128
 *   11 the link goes up or down [b]
 *   12 a used entry for any id [q][id][len]
 *   13 a used index jump [q][k]
 *   14 the next reset [what]: never finishes, FEATURES_OK refused,
 *      EVENT_IDX no longer offered, TX queue gone; or the receive
 *      filter: 0x10-0x1f the port sets a list of 3 * (what & 15) group
 *      MACs (past 32: ALLMULTI), 0x20-0x26 how the control queue answers
 *      from now on (VM_CTRL_*)
 *   15 a spurious interrupt [bits]
 */
#include <stdint.h>
#include <stdlib.h>
#include "test/unit/virtio_model.h"

/* Coverage is the driver's (and the pool's); this file's branches would
 * only add noise and time. */
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), apply_to = function)

static const uint8_t *in;
static size_t in_n, in_pos;
static struct pkt *held[CFG_PKT_COUNT];
static unsigned nheld, mode;

static int verbose = -1; /* FUZZ_VERBOSE=1: each step on stderr */

static unsigned next(void) { return in_pos < in_n ? in[in_pos++] : 0; }

/* What the test does with a delivered frame: free it, hold it (the pool
 * runs dry), or send it back (the echo). */
static void on_frame(struct pkt *p)
{
	if (mode == 1 && nheld < CFG_PKT_COUNT)
		held[nheld++] = p;
	else if (mode == 2)
		vm_send(p);
	else
		vm_free(p);
}

/* Frame bytes: a window on a fixed random table, a new one each time. */
static const uint8_t *frame(unsigned len)
{
	static uint8_t t[4096];
	static unsigned at;
	if (!t[0]) {
		uint32_t x = 1;
		for (unsigned i = 0; i < sizeof t; i++)
			t[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16) | (i == 0);
	}
	(void)len;
	at = (at + 97) % (sizeof t - VM_FRAME_MAX);
	return t + at;
}

static unsigned frame_len(unsigned b) { return b * 6 % (VM_FRAME_MAX + 1); }

static uint32_t qmax(unsigned b) { return (b & 0xf8) == 0xf8 ? 0 : 1u << (b & 7); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in = data;
	in_n = size;
	in_pos = 0;
	nheld = 0;
	mode = 0;
	vm.abort_on_violation = 1;
	vm.deep = 0;
	vm.on_frame = on_frame;
	vm.reset_stuck = vm.reject_features = 0;
	unsigned dev = next(), rxm = next(), txm = next(), sb = next();
	uint64_t offer = 0;
	if (dev & 1)
		offer |= 1ull << VIRTIO_F_VERSION_1;
	if (dev & 2)
		offer |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (dev & 4)
		offer |= 1ull << VIRTIO_NET_F_STATUS;
	if (dev & 8) /* checksum offload both ways, as QEMU offers it on a tap */
		offer |= 1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_CSUM;
	if (dev & 16)
		offer |= 1ull << VIRTIO_NET_F_MAC;
	if ((txm & 0xf8) != 0xf8 && (txm & 8))
		offer |= 1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_CTRL_RX;
	static const uint16_t starts[3] = {0, 65530, 65535};
	uint16_t start = (dev >> 6) < 3 ? starts[dev >> 6] : (uint16_t)(65536 - 1 - sb);
	vm.no_notify = !!(dev & 32);
	/* sent buffers reclaimed every poll, or in the firmware's batches */
	virtio_net_host_batch = rxm & 8 ? CFG_RECLAIM_BATCH : 0;
	if (vm_start(dev & 1 ? 2 : 1, offer, qmax(rxm), qmax(txm), start) != 0)
		return 0; /* probe refused it (checked by the model all the same) */
	int hl = vm_hdrlen();

	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "device v%u offer %#llx rx %u tx %u start %u\n", vm.version,
			(unsigned long long)offer, qmax(rxm), qmax(txm), start);
	while (in_pos < in_n) {
		unsigned op = next() % 16;
		if (verbose)
			fprintf(stderr, "step %u: op %u, args %02x %02x %02x %02x\n", (unsigned)in_pos - 1, op,
				in_pos < in_n ? in[in_pos] : 0, in_pos + 1 < in_n ? in[in_pos + 1] : 0,
				in_pos + 2 < in_n ? in[in_pos + 2] : 0, in_pos + 3 < in_n ? in[in_pos + 3] : 0);
		switch (op) {
		case 0: {
			unsigned len = frame_len(next());
			vm_rx(frame(len), len);
			break;
		}
		case 1: {
			static const uint32_t lies[8] = {0, 1, 9, 11, 12 + VM_FRAME_MAX + 1, 10 + VM_FRAME_MAX + 1,
							 0xffffffffu, 0x10000};
			unsigned how = next();
			uint32_t len = how < 8 ? lies[how] : (uint32_t)hl + how * 6;
			vm_rx_len(frame(60), 60, len);
			break;
		}
		case 2: {
			struct vm_rxopt o = {.hdr_flags = (uint8_t)next()};
			o.csum_start = (uint16_t)(next() * 7);
			o.csum_off = (uint16_t)(next() * 3);
			unsigned len = frame_len(next());
			vm_rx_ex(0, frame(len), len, &o);
			break;
		}
		case 3: {
			unsigned pos = next(), len = frame_len(next());
			unsigned n = vm.q[VM_RX].nheld;
			if (n)
				vm_rx_ex(pos % n, frame(len), len, NULL);
			break;
		}
		case 4:
			vm_tx_complete(next() % 40);
			break;
		case 5:
			vm_tx_complete_at((int)next(), 1);
			break;
		case 6:
			vm_poll(1 + next() % 32);
			break;
		case 7:
			vm_idle();
			break;
		case 8: {
			unsigned len = frame_len(next());
			struct pkt *p = vm_alloc_frame(frame(len), len);
			if (p)
				vm_send(p);
			break;
		}
		case 9:
			mode = next() % 3;
			break;
		case 10: {
			unsigned n = next();
			if (n & 128) {
				struct pkt *p;
				for (n = 4 * (n & 127); n && nheld < CFG_PKT_COUNT && (p = vm_alloc_frame(NULL, 0)); n--)
					held[nheld++] = p;
			} else {
				for (; n && nheld; n--)
					vm_free(held[--nheld]);
			}
			break;
		}
		case 11:
			vm_set_link(next() & 1);
			break;
		case 12: {
			int q = next() & 1;
			unsigned id = next();
			uint32_t len = next() * 7u;
			vm_used_raw(q, id >= 250 ? 0xffffff00u | id : id, len);
			break;
		}
		case 13: {
			int q = next() & 1;
			unsigned k = next();
			vm_used_jump(q, (uint16_t)(k >= 128 ? (k - 128) << 9 : k));
			break;
		}
		case 14: {
			unsigned what = next();
			/* a stuck reset costs the driver's whole wait: rare */
			vm.reset_stuck = what == 0xa5;
			vm.reject_features = what == 0x5a;
			if (what == 0x33)
				vm.offer ^= 1ull << VIRTIO_RING_F_EVENT_IDX;
			if (what == 0x44)
				vm.num_max[1] = 0;
			if (what >= 0x10 && what < 0x20 && vm.nic.mcast_filter) {
				static uint8_t macs[45][6];
				for (unsigned i = 0; i < 45; i++)
					memcpy(macs[i], (const uint8_t[6]){0x01, 0x00, 0x5e, 0x00, (uint8_t)what, (uint8_t)i}, 6);
				vm.nic.mcast_filter(&vm.nic, (const uint8_t (*)[6])macs, 3 * (what & 15));
			}
			if (what >= 0x20 && what <= 0x26)
				vm.ctrl_mode = (int)(what & 7);
			break;
		}
		case 15:
			vm.irq_status |= next() & 3;
			if (vm.isr)
				vm.isr(vm.isr_arg);
			break;
		}
		vm_check();
	}
	/* a last look at every buffer the device holds */
	vm.deep = 1;
	vm_check();
	vm_poll(32);
	return 0;
}

#pragma clang attribute pop
