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


/* Fold to 16 bits (still not inverted). */
static inline uint16_t csum_fold(uint32_t sum)
{
	/* sum plus itself rotated by 16: the high half is then the two halves
	 * added with the carry out of the low one, the end-around carry (no
	 * mask, no second fold) */
	return (uint16_t)((sum + (sum >> 16 | sum << 16)) >> 16);
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

/* Does an unfolded sum (of 16- and 32-bit words, in either byte order)
 * fold to -0, 0xffff: is the data it covers intact? Folding keeps a
 * sum's value mod 65535 (2^16 is 1 mod 65535), and only 0 folds to 0, so
 * it does exactly when acc is a nonzero multiple of 65535. That is tested
 * without a fold or a division (Granlund and Montgomery, 1994): 65535 is
 * odd, and multiplying by its inverse mod 2^64, which is -q, maps its
 * multiples 65535 * k, and nothing else, onto k = 0 .. q. */
static inline int csum_acc_ok(uint64_t acc)
{
	uint64_t q = 0x0001000100010001ull; /* (2^64 - 1) / 65535 */
	/* one constant loaded, its negation computed: GCC would load both */
	__asm__("" : "+r"(q));
	return acc * -q - 1 < q;
}

/* Words of a buffer at an even address, as they lie in memory, added to
 * acc (unfolded): 32-bit words into a 64-bit accumulator cannot overflow
 * for any IP length, so the loop is one load and one add per 4 bytes.
 * Inline: the UDP check has it on the per-datagram path (tune.h). */
static inline __attribute__((always_inline)) uint64_t csum_acc(uint64_t acc, const uint8_t *p,
							      size_t len)
{
	if (((uintptr_t)p & 2) && len >= 2) {
		acc += *(const u16a *)p;
		p += 2;
		len -= 2;
	}
	/* 64 bytes a round, then what is left by its bits: a test each, no
	 * second loop */
	const u32a *w = (const u32a *)p;
	for (size_t n = len >> 6; n; n--, w += 16)
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7] + w[8] +
		       w[9] + w[10] + w[11] + w[12] + w[13] + w[14] + w[15];
	if (len & 32) {
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
		w += 8;
	}
	if (len & 16) {
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3];
		w += 4;
	}
	if (len & 8) {
		acc += (uint64_t)w[0] + w[1];
		w += 2;
	}
	if (len & 4)
		acc += *w++;
	p = (const uint8_t *)w;
	if (len & 2) {
		acc += *(const u16a *)p;
		p += 2;
	}
	if (len & 1)
		acc += p[0];
	return acc;
}

/* IPv4 pseudo-header sum (addresses in host order). */
static inline uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

#endif
