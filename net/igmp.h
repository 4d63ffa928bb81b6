/*
 * IGMPv2 host side (RFC 2236) and the group table: internal to net/
 * (applications join through udp_join and udp_leave, udp.h).
 *
 * The table holds CFG_MCAST_GROUPS groups, each with a count of the PCBs
 * that joined it: the first join sends the unsolicited reports and tells
 * the NIC's filter, the last leave sends a Leave Group and tells it
 * again. A PCB's memberships are a bit mask of slots (udp_pcb.mcast).
 */
#ifndef NET_IGMP_H
#define NET_IGMP_H

#include <stdint.h>
#include "pkt.h"

#define IGMP_HLEN 8
#define IGMP_TYPE 0
#define IGMP_MAXRESP 1 /* in 1/10 s; 0 in an IGMPv1 query */
#define IGMP_CSUM 2
#define IGMP_GROUP 4
#define IGMP_QUERY 0x11
#define IGMP_V1_REPORT 0x12
#define IGMP_V2_REPORT 0x16
#define IGMP_LEAVE 0x17
#define IGMP_ALL_HOSTS 0xe0000001u   /* 224.0.0.1 */
#define IGMP_ALL_ROUTERS 0xe0000002u /* 224.0.0.2 */

void igmp_init(void);
void igmp_tick(uint32_t now);
/* ms until the next report is due (0: due now), UINT32_MAX if none: for
 * code that skips idle ticks (the fuzzer). */
uint32_t igmp_next_due(uint32_t now);
/* We have a new address (DHCP): reports sent before it were not sent
 * at all (no source), so each group is reported once more, after a
 * random 0..CFG_IGMP_UNSOL_MS, as a query would have it. */
void igmp_readdress(void);
/* p->data at the IGMP message, p->l3 set. Takes ownership. */
void igmp_input(struct pkt *p);
/* A reference to group (a multicast address, not 224.0.0.0/24's
 * all-hosts): its slot 0..CFG_MCAST_GROUPS-1, or NET_ERR_MEM when the
 * table is full (counted), NET_ERR_ARG when it is no group. */
int igmp_join(uint32_t group);
/* Drop one reference of a slot igmp_join returned. */
void igmp_leave(int slot);
/* The slot of a joined group, or -1. */
int igmp_slot(uint32_t group);
/* Does IP take a datagram to group (host order) with this protocol? A
 * joined group, or all-hosts for IGMP. */
int igmp_ip_accepts(uint32_t group, uint8_t proto);
/* Does Ethernet take a frame to this multicast MAC? All-hosts', or that
 * of a joined group (a MAC stands for 32 groups: IP sorts them out). */
int igmp_mac_accepts(const uint8_t *mac);

#endif
