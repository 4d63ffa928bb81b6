/*
 * rvnet configuration: every table size, timeout and default of the stack
 * and the driver, in one place (lwIP's opt.h idea). Override any of them
 * with -DNAME=value on the make command line (CFLAGS_EXTRA=...).
 */
#ifndef NET_CONFIG_H
#define NET_CONFIG_H

/* ---- packet buffers ---- */
#ifndef CFG_PKT_COUNT
#define CFG_PKT_COUNT 320 /* pool buffers, shared by RX ring, TX ring and queues */
#endif
#define CFG_PKT_BUFSZ 1536 /* NIC header room + 1514-byte frame, 64-byte multiple */
#define CFG_PKT_LINK_OFF 14 /* Ethernet header offset: NIC header fits before it,
                               and the IPv4 header lands 4-byte aligned */
#ifndef CFG_PKT_DEBUG
#define CFG_PKT_DEBUG 1 /* ownership checks on free (cheap: one compare) */
#endif
/* Storage that needs no zeroing at boot (packet buffers, rings): the
 * firmware puts it in .noinit, which start-up does not clear. */
#ifndef CFG_NOINIT
#define CFG_NOINIT
#endif

/* ---- NIC ---- */
#ifndef CFG_RXQ_SIZE
#define CFG_RXQ_SIZE 128 /* wanted RX ring size (min with the device's max) */
#endif
#ifndef CFG_TXQ_SIZE
#define CFG_TXQ_SIZE 128
#endif
#ifndef CFG_GUEST_CSUM
#define CFG_GUEST_CSUM 1 /* negotiate VIRTIO_NET_F_GUEST_CSUM (trust DATA_VALID) */
#endif
#ifndef CFG_RX_BUDGET
#define CFG_RX_BUDGET 32 /* frames handled per superloop pass, so timers/console run under flood */
#endif

/* ---- interface defaults (bootargs ip=, gw=, port= override) ---- */
#define CFG_IP_ADDR "10.0.2.15"
#define CFG_IP_PREFIX 24
#define CFG_IP_GW "10.0.2.2"
#define CFG_ECHO_PORT 7
#define CFG_MTU 1500
#define CFG_DEFAULT_MAC {0x52, 0x54, 0x00, 0x12, 0x34, 0x56} /* used when the NIC has no MAC */

/* ---- ARP ---- */
#ifndef CFG_ARP_ENTRIES
#define CFG_ARP_ENTRIES 8
#endif
#define CFG_ARP_QUEUE 8          /* packets held per unresolved entry: all fragments of an 8 KiB reply */
#define CFG_ARP_MAX_AGE_MS 300000 /* stable entry lifetime (5 min) */
#define CFG_ARP_REFRESH_MS 15000 /* re-request this long before expiry */
#define CFG_ARP_RETRY_MS 1000
#define CFG_ARP_TRIES 3
#define CFG_ARP_DEFEND_MS 10000 /* RFC 5227 DEFEND_INTERVAL */

/* ---- IPv4 ---- */
#define CFG_IP_TTL 64
#ifndef CFG_REASS_SLOTS
#define CFG_REASS_SLOTS 2
#endif
#define CFG_REASS_MAX 8192 /* largest reassembled IP payload (bytes) */
#define CFG_REASS_TIMEOUT_MS 30000 /* RFC 1122: 15..60 s */

/* ---- ICMP ---- */
#define CFG_ICMP_RATE_BURST 10   /* token bucket: errors sent back to back */
#define CFG_ICMP_RATE_MS 100     /* one token per this many ms */
#ifndef CFG_ICMP_ECHO_BCAST
#define CFG_ICMP_ECHO_BCAST 0    /* answer pings sent to a broadcast address */
#endif

/* ---- UDP ---- */
#ifndef CFG_UDP_PCBS
#define CFG_UDP_PCBS 8
#endif
#define CFG_UDP_QUEUE 4          /* per-PCB receive queue for polling code */
#define CFG_UDP_EPHEMERAL_LO 49152
#define CFG_UDP_EPHEMERAL_HI 65535

/* ---- echo service ---- */
/* Source ports we never echo to: another echo/chargen/daytime/etc. service
 * would answer back and the two would loop forever. */
#define CFG_ECHO_DENY_PORTS {0, 7, 13, 17, 19, 37, 53, 123, 161}

/* ---- timers ---- */
#define CFG_TICK_MS 100          /* net_tick period from the superloop */
#define CFG_SWTIMERS 8

#endif
