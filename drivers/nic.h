/*
 * The NIC interface: what a network driver fills in at probe time, and
 * all that the rest of the firmware knows of it (lwIP's ethernetif and
 * smoltcp's Device + DeviceCapabilities in one small struct). The port
 * (port.c) connects the one probed NIC to the stack's netif.
 *
 * Adding a NIC: a driver file with a probe function, and one row in the
 * table in nic.c listing the compatible strings it binds to.
 */
#ifndef DRIVERS_NIC_H
#define DRIVERS_NIC_H

#include <stdint.h>
#include "fdt.h"
#include "net/pkt.h"

enum nic_caps {
	NIC_CAP_RX_CSUM = 1 << 0, /* may mark frames PKT_F_CSUM_OK (verified L4 checksum) */
	NIC_CAP_TX_CSUM = 1 << 1, /* can fill in L4 checksums on transmit */
};

/* rx_frames and tx_frames are read from the rings' running positions
 * (stats_sync brings them up to date: no count per frame, tune.h); the
 * bytes are counted per frame. */
struct nic_stats {
	uint32_t rx_frames, tx_frames, rx_bytes, tx_bytes;
	uint32_t rx_nobuf;   /* RX slot left empty: pool exhausted (refilled later) */
	uint32_t rx_bad;     /* device returned a bad descriptor id or length */
	uint32_t tx_full;    /* TX ring full: frame dropped */
	uint32_t tx_bad;     /* frame too big, freed, or no headroom for the NIC header */
	uint32_t irqs, notifies, link_changes;
	uint32_t csum_fixed; /* frames whose checksum the driver completed in software */
	uint32_t dev_errors; /* the device broke a rule: the driver reset it */
	uint32_t filter_errors; /* a multicast filter command refused or unanswered:
				   the NIC takes every multicast */
};

typedef void (*nic_deliver_fn)(struct pkt *p);

/*
 * The superloop's calls into a driver, once per pass (through the port):
 *   rx     take up to max (>= 1) received frames off the RX ring into v
 *          (the caller owns them and hands each up); how many;
 *   flush  after those were handled: take sent buffers back, refill the
 *          RX ring, tell the device what was posted and sent;
 *   idle   instead of flush, before the superloop sleeps, interrupts
 *          masked: what flush does, then arm the interrupts that must
 *          wake it. Nonzero: work is pending, do not sleep; with
 *          NIC_IDLE_LINK in it when it changed link_up (only then does
 *          the port look at it, not on every pass that finds work: a
 *          driver that changes it elsewhere does so from a timer).
 */
enum { NIC_IDLE_WORK = 1, NIC_IDLE_LINK = 2 };
struct nic_ops {
	unsigned long (*rx)(struct pkt **v, unsigned long max);
	void (*flush)(void);
	int (*idle)(void);
};

struct nic {
	unsigned driver;       /* index of its row in the driver table (nic.c) */
	const char *name;      /* driver name */
	const struct nic_ops *ops; /* its row's */
	char info[160];        /* transport, address, irq, features: for the banner */
	uint8_t mac[6];
	uint8_t link_up;       /* kept current by the driver */
	uint16_t mtu;          /* largest IP packet the NIC carries */
	uint32_t speed_mbps;   /* 0 if unknown */
	uint32_t caps;         /* enum nic_caps */
	/* Send one frame (p->data at the Ethernet header, p->len bytes).
	 * Takes ownership in every case; 0, or -1 when dropped (counted).
	 * It becomes netif.output. */
	int (*tx)(struct pkt *p);
	/* Buffers on the RX ring and on the TX ring now (for `stats`). */
	void (*rings)(unsigned *rx_posted, unsigned *tx_inflight);
	struct nic_stats *stats; /* the driver's counters */
	/* Brings rx_frames and tx_frames in *stats up to date; call it
	 * before reading or clearing *stats. A driver may derive them from
	 * its rings' running positions instead of counting every frame. */
	void (*stats_sync)(void);
	/* Optional (NULL: the NIC passes every multicast frame, and the
	 * stack filters). The whole multicast list the NIC must take, n
	 * MACs (n = 0: none but broadcast), replacing the last one; 0, or
	 * -1 when it cannot filter that many (it must then take every
	 * multicast). Called at join and leave, never per frame. virtio-net
	 * sets it when the device offers the control queue with
	 * VIRTIO_NET_F_CTRL_RX (its MAC table; ALLMULTI past the table's
	 * size), the GEM always (its 64-bit hash: it also passes the
	 * groups that share a bucket with ours, which the stack drops). */
	int (*mcast_filter)(struct nic *n, const uint8_t (*macs)[6], unsigned count);
};

/* A row of the driver table. */
struct nic_driver {
	const char *name;
	const char *const *compat; /* NULL-terminated */
	/* 0 and n filled in (interrupt registered, RX ring posted), or -1:
	 * not this driver's device, or it failed (said why on the console). */
	int (*probe)(const struct fdt_info *fi, const struct fdt_dev *d, struct nic *n);
	const struct nic_ops *ops;
};

/* The first device in the tree that a driver in the table takes; NULL if
 * there is none (the firmware runs without a network). */
struct nic *nic_probe(const struct fdt_info *fi);

/* A frame whose L4 checksum is partial (PKT_F_CSUM_PART) finished in
 * software, for a driver whose device cannot: the sum from csum_start to
 * the end of the frame, folded and inverted (0 sent as 0xffff), stored
 * at csum_start + csum_off; PKT_F_CSUM_PART cleared, s->csum_fixed
 * counted. -1 when the offsets do not lie inside the frame: it must not
 * be sent. */
int nic_csum_finish(struct pkt *p, struct nic_stats *s);

#endif
