/* Device tree reader: QEMU's own blobs parse to the known virt layout;
 * every truncation and thousands of mutations fail cleanly (ASan checks
 * that nothing outside the blob is read). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "drivers/fdt.h"

static uint8_t *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *b = malloc(1 << 16);
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

static uint8_t *blob;
static size_t blob_len;

/* Parse exactly len bytes copied into a buffer of that size. */
static int parse_copy(const uint8_t *b, size_t len, struct fdt_info *out)
{
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, b, len);
	int r = fdt_parse(c, len, out);
	free(c);
	return r;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_virt(const struct fdt_info *i, uint64_t mem, unsigned cpus)
{
	CHECK_EQ(i->mem_base, 0x80000000u);
	CHECK_EQ(i->mem_size, mem);
	CHECK_EQ(i->uart_base, 0x10000000u);
	CHECK_EQ(i->uart_irq, 10);
	CHECK_EQ(i->plic_base, 0xc000000u);
	CHECK_EQ(i->plic_ndev, 96); /* QEMU 7.2 virt: riscv,ndev = 0x60 */
	CHECK_EQ(i->clint_base, 0x2000000u);
	CHECK_EQ(i->test_base, 0x100000u);
	CHECK_EQ(i->timebase_hz, 10000000u);
	CHECK_EQ(i->ncpus, cpus);
	CHECK_EQ(i->nvirtio, 8);
	for (unsigned k = 0; k < 8; k++) {
		/* QEMU lists the slots from the top down */
		CHECK_EQ(i->virtio[k].base, 0x10008000u - 0x1000u * k);
		CHECK_EQ(i->virtio[k].irq, 8 - k);
	}
}

static void qemu_virt(void)
{
	struct fdt_info i;
	CHECK_EQ(fdt_parse(blob, blob_len, &i), 0);
	check_virt(&i, 128u << 20, 1);
	CHECK(!strcmp(i.bootargs, ""));
}

static void qemu_smp4_bootargs(void)
{
	size_t len;
	uint8_t *b = load("test/fixtures/virt-smp4-args.dtb", &len);
	struct fdt_info i;
	CHECK(b != NULL);
	if (!b)
		return;
	CHECK_EQ(fdt_parse(b, len, &i), 0);
	check_virt(&i, 256u << 20, 4);
	CHECK(!strcmp(i.bootargs, "ip=10.9.8.7/16 gw=10.9.0.1 port=9"));
	free(b);
}

static void every_truncation(void)
{
	struct fdt_info i;
	int failed = 0;
	for (size_t n = 0; n < blob_len; n++) {
		/* the header claims totalsize > n: must be refused, never overread */
		if (parse_copy(blob, n, &i) == 0)
			failed++;
	}
	CHECK_EQ(failed, 0);
	CHECK_EQ(parse_copy(blob, blob_len, &i), 0);
}

static void header_lies(void)
{
	struct fdt_info i;
	uint8_t *c = malloc(blob_len);
	static const struct { unsigned off; uint32_t val; int err; } cases[] = {
		{0, 0xd00dfeee, FDT_E_MAGIC},       /* magic */
		{4, 0x100000, FDT_E_HEADER},        /* totalsize > limit */
		{8, 0xfffffff0, FDT_E_HEADER},      /* off_dt_struct outside */
		{12, 0xfffffff0, FDT_E_HEADER},     /* off_dt_strings outside */
		{32, 0x7fffffff, FDT_E_HEADER},     /* size_dt_strings past the end */
		{36, 0x7fffffff, FDT_E_HEADER},     /* size_dt_struct past the end */
		{20, 15, FDT_E_VERSION},            /* too old */
	};
	for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		memcpy(c, blob, blob_len);
		put_be32(c + cases[k].off, cases[k].val);
		CHECK_EQ(fdt_parse(c, blob_len, &i), cases[k].err);
		CHECK_EQ(i.nvirtio, 0); /* zeroed on error */
	}
	free(c);
}

/* Offset of the first FDT_PROP token in the structure block. */
static size_t first_prop(const uint8_t *b)
{
	size_t s = get_be32(b + 8), end = s + get_be32(b + 36);
	for (size_t o = s; o + 4 <= end; o += 4)
		if (get_be32(b + o) == 3)
			return o;
	return 0;
}

static void bad_structure(void)
{
	struct fdt_info i;
	uint8_t *c = malloc(blob_len);
	size_t p = first_prop(blob);
	CHECK(p != 0);

	memcpy(c, blob, blob_len); /* property length running past the block */
	put_be32(c + p + 4, 0x7ffffff0);
	CHECK_EQ(fdt_parse(c, blob_len, &i), FDT_E_STRUCT);

	memcpy(c, blob, blob_len); /* name offset outside the strings block */
	put_be32(c + p + 8, get_be32(blob + 32) + 5);
	CHECK_EQ(fdt_parse(c, blob_len, &i), FDT_E_STRINGS);

	memcpy(c, blob, blob_len); /* unterminated strings block */
	size_t str = get_be32(blob + 12), slen = get_be32(blob + 32);
	memset(c + str, 'x', slen);
	CHECK(fdt_parse(c, blob_len, &i) != 0);

	memcpy(c, blob, blob_len); /* unknown token */
	put_be32(c + get_be32(blob + 8), 7);
	CHECK_EQ(fdt_parse(c, blob_len, &i), FDT_E_STRUCT);

	memcpy(c, blob, blob_len); /* no FDT_END: struct block cut short */
	put_be32(c + 36, get_be32(blob + 36) - 4);
	CHECK_EQ(fdt_parse(c, blob_len, &i), FDT_E_STRUCT);
	free(c);
}

static void deep_nesting(void)
{
	uint8_t b[1024] = {0};
	size_t o = 40;
	for (int d = 0; d < 40; d++) { /* 40 nested empty-named nodes */
		put_be32(b + o, 1);
		o += 8; /* token + empty name padded */
	}
	put_be32(b + o, 9);
	o += 4;
	put_be32(b, 0xd00dfeed);
	put_be32(b + 4, (uint32_t)o);
	put_be32(b + 8, 40);
	put_be32(b + 12, (uint32_t)o);
	put_be32(b + 20, 17);
	put_be32(b + 24, 16);
	put_be32(b + 32, 0);
	put_be32(b + 36, (uint32_t)(o - 40));
	struct fdt_info i;
	CHECK_EQ(fdt_parse(b, o, &i), FDT_E_STRUCT);
}

static void random_mutations(void)
{
	struct fdt_info i;
	uint32_t seed = 12345;
	int ok = 0;
	for (int k = 0; k < 4000; k++) {
		uint8_t *c = malloc(blob_len);
		memcpy(c, blob, blob_len);
		for (int m = 0; m < 1 + k % 4; m++) {
			seed = seed * 1103515245 + 12345;
			size_t at = (seed >> 8) % blob_len;
			if (k & 1)
				c[at] = (uint8_t)(seed >> 24);
			else if (at + 4 <= blob_len)
				put_be32(c + at, seed);
		}
		ok += fdt_parse(c, blob_len, &i) == 0;
		free(c);
	}
	CHECK(ok > 0); /* many mutations hit values only, and still parse */
}

static void null_and_tiny(void)
{
	struct fdt_info i;
	CHECK_EQ(fdt_parse(NULL, 1 << 20, &i), FDT_E_MAGIC);
	CHECK(strcmp(fdt_strerror(FDT_E_STRUCT), "ok") != 0);
}

int main(void)
{
	blob = load("test/fixtures/virt.dtb", &blob_len);
	if (!blob) {
		printf("fdt: cannot read test/fixtures/virt.dtb (run from the repo root)\n");
		return 1;
	}
	TEST(qemu_virt);
	TEST(qemu_smp4_bootargs);
	TEST(every_truncation);
	TEST(header_lies);
	TEST(bad_structure);
	TEST(deep_nesting);
	TEST(random_mutations);
	TEST(null_and_tiny);
	free(blob);
	DONE("fdt");
}
