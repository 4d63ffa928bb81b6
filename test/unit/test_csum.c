/* Internet checksum against a naive reference. */
#include <stdlib.h>
#include "harness.h"

/* RFC 1071 by the book: big-endian 16-bit words, end-around carry. */
static uint16_t ref_fold(uint32_t sum, const uint8_t *b, size_t n)
{
	uint64_t s = sum;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Ones'-complement sums have two zeros; compare modulo 0xffff. */
static int same(uint16_t a, uint16_t b)
{
	return a == b || (a == 0xffff && b == 0) || (a == 0 && b == 0xffff);
}

static void test_csum_add_random(void)
{
	static uint8_t buf[256 + 8];
	srand(1);
	int bad = 0;
	for (size_t len = 0; len <= 200; len++) {
		for (size_t al = 0; al < 8; al++) {
			for (int rep = 0; rep < 8; rep++) {
				for (size_t i = 0; i < sizeof buf; i++)
					buf[i] = (uint8_t)rand();
				if (rep == 0)
					memset(buf, 0xff, sizeof buf); /* carries everywhere */
				uint32_t init = rep == 1 ? 0 : (uint32_t)rand() & 0xfffff;
				uint16_t got = csum_fold(csum_add(init, buf + al, len));
				if (!same(got, ref_fold(init, buf + al, len)))
					bad++;
			}
		}
	}
	CHECK_EQ(bad, 0);
}

/* A 64-bit accumulator folded the slow way: 16-bit words added with
 * end-around carry. */
static uint16_t fold_slow(uint64_t acc)
{
	uint32_t s = 0;
	for (int i = 0; i < 4; i++) {
		s += (uint16_t)(acc >> (16 * i));
		s = (s & 0xffff) + (s >> 16);
	}
	return (uint16_t)s;
}

/* The memory-order sum (csum_acc) is the byte-swapped reference sum,
 * accumulator included (words loaded as they lie, little-endian). */
static void test_csum_acc_random(void)
{
	static uint8_t buf[1600];
	srand(2);
	int bad = 0;
	for (int rep = 0; rep < 4000; rep++) {
		size_t len = (size_t)rand() % 1501, al = 2 * ((size_t)rand() % 4);
		for (size_t i = 0; i < len + al; i++)
			buf[i] = rep & 1 ? 0xff : (uint8_t)rand();
		uint8_t w[8];
		for (int i = 0; i < 8; i++)
			w[i] = rep & 1 ? 0xff : (uint8_t)rand();
		uint64_t acc = 0;
		for (int i = 0; i < 8; i += 4)
			acc += (uint32_t)(w[i] | w[i + 1] << 8 | w[i + 2] << 16 | (uint32_t)w[i + 3] << 24);
		uint16_t got = fold_slow(csum_acc(acc, buf + al, len));
		got = (uint16_t)(got << 8 | got >> 8);
		if (!same(got, ref_fold(ref_fold(0, w, 8), buf + al, len)))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/* csum_acc_ok says "folds to 0xffff" exactly when the slow fold does:
 * at 0, at multiples of 65535 up to 2^64 - 1, next to them, and at
 * random values; and for a buffer whose checksum field is set, or is one
 * bit off. */
static void test_csum_acc_ok(void)
{
	int bad = 0;
	const uint64_t edge[] = {0, 1, 0xfffe, 0xffff, 0x10000, 0x1fffe, 0xffffffffull,
				 0xffffffffffffffffull, 0xfffffffffffffffeull, 0x8000000000000000ull,
				 0xffff0000ffff0000ull, 0x0001000100010001ull};
	for (unsigned i = 0; i < sizeof edge / sizeof edge[0]; i++)
		for (int d = -2; d <= 2; d++) {
			uint64_t a = edge[i] + (uint64_t)(int64_t)d;
			if (csum_acc_ok(a) != (fold_slow(a) == 0xffff))
				bad++;
		}
	srand(3);
	for (int rep = 0; rep < 200000; rep++) {
		uint64_t a = (uint64_t)rand() << 40 ^ (uint64_t)rand() << 20 ^ (uint64_t)rand();
		if (rep & 1)
			a -= a % 65535; /* a multiple */
		if (rep % 4 == 3)
			a >>= rand() % 48;
		if (csum_acc_ok(a) != (fold_slow(a) == 0xffff))
			bad++;
	}
	CHECK_EQ(bad, 0);
	static uint8_t buf[1500];
	int wrong = 0;
	for (int rep = 0; rep < 2000; rep++) {
		size_t len = 2 + 2 * ((size_t)rand() % 740);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		buf[0] = buf[1] = 0;
		uint16_t c = csum_finish(csum_add(0, buf, len));
		buf[0] = (uint8_t)(c >> 8), buf[1] = (uint8_t)c;
		if (!csum_acc_ok(csum_acc(0, buf, len)))
			wrong++;
		buf[(size_t)rand() % len] ^= (uint8_t)(1 << (rand() % 8)); /* field or data */
		if (csum_acc_ok(csum_acc(0, buf, len)))
			wrong++;
	}
	CHECK_EQ(wrong, 0);
}

static void test_csum_add_known(void)
{
	/* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	static const uint8_t ex[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	CHECK_EQ(csum_fold(csum_add(0, ex, 8)), 0xddf2);
	CHECK_EQ(csum_fold(csum_add(0, ex, 0)), 0);
	CHECK_EQ(csum_fold(csum_add(0, ex + 1, 1)), 0x0100);
	/* a large accumulated sum stays exact */
	static uint8_t big[65535];
	memset(big, 0xff, sizeof big);
	CHECK(same(csum_fold(csum_add(0xffffffffu, big, sizeof big)),
		   ref_fold(0xffff, big, sizeof big)));
}

/* Changing one word and patching the checksum gives what recomputing does. */
static void test_csum_update(void)
{
	uint8_t b[64];
	srand(2);
	int bad16 = 0, bad32 = 0;
	for (int rep = 0; rep < 20000; rep++) {
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (uint8_t)rand();
		if (rep % 7 == 0)
			memset(b, rep % 14 ? 0xff : 0, sizeof b);
		put16(b + 10, 0);
		uint16_t hc = csum_finish(csum_add(0, b, sizeof b));
		put16(b + 10, hc);
		size_t at = 2 * (size_t)(rand() % 30);
		if (at == 10)
			at = 12;
		if (rep & 1) {
			uint16_t m = get16(b + at), m2 = (uint16_t)rand();
			if (rep % 5 == 0)
				m2 = (uint16_t)~m;
			put16(b + at, m2);
			uint16_t upd = csum_update16(hc, m, m2);
			put16(b + 10, 0);
			uint16_t full = csum_finish(csum_add(0, b, sizeof b));
			bad16 += !same(upd, full);
			put16(b + 10, upd);
			bad16 += !h_sum_ok(0, b, sizeof b);
		} else {
			if (at == 8)
				at = 12;
			uint32_t m = get32(b + at), m2 = (uint32_t)rand() << 16 ^ (uint32_t)rand();
			put32(b + at, m2);
			uint16_t upd = csum_update32(hc, m, m2);
			put16(b + 10, 0);
			uint16_t full = csum_finish(csum_add(0, b, sizeof b));
			bad32 += !same(upd, full);
			put16(b + 10, upd);
			bad32 += !h_sum_ok(0, b, sizeof b);
		}
	}
	CHECK_EQ(bad16, 0);
	CHECK_EQ(bad32, 0);
}

static void test_csum_pseudo(void)
{
	uint8_t ph[12];
	uint32_t src = 0xc0a80001, dst = 0xfffffffe;
	put32(ph, src);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP;
	put16(ph + 10, 0xfff0);
	CHECK(same(csum_fold(csum_pseudo(src, dst, IPPROTO_UDP, 0xfff0)), ref_fold(0, ph, 12)));
}

int main(void)
{
	TEST(test_csum_add_known);
	TEST(test_csum_add_random);
	TEST(test_csum_acc_random);
	TEST(test_csum_acc_ok);
	TEST(test_csum_update);
	TEST(test_csum_pseudo);
	DONE("csum");
}
