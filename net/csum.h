/*
 * Internet checksum (RFC 1071) and incremental update (RFC 1624).
 * Sums are kept unfolded in 32 bits where a caller combines several
 * pieces; csum_fold turns one into the 16-bit field value.
 */
#ifndef NET_CSUM_H
#define NET_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include "tune.h"

/* Ones'-complement sum of len bytes, as 16-bit big-endian words (an odd
 * last byte is padded with zero), added to 'sum'. Not folded, not inverted. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);

/* The same sum in memory order: acc holds words loaded as they lie in
 * memory (little-endian loads), data is at an even address, and the
 * folded result is byte-swapped against csum_add's. A sum that folds to
 * 0xffff does so in either order, so checking needs no swap at all. */
uint16_t csum_mem(uint64_t acc, const void *data, size_t len);

/* Fold to 16 bits (still not inverted). */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field value for data whose unfolded sum is 'sum'. */
static inline uint16_t csum_finish(uint32_t sum) { return (uint16_t)~csum_fold(sum); }

/* RFC 1624 eqn. 3: field HC covers a 16-bit word that changed m -> m2. */
static inline uint16_t csum_update16(uint16_t hc, uint16_t m, uint16_t m2)
{
	uint32_t s = (uint16_t)~hc + (uint32_t)(uint16_t)~m + m2;
	return (uint16_t)~csum_fold(s);
}

static inline uint16_t csum_update32(uint16_t hc, uint32_t m, uint32_t m2)
{
	uint32_t s = (uint16_t)~hc + (uint32_t)(uint16_t)~(m >> 16) + (uint16_t)~m +
		     (m2 >> 16) + (m2 & 0xffff);
	return (uint16_t)~csum_fold(s);
}

/* Does a 20-byte header at a 4-byte aligned address sum to -0? The
 * common IPv4 header, checked with five word loads. A sum that folds to
 * 0xffff does so in either byte order, so no swap is needed. */
static inline int csum_ok20(const void *hdr)
{
	const u32a *w = (const u32a *)hdr;
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s = (s & 0xffffffff) + (s >> 32);
	return csum_fold((uint32_t)s + (uint32_t)(s >> 32)) == 0xffff;
}

/* IPv4 pseudo-header sum (addresses in host order). */
static inline uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

#endif
