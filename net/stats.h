/*
 * Per-layer counters, MIB-II / lwIP-stats style. Each counter is declared
 * once here with its role, so printing, lookup by name and the accounting
 * identity come from the same list:
 *   IN   frames/datagrams handed to the layer
 *   OK   handed on successfully (up the stack, consumed, answered)
 *   DROP dropped, one named reason each
 *   INFO anything else (output side, events)
 * For every layer: sum(IN) == sum(OK) + sum(DROP), at every moment the
 * stack is idle.
 *
 * A frame is counted where it enters the stack (eth.rx) and where it
 * ends (one OK or DROP row of the layer it ends in), not again at each
 * layer it passes: the rows in between are read, not counted.
 *   X  counted: its own storage.
 *   B  a layer's way in (IN), read as the balance of its outcomes: the
 *      layer's OK and DROP rows less its other IN rows. Every layer
 *      above Ethernet has one way in from below, so this is what its
 *      input counter would hold; its own identity then holds by
 *      construction, and the check that nothing is lost on the way is
 *      Ethernet's, whose rx is counted and whose OK rows (to_ip, to_arp)
 *      are the layers above, down to the last outcome.
 *   A  another row under a second name (eth.to_ip is ip.rx).
 *   S  a sum of other rows (ip.delivered: the transports' ways in).
 */
#ifndef NET_STATS_H
#define NET_STATS_H

#include <stdint.h>

#define NET_STATS(X, A, S, B) \
	X(eth, rx, IN) \
	A(eth, to_ip, OK, ip_rx)      /* eth_input is IP's only way in */ \
	A(eth, to_arp, OK, arp_rx)    /* and ARP's */ \
	X(eth, drop_runt, DROP)       /* shorter than an Ethernet header */ \
	X(eth, drop_oversize, DROP)   /* longer than MTU + header */ \
	X(eth, drop_align, DROP)      /* at an odd address: a driver's mistake (CFG_PKT_LINK_OFF) */ \
	X(eth, drop_not_ours, DROP)   /* unicast to another MAC, a group MAC we have not joined */ \
	X(eth, drop_src_mcast, DROP)  /* source MAC is multicast/broadcast */ \
	X(eth, drop_src_ours, DROP)   /* source MAC is ours: looped back or spoofed */ \
	X(eth, drop_src_zero, DROP)   /* source MAC is 00:00:00:00:00:00 */ \
	X(eth, drop_vlan, DROP)       /* 802.1Q tagged */ \
	X(eth, drop_type, DROP)       /* unknown ethertype */ \
	X(eth, tx, INFO)              /* frames handed to the driver (it counts those it \
	                                 refuses: nic.tx_full, nic.tx_bad) */ \
	X(eth, tx_err, INFO)          /* no room for the Ethernet header */ \
	\
	B(arp, rx) \
	X(arp, replied, OK)           /* request for us answered */ \
	X(arp, learned, OK)           /* reply or other request consumed */ \
	X(arp, ignored, OK)           /* well-formed, nothing to do (not for us, unsolicited) */ \
	X(arp, drop_malformed, DROP)  /* sizes, types, truncated */ \
	X(arp, drop_bad_sender, DROP) /* sender is broadcast/multicast/zero/our MAC */ \
	X(arp, conflict, DROP)        /* someone claims our address (RFC 5227) */ \
	X(arp, tx_request, INFO) \
	X(arp, tx_reply, INFO) \
	X(arp, defended, INFO) \
	X(arp, cache_full, INFO)      /* evicted an entry to make room */ \
	X(arp, queued, INFO)          /* packets held awaiting resolution */ \
	X(arp, queue_drop, INFO)      /* held packet dropped: queue full / resolution failed */ \
	X(arp, timeout, INFO)         /* resolution gave up */ \
	\
	B(ip, rx) \
	S(ip, delivered, OK, udp_rx, icmp_rx, igmp_rx) /* to a transport (a completing \
	                                 fragment counts here); ip_deliver is their only way in */ \
	X(ip, frag_held, OK)          /* fragment's buffer chained into a datagram in progress */ \
	X(ip, drop_short, DROP)       /* truncated header or total length > frame */ \
	X(ip, drop_version, DROP) \
	X(ip, drop_hlen, DROP)        /* IHL < 5 or beyond the datagram */ \
	X(ip, drop_csum, DROP) \
	X(ip, drop_src, DROP)         /* source is broadcast/multicast/loopback */ \
	X(ip, drop_not_ours, DROP)    /* we do not forward; a group we have not joined */ \
	X(ip, drop_proto, DROP)       /* no such transport (protocol unreachable sent) */ \
	X(ip, drop_frag, DROP)        /* fragment not kept: bad, overlapping, duplicate, too big */ \
	X(ip, reass_ok, INFO) \
	X(ip, reass_timeout, INFO) \
	X(ip, reass_evict, INFO)      /* oldest datagram in progress evicted: slots or the \
	                                 buffer budget (CFG_REASS_TOTAL_BUFS) ran out */ \
	X(ip, reass_toobig, INFO)     /* datagram in progress discarded: more than \
	                                 CFG_REASS_MAX_BUFS pieces, or beyond 65,535 bytes */ \
	X(ip, reass_bad, INFO)        /* datagram in progress discarded: fragments overlap \
	                                 or disagree on its end (RFC 5722's rule) */ \
	X(ip, frag_dup, INFO)         /* exact duplicate of a held fragment (in drop_frag) */ \
	X(ip, tx, INFO) \
	X(ip, tx_frag, INFO)          /* fragments sent */ \
	X(ip, tx_frag_copy, INFO)     /* of those, built by copying: the datagram's pieces \
	                                 were not 8-byte multiples that fit the MTU */ \
	X(ip, tx_err, INFO)           /* no route / no buffer / too big */ \
	\
	B(icmp, rx) \
	X(icmp, echo_replied, OK) \
	X(icmp, consumed, OK)         /* other types we accept and ignore */ \
	X(icmp, err_delivered, OK)    /* error about a datagram a live UDP PCB sent: told */ \
	X(icmp, drop_short, DROP) \
	X(icmp, drop_csum, DROP) \
	X(icmp, drop_bcast_echo, DROP) \
	X(icmp, drop_err_quote, DROP) /* error to a broadcast, or its quote short, malformed, \
	                                 not UDP, a later fragment or not from our address */ \
	X(icmp, drop_err_nomatch, DROP) /* quotes a UDP datagram no live PCB could have sent \
	                                   (port, or a connected PCB's peer): blind or stale */ \
	X(icmp, tx_err_sent, INFO)    /* unreachable etc. */ \
	X(icmp, tx_err_limited, INFO) /* suppressed by the rate limit */ \
	\
	B(udp, rx) \
	X(udp, mcast_copy, IN)        /* a broadcast or group datagram copied for one more PCB (fan-out) */ \
	X(udp, delivered, OK) \
	X(udp, drop_short, DROP)      /* UDP length < 8 or > IP payload */ \
	X(udp, drop_csum, DROP) \
	X(udp, drop_no_port, DROP)    /* no listener (port unreachable where allowed) */ \
	X(udp, drop_queue_full, DROP) \
	X(udp, tx, INFO) \
	X(udp, tx_err, INFO)          /* every refused send, the two below among them */ \
	X(udp, tx_err_dst, INFO)      /* to 0/8, 127/8, class E, address or port 0 */ \
	X(udp, tx_err_bcast, INFO)    /* to a broadcast without udp_set_broadcast */ \
	X(udp, bad_pcb, INFO)         /* any call on a PCB not in use, sends included */ \
	X(udp, mcast_nocopy, INFO)    /* fan-out: no buffer for a copy, that PCB missed it */ \
	\
	B(igmp, rx)                   /* IGMP messages handed up by IP */ \
	X(igmp, query, OK)            /* General or Group-Specific Query (v1, v2, v3) taken */ \
	X(igmp, report_heard, OK)     /* another host's report: our pending one suppressed */ \
	X(igmp, ignored, OK)          /* well-formed, nothing for us: Leave, other groups, types */ \
	X(igmp, drop_short, DROP)     /* shorter than 8 bytes */ \
	X(igmp, drop_csum, DROP) \
	X(igmp, drop_malformed, DROP) /* a query of 9..11 bytes (RFC 3376 7.1), a group that is \
	                                 not one */ \
	X(igmp, tx_report, INFO)      /* Membership Reports sent (v1 or v2) */ \
	X(igmp, tx_leave, INFO) \
	X(igmp, tx_err, INFO)         /* a message could not be built or sent (no address, no buffer) */ \
	X(igmp, groups_full, INFO)    /* a join refused: CFG_MCAST_GROUPS in use */ \
	\
	X(dhcp, rx, IN)               /* datagrams to the client's port 68 */ \
	X(dhcp, offer, OK)            /* OFFER taken: REQUEST sent */ \
	X(dhcp, ack, OK)              /* ACK taken: probing, or the lease renewed */ \
	X(dhcp, nak, OK)              /* NAK taken: the address dropped, INIT */ \
	X(dhcp, drop_short, DROP)     /* shorter than the BOOTP header + magic cookie */ \
	X(dhcp, drop_malformed, DROP) /* bad fixed fields or options, a required option missing */ \
	X(dhcp, drop_state, DROP)     /* nothing outstanding takes this message type now */ \
	X(dhcp, drop_xid, DROP)       /* not our transaction id or hardware address */ \
	X(dhcp, drop_server, DROP)    /* from a server other than the one we deal with */ \
	X(dhcp, drop_unusable, DROP)  /* an address or mask we cannot use */ \
	X(dhcp, tx_discover, INFO) \
	X(dhcp, tx_request, INFO) \
	X(dhcp, tx_decline, INFO) \
	X(dhcp, tx_release, INFO) \
	X(dhcp, tx_err, INFO)         /* a message could not be built or sent */ \
	X(dhcp, conflict, INFO)       /* the probed address answered: DECLINE */ \
	X(dhcp, expired, INFO)        /* a lease ran out */


#define NET_STATS_FIELD(layer, name, role) uint32_t layer##_##name;
#define NET_STATS_NOFIELD(layer, name, ...)
struct net_stats {
	NET_STATS(NET_STATS_FIELD, NET_STATS_NOFIELD, NET_STATS_NOFIELD, NET_STATS_NOFIELD)
};
#undef NET_STATS_FIELD

/* Each row's index in net_stat_desc: NET_STAT_ROW(udp, rx). */
#define NET_STATS_ROW(layer, name, ...) NET_STAT_ROW_##layer##_##name,
enum net_stat_row {
	NET_STATS(NET_STATS_ROW, NET_STATS_ROW, NET_STATS_ROW, NET_STATS_ROW) NET_STAT_ROWS
};
#undef NET_STATS_ROW
#undef NET_STATS_NOFIELD
#define NET_STAT_ROW(layer, name) NET_STAT_ROW_##layer##_##name

extern struct net_stats net_stats;

#define STAT(layer, name) (net_stats.layer##_##name++)

enum stat_role { STAT_IN, STAT_OK, STAT_DROP, STAT_INFO };
enum stat_kind { STAT_COUNTED, STAT_SUM, STAT_BALANCE }; /* A is a sum of one row */

#define STAT_NONE 0xff
struct stat_desc {
	const char *layer;
	const char *name;
	uint8_t role;
	uint8_t kind;
	uint16_t offset;  /* STAT_COUNTED: into struct net_stats */
	uint8_t rows[3];  /* STAT_SUM: its rows (STAT_NONE: none) */
};

extern const struct stat_desc net_stat_desc[NET_STAT_ROWS];
extern const unsigned net_stat_count;

uint32_t net_stat_get(const char *layer, const char *name); /* ~0u if unknown */
uint32_t net_stat_value(const struct stat_desc *d);
static inline uint32_t net_stat_row(enum net_stat_row r) { return net_stat_value(&net_stat_desc[r]); }
/* The counted words row r is read from, each with its sign (+1 or -1,
 * times sign): f(ctx, offset into struct net_stats, sign) per word. What
 * a derived row means, in one place: net_stat_value reads through it,
 * the fuzzer turns the identity into a table of words with it. */
void net_stat_terms(unsigned r, int sign, void (*f)(void *ctx, unsigned offset, int sign), void *ctx);
/* Returns the first layer whose identity fails, or NULL when all hold. */
const char *net_stats_check(void);
void net_stats_reset(void);

#endif
