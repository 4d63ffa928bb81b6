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
	CHECK_EQ(fdt_parse(blob, blob_len, NULL), FDT_E_MAGIC);
	CHECK(strcmp(fdt_strerror(FDT_E_STRUCT), "ok") != 0);
	CHECK(strcmp(fdt_strerror(-99), "ok") != 0);
}

/*
 * The fixture rearranged so that one block (struct or strings) is the last
 * thing in the blob, cut to keep bytes, in a buffer of exactly the blob's
 * size: a read past the end of that block is then a heap overflow for ASan,
 * where in QEMU's layout it would land quietly in the next block.
 */
static uint8_t *relayout(int struct_last, uint32_t keep, size_t *len)
{
	uint32_t st = get_be32(blob + 8), st_len = get_be32(blob + 36);
	uint32_t str = get_be32(blob + 12), str_len = get_be32(blob + 32);
	uint32_t first_off = st, first_len = st_len, last_off = str, last_len = str_len;
	if (struct_last) {
		first_off = str, first_len = str_len, last_off = st, last_len = st_len;
	}
	if (keep > last_len)
		keep = last_len;
	uint32_t a = 56, b = (a + first_len + 3) & ~3u; /* header + empty reserve map */
	*len = b + keep;
	uint8_t *c = malloc(*len);
	memcpy(c, blob, a);
	memcpy(c + a, blob + first_off, first_len);
	memset(c + a + first_len, 0, b - a - first_len);
	memcpy(c + b, blob + last_off, keep);
	put_be32(c + 4, (uint32_t)*len);
	put_be32(c + 8, struct_last ? b : a);
	put_be32(c + 12, struct_last ? a : b);
	put_be32(c + 32, struct_last ? str_len : keep);
	put_be32(c + 36, struct_last ? keep : st_len);
	return c;
}

static void block_at_end(void)
{
	struct fdt_info i;
	size_t len;
	for (int sl = 0; sl < 2; sl++) {
		uint8_t *c = relayout(sl, 0xffffffff, &len); /* whole: still parses */
		CHECK_EQ(fdt_parse(c, len, &i), 0);
		CHECK_EQ(i.uart_base, 0x10000000u);
		CHECK_EQ(i.nvirtio, 8);
		free(c);
	}
	uint32_t st_len = get_be32(blob + 36), str_len = get_be32(blob + 32);
	int failed = 0;
	for (uint32_t k = 0; k < st_len; k++) { /* every cut of the struct block */
		uint8_t *c = relayout(1, k, &len);
		failed += fdt_parse(c, len, &i) != FDT_E_STRUCT;
		free(c);
	}
	CHECK_EQ(failed, 0);
	for (uint32_t k = 0; k < str_len; k++) { /* every cut of the strings block */
		uint8_t *c = relayout(0, k, &len);
		int r = fdt_parse(c, len, &i);
		/* a cut that keeps every name in use may still parse */
		failed += r != FDT_E_STRINGS && !(r == 0 && i.nvirtio == 8);
		free(c);
	}
	CHECK_EQ(failed, 0);
}

/* Mutations of the struct-last and strings-last layouts, where ASan sees
 * the end of the mutated block. */
static void block_at_end_mutations(void)
{
	struct fdt_info i;
	uint32_t seed = 777;
	int ok = 0, bad = 0;
	for (int k = 0; k < 4000; k++) {
		size_t len;
		uint8_t *c = relayout(k & 1, 0xffffffff, &len);
		for (int m = 0; m < 1 + k % 3; m++) {
			seed = seed * 1103515245 + 12345;
			size_t at = 40 + (seed >> 8) % (len - 40); /* body only */
			if (k & 2)
				c[at] = (uint8_t)(seed >> 24);
			else if (at + 4 <= len)
				put_be32(c + at, seed >> 4 & 0xff ? seed : seed & 0xff);
		}
		int r = fdt_parse(c, len, &i);
		ok += r == 0;
		bad += r != 0 && (i.nvirtio || i.uart_base || i.bootargs[0]); /* not zeroed */
		free(c);
	}
	CHECK(ok > 0);
	CHECK(ok < 4000);
	CHECK_EQ(bad, 0);
}

/* ---- a small blob builder for trees QEMU does not make ---- */
struct fb {
	uint8_t st[4096], str[512];
	uint32_t st_len, str_len;
};

static void fb_u32(struct fb *b, uint32_t v)
{
	put_be32(b->st + b->st_len, v);
	b->st_len += 4;
}

static void fb_begin(struct fb *b, const char *name)
{
	size_t n = strlen(name) + 1;
	fb_u32(b, 1);
	memset(b->st + b->st_len, 0, (n + 3) & ~3u);
	memcpy(b->st + b->st_len, name, n);
	b->st_len += (uint32_t)((n + 3) & ~3u);
}

static void fb_prop(struct fb *b, const char *name, const void *v, uint32_t len)
{
	uint32_t off = 0; /* reuse a name already in the strings block */
	while (off < b->str_len && strcmp((char *)b->str + off, name))
		off += (uint32_t)strlen((char *)b->str + off) + 1;
	if (off == b->str_len) {
		memcpy(b->str + off, name, strlen(name) + 1);
		b->str_len += (uint32_t)strlen(name) + 1;
	}
	fb_u32(b, 3);
	fb_u32(b, len);
	fb_u32(b, off);
	memset(b->st + b->st_len, 0, (len + 3) & ~3u);
	memcpy(b->st + b->st_len, v, len);
	b->st_len += (len + 3) & ~3u;
}

static void fb_cells(struct fb *b, const char *name, int n, const uint32_t *cells)
{
	uint8_t v[32];
	for (int k = 0; k < n; k++)
		put_be32(v + 4 * k, cells[k]);
	fb_prop(b, name, v, 4u * (uint32_t)n);
}

static void fb_cell(struct fb *b, const char *name, uint32_t v) { fb_cells(b, name, 1, &v); }

static void fb_str(struct fb *b, const char *name, const char *v)
{
	fb_prop(b, name, v, (uint32_t)strlen(v) + 1);
}

static void fb_end(struct fb *b) { fb_u32(b, 2); }

/* Finish with FDT_END and lay out a version 16 or 17 blob in a buffer of
 * exactly its size. */
static uint8_t *fb_blob(struct fb *b, uint32_t version, size_t *len)
{
	fb_u32(b, 9);
	uint32_t st = 56, str = st + b->st_len;
	*len = str + b->str_len;
	uint8_t *c = calloc(1, *len);
	put_be32(c, 0xd00dfeed);
	put_be32(c + 4, (uint32_t)*len);
	put_be32(c + 8, st);
	put_be32(c + 12, str);
	put_be32(c + 16, 40);
	put_be32(c + 20, version);
	put_be32(c + 24, 16);
	put_be32(c + 32, b->str_len);
	if (version >= 17)
		put_be32(c + 36, b->st_len);
	memcpy(c + st, b->st, b->st_len);
	memcpy(c + str, b->str, b->str_len);
	return c;
}

/* Another board: 1-cell addresses, a plain "syscon" finisher, a second
 * PLIC and UART (the first wins), ten virtio slots, a long command line. */
static void build_board(struct fb *b)
{
	static const uint32_t mem[] = {0x40000000, 0x2000000}, mem2[] = {0x50000000, 0x1000};
	char args[300];
	memset(b, 0, sizeof *b);
	fb_begin(b, "");
	fb_cell(b, "#address-cells", 1);
	fb_cell(b, "#size-cells", 1);
	fb_begin(b, "chosen");
	memset(args, 'a', sizeof args - 1);
	args[sizeof args - 1] = 0;
	fb_str(b, "bootargs", args);
	fb_end(b);
	fb_begin(b, "memory@40000000");
	fb_cells(b, "reg", 2, mem);
	fb_end(b);
	fb_begin(b, "memory@50000000");
	fb_cells(b, "reg", 2, mem2);
	fb_end(b);
	fb_begin(b, "cpus");
	fb_cell(b, "timebase-frequency", 1000000);
	for (int k = 0; k < 3; k++) {
		fb_begin(b, k ? "cpu@1" : "cpu@0");
		fb_begin(b, "interrupt-controller"); /* not a cpu */
		fb_end(b);
		fb_end(b);
	}
	fb_begin(b, "cpu-map"); /* not a cpu either */
	fb_begin(b, "cpu@7"); /* a cpu@ name, but not a child of /cpus */
	fb_end(b);
	fb_end(b);
	fb_end(b);
	fb_begin(b, "soc");
	fb_cell(b, "#address-cells", 2);
	fb_cell(b, "#size-cells", 2);
	static const uint32_t reg[][4] = {
		{0, 0x3000}, {0, 0xd000000}, {0, 0x4000}, {0x1, 0x2000}, {0, 0x9000},
	};
	fb_begin(b, "x@3000"); /* riscv,ndev outside a PLIC: ignored */
	fb_cells(b, "reg", 4, reg[0]);
	fb_cell(b, "riscv,ndev", 7);
	fb_end(b);
	for (int k = 0; k < 2; k++) {
		fb_begin(b, "plic");
		fb_cell(b, "riscv,ndev", 31 + (uint32_t)k);
		fb_prop(b, "compatible", "vendor,x\0riscv,plic0", 21);
		fb_cells(b, "reg", 4, reg[1 + k]);
		fb_end(b);
	}
	fb_begin(b, "finisher");
	fb_cells(b, "reg", 4, reg[3]);
	fb_str(b, "compatible", "syscon");
	fb_end(b);
	fb_begin(b, "uart");
	fb_str(b, "compatible", "ns16550a");
	fb_cells(b, "reg", 4, reg[4]);
	fb_cell(b, "interrupts", 33);
	fb_end(b);
	fb_begin(b, "uart2");
	fb_str(b, "compatible", "ns16550a");
	fb_cells(b, "reg", 4, reg[0]);
	fb_end(b);
	for (uint32_t k = 0; k < 10; k++) {
		uint32_t r[4] = {0, 0x20000000 + 0x1000 * k, 0, 0x1000};
		fb_begin(b, "virtio_mmio");
		fb_cells(b, "reg", 4, r);
		fb_cell(b, "interrupts", 40 + k);
		fb_str(b, "compatible", "virtio,mmio");
		fb_end(b);
	}
	fb_end(b);
	fb_end(b);
}

static void other_board(void)
{
	static struct fb b;
	struct fdt_info i;
	for (uint32_t version = 16; version <= 17; version++) {
		size_t len;
		build_board(&b);
		uint8_t *c = fb_blob(&b, version, &len);
		CHECK_EQ(fdt_parse(c, len, &i), 0);
		CHECK_EQ(i.mem_base, 0x40000000u);
		CHECK_EQ(i.mem_size, 0x2000000u);
		CHECK_EQ(i.timebase_hz, 1000000u);
		CHECK_EQ(i.ncpus, 3);
		CHECK_EQ(i.plic_base, 0xd000000u);
		CHECK_EQ(i.plic_ndev, 31);
		CHECK_EQ(i.clint_base, 0);
		CHECK_EQ(i.test_base, 0x100002000u);
		CHECK_EQ(i.uart_base, 0x9000u);
		CHECK_EQ(i.uart_irq, 33);
		CHECK_EQ(i.nvirtio, FDT_MAX_VIRTIO);
		CHECK_EQ(i.virtio[7].base, 0x20007000u);
		CHECK_EQ(i.virtio[7].irq, 47);
		CHECK_EQ(strlen(i.bootargs), sizeof i.bootargs - 1);
		CHECK_EQ(i.bootargs[0], 'a');
		free(c);
	}
}

/* Nesting: 16 levels parse, 17 do not. */
static void depth_limit(void)
{
	static struct fb b;
	struct fdt_info i;
	for (int levels = 15; levels <= 17; levels++) {
		size_t len;
		memset(&b, 0, sizeof b);
		for (int d = 0; d < levels; d++)
			fb_begin(&b, d ? "n" : "");
		for (int d = 0; d < levels; d++)
			fb_end(&b);
		uint8_t *c = fb_blob(&b, 17, &len);
		CHECK_EQ(fdt_parse(c, len, &i), levels <= 16 ? 0 : FDT_E_STRUCT);
		free(c);
	}
}

/* The node structure itself must be sound. */
static void bad_nesting(void)
{
	static struct fb b;
	struct fdt_info i;
	size_t len;
	uint8_t *c;

	memset(&b, 0, sizeof b); /* no root at all */
	c = fb_blob(&b, 17, &len);
	CHECK_EQ(fdt_parse(c, len, &i), FDT_E_STRUCT);
	free(c);

	memset(&b, 0, sizeof b); /* two roots */
	fb_begin(&b, "");
	fb_end(&b);
	fb_begin(&b, "");
	fb_end(&b);
	c = fb_blob(&b, 17, &len);
	CHECK_EQ(fdt_parse(c, len, &i), FDT_E_STRUCT);
	free(c);

	memset(&b, 0, sizeof b); /* root never closed */
	fb_begin(&b, "");
	fb_begin(&b, "a");
	fb_end(&b);
	c = fb_blob(&b, 17, &len);
	CHECK_EQ(fdt_parse(c, len, &i), FDT_E_STRUCT);
	free(c);

	memset(&b, 0, sizeof b); /* one END_NODE too many */
	fb_begin(&b, "");
	fb_end(&b);
	fb_end(&b);
	c = fb_blob(&b, 17, &len);
	CHECK_EQ(fdt_parse(c, len, &i), FDT_E_STRUCT);
	free(c);

	memset(&b, 0, sizeof b); /* a property before the root */
	fb_cell(&b, "x", 1);
	fb_begin(&b, "");
	fb_end(&b);
	c = fb_blob(&b, 17, &len);
	CHECK_EQ(fdt_parse(c, len, &i), FDT_E_STRUCT);
	free(c);

	memset(&b, 0, sizeof b); /* NOPs are fine anywhere */
	fb_u32(&b, 4);
	fb_begin(&b, "");
	fb_u32(&b, 4);
	fb_end(&b);
	fb_u32(&b, 4);
	c = fb_blob(&b, 17, &len);
	CHECK_EQ(fdt_parse(c, len, &i), 0);
	free(c);
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
	TEST(block_at_end);
	TEST(block_at_end_mutations);
	TEST(other_board);
	TEST(depth_limit);
	TEST(bad_nesting);
	free(blob);
	DONE("fdt");
}
