/*
 * DHCPv4 client (RFC 2131) on the UDP API: a PCB on port 68, messages
 * built in a pool buffer, the address probed with ARP before it is used
 * (RFC 5227). The client owns netif's address, mask and gateway while
 * it runs: it clears them until a lease is bound, and sets them from it.
 *
 *   OFF -> INIT -> SELECTING -> REQUESTING -> CHECKING -> BOUND
 *   BOUND -> RENEWING (T1, unicast) -> REBINDING (T2, broadcast)
 *   lease end, NAK, no ACK: the address is dropped and INIT again;
 *   an ARP conflict while CHECKING: DECLINE, INIT after 10 s;
 *   the link coming back: REBOOTING (INIT-REBOOT) with the old address.
 */
#ifndef NET_DHCP_H
#define NET_DHCP_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_INFINITE 0xffffffffu /* a lease time that never ends */

enum dhcp_state {
	DHCP_OFF,        /* not started, or released */
	DHCP_INIT,       /* waiting to send a DISCOVER */
	DHCP_SELECTING,  /* DISCOVER sent, waiting for an OFFER */
	DHCP_REQUESTING, /* REQUEST for an offer sent, waiting for ACK or NAK */
	DHCP_CHECKING,   /* ACK in hand, ARP-probing the address (RFC 5227) */
	DHCP_BOUND,
	DHCP_RENEWING,   /* past T1: REQUEST unicast to the lease's server */
	DHCP_REBINDING,  /* past T2: REQUEST broadcast to any server */
	DHCP_REBOOTING,  /* INIT-REBOOT: REQUEST for the address we had */
};

/* What a server grants: kept for the stack and shown to applications. */
struct dhcp_lease {
	uint32_t ip, mask, gw, bcast, server; /* host byte order; 0: none */
	uint32_t lease_s, t1_s, t2_s;         /* as granted; DHCP_INFINITE: never */
	uint32_t dns[CFG_DHCP_DNS_MAX], ntp[CFG_DHCP_NTP_MAX];
	uint8_t ndns, nntp;
	uint16_t mtu;                          /* option 26; 0: none */
};

/* One server message as parsed: the fixed fields the client checks and
 * the options (RFC 2132) it uses, from the options field and, when
 * option 52 says so, the file and sname fields. */
struct dhcp_msg {
	uint8_t type;        /* option 53 */
	uint8_t overload;    /* option 52: 1 file, 2 sname, 3 both */
	uint16_t has;        /* DHCP_HAS_*: options present */
	uint32_t xid, yiaddr;
	uint8_t chaddr[6];
	struct dhcp_lease l; /* yiaddr, the server id and the parameters */
};

enum {
	DHCP_HAS_TYPE = 1 << 0, DHCP_HAS_SERVER = 1 << 1, DHCP_HAS_MASK = 1 << 2,
	DHCP_HAS_ROUTER = 1 << 3, DHCP_HAS_BCAST = 1 << 4, DHCP_HAS_LEASE = 1 << 5,
	DHCP_HAS_T1 = 1 << 6, DHCP_HAS_T2 = 1 << 7, DHCP_HAS_MTU = 1 << 8,
	DHCP_HAS_OVERLOAD = 1 << 9,
};

enum { DHCP_E_SHORT = -1, DHCP_E_MALFORMED = -2 };

/* Parse a BOOTREPLY of len bytes at m: 0, DHCP_E_SHORT (less than the
 * fixed part and the magic cookie) or DHCP_E_MALFORMED (anything else
 * wrong: op, htype, hlen, cookie, an option running past its field or
 * of the wrong length for its code, a field without its end option). */
int dhcp_parse(const uint8_t *m, size_t len, struct dhcp_msg *out);

/* Take over netif's address: cleared now, set when a lease is bound.
 * After net_init. 0, or a negative enum net_err (no PCB, port taken). */
int dhcp_start(void);
/* Renew now (BOUND, RENEWING, REBINDING), or start again (OFF). 0, or
 * -1 while an address is still being acquired. */
int dhcp_renew(void);
/* Give the lease back (DHCPRELEASE to its server) and stop: the
 * address is gone. 0, or -1 when no lease was held. */
int dhcp_release(void);
/* Option 12 in DISCOVER and REQUEST (NULL or "": none). Copied. */
void dhcp_set_hostname(const char *name);
/* Called on every event worth telling ("bound", "renewed", "expired",
 * "nak", "conflict", "released", "rebooting"), from the stack's input or
 * timer path: keep it short. */
void dhcp_set_hook(void (*fn)(const char *event));

enum dhcp_state dhcp_state(void);
const char *dhcp_state_name(enum dhcp_state s);
/* The lease held or being checked (CHECKING .. REBOOTING), else NULL.
 * Seconds from now until it ends, until T1 and until T2 (0: passed,
 * DHCP_INFINITE: never) go to the pointers that are not NULL. */
const struct dhcp_lease *dhcp_lease(uint32_t *left, uint32_t *t1, uint32_t *t2);

#endif
