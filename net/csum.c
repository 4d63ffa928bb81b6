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
	uint32_t s = fold64(csum_acc(acc, p, len));
	if (!odd)
		s = ((s & 0xff) << 8) | (s >> 8);
	return csum_fold(sum) + s;
}
