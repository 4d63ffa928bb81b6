/*
 * Driver, board and superloop options. Like net/config.h: every option
 * is #ifndef-guarded, so -DNAME=value or the user options header named
 * by RVNET_OPTS overrides it.
 */
#ifndef DRIVERS_CONFIG_H
#define DRIVERS_CONFIG_H

#ifdef RVNET_OPTS
#include RVNET_OPTS
#endif

/* ---- NIC rings ---- */
#ifndef CFG_RXQ_SIZE
#define CFG_RXQ_SIZE 128 /* wanted RX ring size, a power of two (min with the device's max) */
#endif
#ifndef CFG_TXQ_SIZE
#define CFG_TXQ_SIZE 128 /* the same for TX */
#endif
#ifndef CFG_VQ_MAX
#define CFG_VQ_MAX 256 /* ring memory for a device that fixes its ring size (legacy
                          virtio-pci; QEMU's is 256): 12 KiB a queue */
#endif
#ifndef CFG_GUEST_CSUM
#define CFG_GUEST_CSUM 1 /* virtio: negotiate checksum offload both ways: GUEST_CSUM (trust
                            DATA_VALID, take NEEDS_CSUM frames as they are) and CSUM (the
                            device finishes the partial checksums we send) */
#endif
#ifndef CFG_RECLAIM_BATCH
#define CFG_RECLAIM_BATCH 32 /* sent buffers taken back (onto the RX ring) at once, not every
                                pass: the RX ring may be short of as many (a quarter of it
                                at most), the TX ring hold as many, between batches */
#endif
#ifndef CFG_RX_BATCH
#define CFG_RX_BATCH 32 /* frames the port takes off the RX ring at once: a pointer each
                           on the superloop's stack */
#endif
#ifndef CFG_DEFAULT_MAC
#define CFG_DEFAULT_MAC {0x52, 0x54, 0x00, 0x12, 0x34, 0x56} /* when the NIC has no MAC */
#endif

/* ---- Cadence GEM (HiFive boards, QEMU sifive_u) ---- */
#ifndef CFG_GEM_DESC64
#define CFG_GEM_DESC64 0 /* 1: 16-byte descriptors (64-bit DMA) always, not only for memory above 4 GiB */
#endif
#ifndef CFG_GEM_TX_CSUM
#define CFG_GEM_TX_CSUM 0 /* 1: TXCOEN; the MAC rewrites the checksums the stack already computed */
#endif
#ifndef CFG_GEM_RX_CSUM
#define CFG_GEM_RX_CSUM 1 /* RXCOEN: trust the MAC's "UDP checksum good"; it drops bad ones itself */
#endif
#ifndef CFG_GEM_LINK_MS
#define CFG_GEM_LINK_MS 500 /* PHY link and speed polled this often (MDIO, a few register reads) */
#endif

/* ---- device tree ---- */
#ifndef CFG_FDT_DEVS
#define CFG_FDT_DEVS 48 /* nodes with a compatible kept; QEMU virt lists 22, sifive_u 21 */
#endif
#ifndef CFG_FDT_CPUS
#define CFG_FDT_CPUS 16 /* harts whose interrupt controller is kept */
#endif

/* ---- clock ---- */
#ifndef CFG_SWTIMERS
#define CFG_SWTIMERS 8 /* software timers that can be active at once */
#endif

_Static_assert((CFG_RXQ_SIZE & (CFG_RXQ_SIZE - 1)) == 0 && CFG_RXQ_SIZE >= 2,
	       "CFG_RXQ_SIZE must be a power of two");
_Static_assert(CFG_RX_BATCH >= 1, "CFG_RX_BATCH: at least one frame");
_Static_assert((CFG_TXQ_SIZE & (CFG_TXQ_SIZE - 1)) == 0 && CFG_TXQ_SIZE >= 2,
	       "CFG_TXQ_SIZE must be a power of two");

#endif
