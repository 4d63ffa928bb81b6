#include "csum.h"

/*
 * RFC 1071 sum, written for RV64 without a carry flag: 32-bit words added
 * into a 64-bit accumulator cannot overflow for any IP length, so the loop
 * is one load and one add per 4 bytes. Words are summed in memory (little-
 * endian) order and byte-swapped once at the end (the sum is byte-order
 * independent, RFC 1071 section 2(B)). An odd start address shifts every
 * word by one byte, which is the same as one more swap.
 */


#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "csum.c assumes a little-endian machine"
#endif

/* Words of an even-aligned buffer as they lie in memory, into acc. */
static uint64_t sum_even(uint64_t acc, const uint8_t *p, size_t len)
{
	if (((uintptr_t)p & 2) && len >= 2) {
		acc += *(const u16a *)p;
		p += 2;
		len -= 2;
	}
	const u32a *w = (const u32a *)p;
	for (; len >= 32; len -= 32, w += 8)
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
	for (; len >= 4; len -= 4)
		acc += *w++;
	p = (const uint8_t *)w;
	if (len >= 2) {
		acc += *(const u16a *)p;
		p += 2;
	}
	if (len & 1)
		acc += p[0];
	return acc;
}

/* 64-bit memory-order accumulator to a 16-bit sum, still in memory order. */
static uint16_t fold64(uint64_t acc)
{
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	return csum_fold((uint32_t)acc);
}

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;
	int odd = (uintptr_t)p & 1;

	if (odd && len) {
		acc = (uint64_t)p[0] << 8;
		p++;
		len--;
	}
	uint32_t s = fold64(sum_even(acc, p, len));
	if (!odd)
		s = ((s & 0xff) << 8) | (s >> 8);
	return csum_fold(sum) + s;
}

uint16_t csum_mem(uint64_t acc, const void *data, size_t len)
{
	return fold64(sum_even(acc, data, len));
}
