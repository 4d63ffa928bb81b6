/*
 * Shaped for the compiler: the one list of every place where the code has
 * its form only because of what GCC makes of it for rv64imac (each
 * measured with make bench or make bench-host), so that a reader can
 * tell tuning from protocol structure. Everything else is plain C.
 *
 * OUT_OF_LINE  a rare path split off the per-packet path and reached by
 *              a tail call (ip_accept, udp_deliver, udp_verify, the *_fail
 *              helpers, arp_input, ...): the common path then runs with no
 *              registers to save.
 * u16a, u32a   2- and 4-byte loads and stores where a header is known to
 *              be aligned (MAC compare and swap, the IPv4 header sum, the
 *              UDP port swap, the checksum loop): rv64imac has no cheap
 *              unaligned access, and byte-wise code is 3-4 times longer.
 * get16's asm  (wire.h) keeps GCC from seeing a byte-swapped load, which
 *              without Zbb it lowers to a dozen shifts and masks.
 * network order  the input path compares header fields as they lie
 *              (ld16, ld32, N16 in wire.h) against our address and
 *              broadcast kept the same way (netif.ip_n, bcast_n): no byte
 *              swap, which rv64imac lacks, on the per-packet path.
 * one path per layer  eth_input/eth_accept, ip_input/ip_accept/ip_local,
 *              udp_input/udp_deliver run straight for the usual frame;
 *              every other case branches off to an OUT_OF_LINE function
 *              making the same checks in general form (ip_input_other,
 *              eth_to_other, ...). The in-place reply is checked once
 *              (ip_can_reply, inline) and then written without more tests
 *              (ip_reply_in_place).
 * memory-order sums  a ones'-complement sum does not depend on byte order
 *              (RFC 1071 2(B)), so checks and the header checksum add words
 *              as they lie in memory (csum_mem, csum_ok20, ip_hdr_csum).
 * inline       eth_is_ours and ip_hdr_csum are in net.h so that LTO puts
 *              them into their callers on the per-packet path.
 * markers      net_stats_reset is OUT_OF_LINE as the start of make bench's
 *              per-datagram profile (the console's `reset`), console_poll
 *              as its end.
 * Outside net/: drivers/nic.c calls the probed driver through a switch,
 *              not a pointer, so that its poll can be inlined; app/main.c's boot_done and the apps' ready stay
 *              out of line as the end marker of make bench's boot profile.
 */
#ifndef NET_TUNE_H
#define NET_TUNE_H

#include <stdint.h>

#define OUT_OF_LINE __attribute__((noinline))
typedef uint16_t __attribute__((may_alias)) u16a;
typedef uint32_t __attribute__((may_alias)) u32a;

#endif
