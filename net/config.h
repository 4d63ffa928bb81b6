/*
 * The stack's options: every table size, timeout and default of net/, in
 * one place (lwIP's opt.h idea). Each is #ifndef-guarded: override one
 * with -DNAME=value (make CFLAGS_EXTRA=...), or many at once with a user
 * options header: -DRVNET_OPTS='"myopts.h"' is included first (by each
 * layer's config header, so give it an include guard).
 * Driver and board options live in drivers/config.h, those of the
 * application and the superloop in app/config.h, by the same rule.
 */
#ifndef NET_CONFIG_H
#define NET_CONFIG_H

#ifdef RVNET_OPTS
#include RVNET_OPTS
#endif

/* ---- packet buffers ---- */
#ifndef CFG_PKT_COUNT
#define CFG_PKT_COUNT 328 /* pool buffers, shared by RX ring, TX ring, reassembly and
                             queues (RX ring 128 + reassembly 96 + 45 fragments of a
                             64 KiB reply on the TX ring leave 59 spare) */
#endif
#ifndef CFG_PKT_BUFSZ
#define CFG_PKT_BUFSZ 1536 /* NIC header room + 1514-byte frame, 64-byte multiple */
#endif
#ifndef CFG_PKT_LINK_OFF
#define CFG_PKT_LINK_OFF 14 /* Ethernet header offset: a NIC header (<= 14 bytes) fits
                               before it, and the IPv4 header lands 4-byte aligned */
#endif
#ifndef CFG_PKT_DEBUG
#define CFG_PKT_DEBUG 1 /* ownership checks on free and hand-over (cheap: one compare) */
#endif
/* Storage that needs no zeroing at boot (packet buffers, rings): the
 * firmware puts it in .noinit, which start-up does not clear. */
#ifndef CFG_NOINIT
#define CFG_NOINIT
#endif

/* ---- interface ---- */
#ifndef CFG_MTU
#define CFG_MTU 1500 /* largest IP packet sent; the NIC's own limit lowers it */
#endif
#ifndef CFG_TICK_MS
#define CFG_TICK_MS 100 /* period of the ARP and reassembly timers */
#endif

/* ---- ARP ---- */
#ifndef CFG_ARP_ENTRIES
#define CFG_ARP_ENTRIES 8
#endif
#ifndef CFG_ARP_QUEUE
#define CFG_ARP_QUEUE 8 /* packets held per unresolved entry: all fragments of an 8 KiB reply */
#endif
#ifndef CFG_ARP_MAX_AGE_MS
#define CFG_ARP_MAX_AGE_MS 300000 /* stable entry lifetime (5 min) */
#endif
#ifndef CFG_ARP_REFRESH_MS
#define CFG_ARP_REFRESH_MS 15000 /* re-request this long before expiry */
#endif
#ifndef CFG_ARP_RETRY_MS
#define CFG_ARP_RETRY_MS 1000
#endif
#ifndef CFG_ARP_TRIES
#define CFG_ARP_TRIES 3
#endif
#ifndef CFG_ARP_DEFEND_MS
#define CFG_ARP_DEFEND_MS 10000 /* RFC 5227 DEFEND_INTERVAL */
#endif

/* ---- IPv4 ---- */
#ifndef CFG_IP_TTL
#define CFG_IP_TTL 64
#endif
/* Reassembly keeps the fragments' own pool buffers, chained in order
 * (net/ipfrag.c): no copy, and a datagram of any size IPv4 allows
 * (65,535 bytes; a 65,507-byte UDP payload is 45 fragments of 1480).
 * Three limits bound what a sender can make us hold; at any of them the
 * oldest incomplete datagram is evicted for the newcomer. */
#ifndef CFG_REASS_SLOTS
#define CFG_REASS_SLOTS 4 /* datagrams in progress at once */
#endif
#ifndef CFG_REASS_MAX_BUFS
#define CFG_REASS_MAX_BUFS 48 /* buffers (fragments) one datagram may hold: 45 make
                                 65,535 bytes of 1480-byte fragments, and a few spare */
#endif
#ifndef CFG_REASS_TOTAL_BUFS
#define CFG_REASS_TOTAL_BUFS 96 /* buffers all datagrams in progress may hold together:
                                   what the pool has beyond the NIC's RX ring (128) and
                                   the replies in flight, so a flood of fragments never
                                   starves the RX ring */
#endif
#ifndef CFG_REASS_TIMEOUT_MS
#define CFG_REASS_TIMEOUT_MS 30000 /* RFC 1122: 15..60 s */
#endif

/* ---- ICMP ---- */
#ifndef CFG_ICMP_RATE_BURST
#define CFG_ICMP_RATE_BURST 10 /* token bucket: errors sent back to back */
#endif
#ifndef CFG_ICMP_RATE_MS
#define CFG_ICMP_RATE_MS 100 /* one token per this many ms */
#endif
#ifndef CFG_ICMP_ECHO_BCAST
#define CFG_ICMP_ECHO_BCAST 0 /* answer pings sent to a broadcast address */
#endif

/* ---- UDP ---- */
#ifndef CFG_UDP_PCBS
#define CFG_UDP_PCBS 8
#endif
#ifndef CFG_UDP_QUEUE
#define CFG_UDP_QUEUE 4 /* per-PCB receive queue for polling code */
#endif
#ifndef CFG_UDP_EPHEMERAL_LO
#define CFG_UDP_EPHEMERAL_LO 49152
#endif
#ifndef CFG_UDP_EPHEMERAL_HI
#define CFG_UDP_EPHEMERAL_HI 65535
#endif

/* ---- multicast (IGMPv2, RFC 2236; net/igmp.c) ---- */
#ifndef CFG_MCAST_GROUPS
#define CFG_MCAST_GROUPS 8 /* groups joined at once, by all PCBs together (1..32: a PCB's
                              memberships are a bit mask of the table's slots) */
#endif
#ifndef CFG_IGMP_UNSOL_MS
#define CFG_IGMP_UNSOL_MS 1000 /* the second unsolicited report follows the first after a
                                  random 1..this ms (RFC 2236 8.10 says 10 s; a lost first
                                  report then costs a second, not ten) */
#endif
#ifndef CFG_IGMP_V1_ROUTER_MS
#define CFG_IGMP_V1_ROUTER_MS 400000 /* after an IGMPv1 query: v1 reports, no Leave (RFC 2236
                                        8.11, Version 1 Router Present Timeout) */
#endif

/* ---- DHCP client (RFC 2131; net/dhcp.c) ---- */
#ifndef CFG_DHCP_DNS_MAX
#define CFG_DHCP_DNS_MAX 2 /* DNS servers kept from option 6 (the rest ignored) */
#endif
#ifndef CFG_DHCP_NTP_MAX
#define CFG_DHCP_NTP_MAX 2 /* NTP servers kept from option 42 */
#endif
#ifndef CFG_DHCP_HOSTNAME_MAX
#define CFG_DHCP_HOSTNAME_MAX 32 /* longest host name sent in option 12 */
#endif
#ifndef CFG_DHCP_START_WAIT_MS
#define CFG_DHCP_START_WAIT_MS 1000 /* first DISCOVER after a random 0..this; RFC 2131 4.4.1
                                       suggests 1..10 s, against a whole LAN booting at once */
#endif
#ifndef CFG_DHCP_REQUEST_TRIES
#define CFG_DHCP_REQUEST_TRIES 4 /* REQUESTs for an offer (4, 8, 16, 32 s apart) before INIT */
#endif
#ifndef CFG_DHCP_REBOOT_TRIES
#define CFG_DHCP_REBOOT_TRIES 2 /* INIT-REBOOT REQUESTs before giving the old address up */
#endif
#ifndef CFG_DHCP_RENEW_MIN_S
#define CFG_DHCP_RENEW_MIN_S 60 /* shortest wait between renewal REQUESTs (RFC 2131 4.4.5) */
#endif
#ifndef CFG_DHCP_DECLINE_WAIT_MS
#define CFG_DHCP_DECLINE_WAIT_MS 10000 /* after a DECLINE, before the next DISCOVER (RFC 2131 3.1.5) */
#endif

/* ---- address conflict detection (RFC 5227 1.1; shorten only for tests) ---- */
#ifndef CFG_ACD_PROBE_WAIT_MS
#define CFG_ACD_PROBE_WAIT_MS 1000 /* random 0..this before the first probe */
#endif
#ifndef CFG_ACD_PROBE_NUM
#define CFG_ACD_PROBE_NUM 3
#endif
#ifndef CFG_ACD_PROBE_MIN_MS
#define CFG_ACD_PROBE_MIN_MS 1000 /* random spacing of the probes */
#endif
#ifndef CFG_ACD_PROBE_MAX_MS
#define CFG_ACD_PROBE_MAX_MS 2000
#endif
#ifndef CFG_ACD_ANNOUNCE_WAIT_MS
#define CFG_ACD_ANNOUNCE_WAIT_MS 2000 /* after the last probe, before the address is used */
#endif
#ifndef CFG_ACD_ANNOUNCE_NUM
#define CFG_ACD_ANNOUNCE_NUM 2 /* gratuitous announcements once bound */
#endif
#ifndef CFG_ACD_ANNOUNCE_INTERVAL_MS
#define CFG_ACD_ANNOUNCE_INTERVAL_MS 2000
#endif
#ifndef CFG_ACD_MAX_CONFLICTS
#define CFG_ACD_MAX_CONFLICTS 10 /* conflicts in a row before attempts are rate limited */
#endif
#ifndef CFG_ACD_RATE_LIMIT_MS
#define CFG_ACD_RATE_LIMIT_MS 60000 /* one attempt per this, past CFG_ACD_MAX_CONFLICTS */
#endif
_Static_assert(CFG_REASS_SLOTS >= 1 && CFG_REASS_MAX_BUFS >= 2 &&
		       CFG_REASS_TOTAL_BUFS >= CFG_REASS_MAX_BUFS &&
		       CFG_REASS_TOTAL_BUFS < CFG_PKT_COUNT,
	       "reassembly: a datagram's buffers within the total, the total within the pool");
_Static_assert(CFG_ACD_PROBE_MIN_MS <= CFG_ACD_PROBE_MAX_MS, "CFG_ACD_PROBE_MIN_MS > CFG_ACD_PROBE_MAX_MS");
_Static_assert(CFG_MCAST_GROUPS >= 1 && CFG_MCAST_GROUPS <= 32, "CFG_MCAST_GROUPS: 1..32");
_Static_assert(CFG_DHCP_HOSTNAME_MAX >= 1 && CFG_DHCP_HOSTNAME_MAX <= 255, "option 12 holds 1..255 bytes");

#endif
