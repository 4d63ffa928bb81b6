/* Device tree reader: QEMU's own blobs (virt, sifive_u) parse to their
 * known layouts as seen through the generic API (fdt_find, fdt_prop,
 * fdt_irq_context, fdt_by_path); every truncation and thousands of
 * mutations fail cleanly, and every lookup on a hostile blob that still
 * parses stays inside it (ASan checks that nothing outside is read).
 *
 * dev[].compat and dev[].name, and whatever fdt_prop returns, point into
 * the parsed blob: every check that reads them runs before the blob is
 * freed. After a failed parse only the zeroed fields are looked at. */
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

static uint8_t *blob, *su;   /* virt.dtb, sifive_u.dtb */
static size_t blob_len, su_len;

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- what a driver asks, as small helpers ---- */

/* The first enabled device compatible with compat, and its facts; 0 (or
 * -1 for an irq) when there is none, so a missing node fails the check. */
static uint64_t base_of(const struct fdt_info *i, const char *compat)
{
	const struct fdt_dev *d = fdt_find(i, compat, NULL);
	return d && d->has_reg ? d->base : 0;
}

static long irq_of(const struct fdt_info *i, const char *compat)
{
	const struct fdt_dev *d = fdt_find(i, compat, NULL);
	return d ? (long)d->irq : -1;
}

static unsigned count(const struct fdt_info *i, const char *compat)
{
	unsigned n = 0;
	for (const struct fdt_dev *d = NULL; (d = fdt_find(i, compat, d)) != NULL;)
		n++;
	return n;
}

/* The n-th (from 0) enabled device compatible with compat, or NULL. */
static const struct fdt_dev *nth(const struct fdt_info *i, const char *compat, unsigned n)
{
	const struct fdt_dev *d = fdt_find(i, compat, NULL);
	while (d && n--)
		d = fdt_find(i, compat, d);
	return d;
}

/* A one-cell property, or -1 if absent or not one cell long. */
static long long prop_u32(const struct fdt_info *i, const struct fdt_dev *d, const char *name)
{
	uint32_t len = 0;
	const uint8_t *v = fdt_prop(i, d, name, &len);
	return v && len == 4 ? (long long)get_be32(v) : -1;
}

/* Does [p, p + n) lie inside [lo, hi)? */
static int inside(const uint8_t *p, size_t n, const uint8_t *lo, const uint8_t *hi)
{
	return p >= lo && p <= hi && n <= (size_t)(hi - p);
}

/*
 * Every lookup a driver could make, on every device of a blob that
 * parsed, however hostile: names, compatible lists and property values
 * must lie inside the structure block, and each is read whole so that
 * ASan sees an overrun past the buffer. fdt_irq_context may only name a
 * pair that is wholly inside interrupts-extended. Returns the number of
 * violations; call it while the blob is still allocated.
 */
static volatile unsigned sink;

static int probe_all(const struct fdt_info *i)
{
	static const char *const names[] = {
		"compatible", "reg", "interrupts", "interrupts-extended", "riscv,ndev",
		"status", "phandle", "local-mac-address", "no-such-property", "",
	};
	const uint8_t *lo = i->st, *hi = i->st + i->st_len;
	unsigned ncpu = i->ncpus < FDT_MAX_CPUS ? i->ncpus : FDT_MAX_CPUS;
	int bad = i->ndev > FDT_MAX_DEVS;
	for (unsigned k = 0; k < i->ndev && k < FDT_MAX_DEVS; k++) {
		const struct fdt_dev *d = &i->dev[k];
		/* the name is NUL-terminated inside the block */
		bad += !inside(d->name, (size_t)d->name_len + 1, lo, hi);
		bad += !inside(d->compat, d->compat_len, lo, hi);
		sink += (unsigned)fdt_is_compatible(d, "virtio,mmio");
		for (unsigned n = 0; n < sizeof names / sizeof names[0]; n++) {
			uint32_t len = 0;
			const uint8_t *v = fdt_prop(i, d, names[n], &len);
			if (!v)
				continue;
			bad += !inside(v, len, lo, hi);
			for (uint32_t b = 0; b < len; b++)
				sink += v[b];
		}
		uint32_t ie_len = 0;
		const uint8_t *ie = fdt_prop(i, d, "interrupts-extended", &ie_len);
		for (unsigned c = 0; c < ncpu; c++)
			for (uint32_t cause = 9; cause <= 11; cause += 2) {
				int r = fdt_irq_context(i, d, i->cpu[c].hartid, cause);
				bad += r < -1 || (r >= 0 && (!ie || ie_len / 8 <= (uint32_t)r));
			}
	}
	bad += count(i, "virtio,mmio") > i->ndev;
	const struct fdt_dev *d = fdt_by_path(i, i->stdout_path);
	bad += d && (d < i->dev || d >= i->dev + i->ndev);
	return bad;
}

/* Nothing left behind by a failed parse. */
static int zeroed(const struct fdt_info *i)
{
	return !i->ndev && !i->ndev_dropped && !i->ncpus && !i->mem_size && !i->bootargs[0] &&
	       !i->stdout_path[0] && !i->st && !i->str;
}

/* Parse exactly len bytes copied into a buffer of that size; if it parses,
 * probe every device (probe_all, adding to *bad) before the copy is freed. */
static int parse_copy(const uint8_t *b, size_t len, struct fdt_info *out, int *bad)
{
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, b, len);
	int r = fdt_parse(c, len, out);
	if (r == 0)
		*bad += probe_all(out);
	else
		*bad += !zeroed(out);
	free(c);
	return r;
}

/* ---- QEMU's blobs ---- */

/* QEMU 7.2 virt with 'cpus' harts and 'mem' bytes (see
 * test/fixtures/README.md; `dtc -I dtb -O dts` shows the same). */
static void check_virt(const struct fdt_info *i, uint64_t mem, unsigned cpus)
{
	CHECK_EQ(i->mem_base, 0x80000000u);
	CHECK_EQ(i->mem_size, mem);
	CHECK_EQ(i->timebase_hz, 10000000u);
	CHECK_EQ(i->ncpus, cpus);
	CHECK_EQ(i->ndev_dropped, 0);

	/* the console is the one /chosen names */
	CHECK(!strcmp(i->stdout_path, "/soc/serial@10000000"));
	const struct fdt_dev *uart = fdt_by_path(i, i->stdout_path);
	CHECK(uart != NULL);
	if (uart) {
		CHECK(fdt_is_compatible(uart, "ns16550a"));
		CHECK_EQ(uart->base, 0x10000000u);
		CHECK_EQ(uart->irq, 10);
		CHECK(uart == fdt_find(i, "ns16550a", NULL));
	}

	const struct fdt_dev *plic = fdt_find(i, "riscv,plic0", NULL);
	CHECK(plic != NULL);
	if (plic) {
		CHECK(fdt_is_compatible(plic, "sifive,plic-1.0.0"));
		CHECK_EQ(plic->base, 0xc000000u);
		CHECK_EQ(prop_u32(i, plic, "riscv,ndev"), 96); /* QEMU 7.2 virt: 0x60 */
		/* virt gives each hart an M and an S context, in hart order */
		for (unsigned h = 0; h < cpus; h++) {
			CHECK_EQ(fdt_irq_context(i, plic, h, 11), 2 * h);
			CHECK_EQ(fdt_irq_context(i, plic, h, 9), 2 * h + 1);
			CHECK_EQ(fdt_irq_context(i, plic, h, 3), -1); /* M-soft: not a PLIC's */
		}
		CHECK_EQ(fdt_irq_context(i, plic, 5, 11), -1); /* no hart 5 */
		CHECK_EQ(fdt_irq_context(i, plic, cpus, 11), -1);
		/* ... and the context of hart h's intc is pair 2h */
		uint32_t len = 0;
		const uint8_t *ie = fdt_prop(i, plic, "interrupts-extended", &len);
		CHECK_EQ(len, 16 * cpus);
		for (unsigned h = 0; ie && h < cpus && 16 * h < len; h++) {
			CHECK_EQ(i->cpu[h].hartid, h);
			CHECK(i->cpu[h].intc != 0);
			CHECK_EQ(i->cpu[h].intc, get_be32(ie + 16 * h));
		}
	}

	CHECK_EQ(base_of(i, "riscv,clint0"), 0x2000000u);
	CHECK_EQ(base_of(i, "sifive,test1"), 0x100000u);
	CHECK_EQ(base_of(i, "sifive,test0"), 0x100000u); /* the same node */
	CHECK_EQ(count(i, "virtio,mmio"), 8);
	for (unsigned k = 0; k < 8; k++) {
		/* QEMU lists the slots from the top down */
		const struct fdt_dev *d = nth(i, "virtio,mmio", k);
		CHECK(d != NULL);
		if (!d)
			continue;
		CHECK_EQ(d->base, 0x10008000u - 0x1000u * k);
		CHECK_EQ(d->size, 0x1000u);
		CHECK_EQ(d->irq, 8 - k);
	}
	CHECK_EQ(probe_all(i), 0);
}

static void qemu_virt(void)
{
	struct fdt_info i;
	CHECK_EQ(fdt_parse(blob, blob_len, &i), 0);
	check_virt(&i, 128u << 20, 1);
	CHECK(!strcmp(i.bootargs, ""));
	CHECK_EQ(i.cpu[0].intc, 2); /* dtc: /cpus/cpu@0/interrupt-controller phandle */
	/* options after ':' do not belong to the node name */
	const struct fdt_dev *uart = fdt_by_path(&i, "/soc/serial@10000000:115200n8");
	CHECK(uart != NULL && uart->base == 0x10000000u);
	CHECK(fdt_by_path(&i, "/soc/serial@10000001") == NULL);
	CHECK(fdt_by_path(&i, "/soc/") == NULL);
	CHECK(fdt_by_path(&i, "") == NULL);
	CHECK(fdt_find(&i, "no,such-device", NULL) == NULL);
	CHECK(fdt_find(&i, "virtio", NULL) == NULL); /* whole strings only */
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
	for (unsigned h = 0; h < 4; h++) /* dtc: intc phandles 8, 6, 4, 2 */
		CHECK_EQ(i.cpu[h].intc, 8 - 2 * h);
	free(b);
}

/* QEMU 7.2 sifive_u: an E51 monitor hart (M-mode only) and a U54, SiFive
 * UARTs, a second reg entry on the GEM. */
static void qemu_sifive_u(void)
{
	struct fdt_info i;
	CHECK_EQ(fdt_parse(su, su_len, &i), 0);
	CHECK_EQ(i.mem_base, 0x80000000u);
	CHECK_EQ(i.mem_size, 128u << 20);
	CHECK_EQ(i.timebase_hz, 1000000u);
	CHECK_EQ(i.ncpus, 2);
	CHECK_EQ(i.cpu[0].hartid, 0);
	CHECK_EQ(i.cpu[0].intc, 4);
	CHECK_EQ(i.cpu[1].hartid, 1);
	CHECK_EQ(i.cpu[1].intc, 3);
	CHECK(!strcmp(i.bootargs, ""));
	CHECK_EQ(i.ndev_dropped, 0);

	CHECK(!strcmp(i.stdout_path, "/soc/serial@10010000"));
	const struct fdt_dev *uart = fdt_by_path(&i, i.stdout_path);
	CHECK(uart != NULL);
	if (uart) {
		CHECK(fdt_is_compatible(uart, "sifive,uart0"));
		CHECK_EQ(uart->base, 0x10010000u);
		CHECK_EQ(uart->size, 0x1000u);
		CHECK_EQ(uart->irq, 4);
		const struct fdt_dev *uart1 = fdt_find(&i, "sifive,uart0", uart);
		CHECK(uart1 != NULL && uart1->base == 0x10011000u && uart1->irq == 5);
		CHECK(uart1 && fdt_find(&i, "sifive,uart0", uart1) == NULL);
	}
	CHECK(fdt_find(&i, "ns16550a", NULL) == NULL);
	/* Nodes two levels under /soc (an SPI bus's children) are devices too:
	 * only the harts' interrupt controllers under /cpus are left out. */
	CHECK(fdt_find(&i, "jedec,spi-nor", NULL) != NULL);
	CHECK(fdt_find(&i, "mmc-spi-slot", NULL) != NULL);
	CHECK(fdt_find(&i, "riscv,cpu-intc", NULL) == NULL);

	const struct fdt_dev *plic = fdt_find(&i, "riscv,plic0", NULL);
	CHECK(plic != NULL);
	if (plic) {
		CHECK_EQ(plic->base, 0xc000000u);
		CHECK_EQ(plic->size, 0x4000000u);
		CHECK_EQ(prop_u32(&i, plic, "riscv,ndev"), 53);
		/* interrupts-extended = <4 11  3 11  3 9> */
		CHECK_EQ(fdt_irq_context(&i, plic, 0, 11), 0);
		CHECK_EQ(fdt_irq_context(&i, plic, 0, 9), -1); /* the E51 has no S-mode */
		CHECK_EQ(fdt_irq_context(&i, plic, 1, 11), 1);
		CHECK_EQ(fdt_irq_context(&i, plic, 1, 9), 2);
		CHECK_EQ(fdt_irq_context(&i, plic, 2, 11), -1);
	}
	CHECK_EQ(base_of(&i, "riscv,clint0"), 0x2000000u);
	CHECK_EQ(base_of(&i, "sifive,test0"), 0); /* no test finisher on this board */
	CHECK_EQ(count(&i, "virtio,mmio"), 0);

	const struct fdt_dev *gem = fdt_find(&i, "sifive,fu540-c000-gem", NULL);
	CHECK(gem != NULL);
	if (gem) {
		CHECK_EQ(gem->base, 0x10090000u); /* the first of its two reg entries */
		CHECK_EQ(gem->size, 0x2000u);
		CHECK_EQ(gem->irq, 53);
		uint32_t len = 0;
		const uint8_t *mac = fdt_prop(&i, gem, "local-mac-address", &len);
		static const uint8_t want[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
		CHECK(mac != NULL);
		CHECK_EQ(len, 6);
		CHECK(mac && len == 6 && !memcmp(mac, want, 6));
		CHECK(fdt_prop(&i, gem, "no-such-property", &len) == NULL);
		/* a property of its child ethernet-phy@0 is not the GEM's */
		CHECK(fdt_prop(&i, gem, "phandle", &len) == NULL);
	}
	CHECK_EQ(irq_of(&i, "sifive,fu540-c000-ccache"), 1); /* the first of three cells */
	CHECK_EQ(probe_all(&i), 0);
}

/* ---- hostile blobs ---- */

static void truncations(const uint8_t *b, size_t len)
{
	struct fdt_info i;
	int failed = 0, bad = 0;
	for (size_t n = 0; n < len; n++) {
		/* the header claims totalsize > n: must be refused, never overread */
		if (parse_copy(b, n, &i, &bad) == 0)
			failed++;
	}
	CHECK_EQ(failed, 0);
	CHECK_EQ(parse_copy(b, len, &i, &bad), 0);
	CHECK_EQ(bad, 0);
}

static void every_truncation(void)
{
	truncations(blob, blob_len);
	truncations(su, su_len);
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
		CHECK(zeroed(&i));
		/* lookups on what is left are harmless */
		CHECK(fdt_find(&i, "ns16550a", NULL) == NULL);
		CHECK(fdt_by_path(&i, "/soc/serial@10000000") == NULL);
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

/* Random byte and word writes anywhere in a copy of exactly the blob's
 * size; whatever still parses is probed before the copy is freed. */
static void mutations(const uint8_t *b, size_t len, uint32_t seed)
{
	struct fdt_info i;
	int ok = 0, bad = 0;
	for (int k = 0; k < 4000; k++) {
		uint8_t *c = malloc(len);
		memcpy(c, b, len);
		for (int m = 0; m < 1 + k % 4; m++) {
			seed = seed * 1103515245 + 12345;
			size_t at = (seed >> 8) % len;
			if (k & 1)
				c[at] = (uint8_t)(seed >> 24);
			else if (at + 4 <= len)
				put_be32(c + at, seed);
		}
		int r = fdt_parse(c, len, &i);
		ok += r == 0;
		bad += r == 0 ? probe_all(&i) : !zeroed(&i);
		free(c);
	}
	CHECK(ok > 0); /* many mutations hit values only, and still parse */
	CHECK_EQ(bad, 0);
}

static void random_mutations(void)
{
	mutations(blob, blob_len, 12345);
	mutations(su, su_len, 4242);
}

static void null_and_tiny(void)
{
	struct fdt_info i;
	CHECK_EQ(fdt_parse(NULL, 1 << 20, &i), FDT_E_MAGIC);
	CHECK(zeroed(&i));
	CHECK_EQ(fdt_parse(blob, blob_len, NULL), FDT_E_MAGIC);
	CHECK(strcmp(fdt_strerror(FDT_E_STRUCT), "ok") != 0);
	CHECK(strcmp(fdt_strerror(-99), "ok") != 0);
	/* lookups without a blob or a device */
	uint32_t len = 0;
	CHECK(fdt_prop(&i, NULL, "reg", &len) == NULL);
	CHECK(fdt_prop(&i, &i.dev[0], "reg", &len) == NULL);
	CHECK_EQ(fdt_irq_context(&i, &i.dev[0], 0, 11), -1);
	CHECK(!fdt_is_compatible(NULL, "ns16550a"));
	CHECK(fdt_find(&i, "ns16550a", NULL) == NULL);
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
		CHECK_EQ(base_of(&i, "ns16550a"), 0x10000000u);
		CHECK_EQ(count(&i, "virtio,mmio"), 8);
		CHECK_EQ(prop_u32(&i, fdt_find(&i, "riscv,plic0", NULL), "riscv,ndev"), 96);
		CHECK_EQ(fdt_irq_context(&i, fdt_find(&i, "riscv,plic0", NULL), 0, 9), 1);
		CHECK_EQ(probe_all(&i), 0);
		free(c);
	}
	uint32_t st_len = get_be32(blob + 36), str_len = get_be32(blob + 32);
	int failed = 0;
	for (uint32_t k = 0; k < st_len; k++) { /* every cut of the struct block */
		uint8_t *c = relayout(1, k, &len);
		failed += fdt_parse(c, len, &i) != FDT_E_STRUCT || !zeroed(&i);
		free(c);
	}
	CHECK_EQ(failed, 0);
	for (uint32_t k = 0; k < str_len; k++) { /* every cut of the strings block */
		uint8_t *c = relayout(0, k, &len);
		int r = fdt_parse(c, len, &i);
		/* a cut that keeps every name in use may still parse: then it
		 * must say the same, and a property lookup (whose name is now
		 * the last thing in the buffer) must not overrun */
		if (r == 0)
			failed += count(&i, "virtio,mmio") != 8 || probe_all(&i);
		else
			failed += r != FDT_E_STRINGS || !zeroed(&i);
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
		bad += r == 0 ? probe_all(&i) : !zeroed(&i);
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
 * PLIC and UART (fdt_find gives the first), ten virtio slots, a long
 * command line, harts whose interrupt controllers are not riscv,cpu-intc. */
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
	fb_begin(b, "x@3000"); /* riscv,ndev outside a PLIC, no compatible: no device */
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

/* Real boards name the console by alias: stdout-path = "serial0:115200n8"
 * with /aliases/serial0 = "/soc/serial@9000". A broken alias finds nothing. */
static void stdout_alias(void)
{
	static struct fb b;
	struct fdt_info i;
	static const char *const paths[] = {"serial0:115200n8", "serial0", "serial1", "nosuch", ""};
	static const int found[] = {1, 1, 0, 0, 0};
	for (unsigned k = 0; k < sizeof paths / sizeof paths[0]; k++) {
		size_t len;
		memset(&b, 0, sizeof b);
		uint32_t reg[2] = {0x9000, 0x100};
		fb_begin(&b, "");
		fb_cell(&b, "#address-cells", 1);
		fb_cell(&b, "#size-cells", 1);
		fb_begin(&b, "aliases");
		fb_str(&b, "serial0", "/soc/serial@9000");
		fb_prop(&b, "serial1", "/soc/serial@9000", 4); /* not terminated */
		fb_end(&b);
		fb_begin(&b, "chosen");
		fb_str(&b, "stdout-path", paths[k]);
		fb_end(&b);
		fb_begin(&b, "soc");
		fb_cell(&b, "#address-cells", 1);
		fb_cell(&b, "#size-cells", 1);
		fb_begin(&b, "serial@9000");
		fb_str(&b, "compatible", "ns16550a");
		fb_cells(&b, "reg", 2, reg);
		fb_end(&b);
		fb_end(&b);
		fb_end(&b);
		uint8_t *c = fb_blob(&b, 17, &len);
		CHECK_EQ(fdt_parse(c, len, &i), 0);
		const struct fdt_dev *d = fdt_by_path(&i, i.stdout_path);
		CHECK_EQ(d != NULL, found[k]);
		if (d && found[k])
			CHECK_EQ(d->base, 0x9000u);
		free(c);
	}
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
		CHECK_EQ(i.mem_base, 0x40000000u); /* the first memory node */
		CHECK_EQ(i.mem_size, 0x2000000u);
		CHECK_EQ(i.timebase_hz, 1000000u);
		CHECK_EQ(i.ncpus, 3);
		/* 2 PLICs, the finisher, 2 UARTs, 10 virtio: all listed */
		CHECK_EQ(i.ndev, 15);
		CHECK_EQ(i.ndev_dropped, 0);

		const struct fdt_dev *plic = fdt_find(&i, "riscv,plic0", NULL);
		CHECK(plic != NULL && plic->base == 0xd000000u);
		CHECK_EQ(prop_u32(&i, plic, "riscv,ndev"), 31);
		CHECK(fdt_is_compatible(plic, "vendor,x"));
		const struct fdt_dev *plic2 = fdt_find(&i, "riscv,plic0", plic);
		CHECK(plic2 != NULL && plic2->base == 0x4000u);
		CHECK_EQ(prop_u32(&i, plic2, "riscv,ndev"), 32);
		/* no interrupts-extended, and no hart has a riscv,cpu-intc */
		CHECK_EQ(fdt_irq_context(&i, plic, 0, 11), -1);
		for (unsigned h = 0; h < 3; h++)
			CHECK_EQ(i.cpu[h].intc, 0);
		/* the node with riscv,ndev but no compatible is not a device */
		CHECK(fdt_by_path(&i, "/soc/x@3000") == NULL);

		CHECK_EQ(base_of(&i, "riscv,clint0"), 0);
		/* plain "syscon" is not a test finisher now; it is listed, with
		 * its two-cell address */
		CHECK_EQ(base_of(&i, "sifive,test0"), 0);
		CHECK_EQ(base_of(&i, "syscon"), 0x100002000u);

		CHECK_EQ(base_of(&i, "ns16550a"), 0x9000u);
		CHECK_EQ(irq_of(&i, "ns16550a"), 33);
		const struct fdt_dev *uart2 = nth(&i, "ns16550a", 1);
		CHECK(uart2 != NULL && uart2->base == 0x3000u && uart2->irq == 0);
		CHECK(fdt_by_path(&i, i.stdout_path) == NULL); /* no stdout-path */

		CHECK_EQ(count(&i, "virtio,mmio"), 10);
		for (unsigned k = 0; k < 10; k++) {
			const struct fdt_dev *d = nth(&i, "virtio,mmio", k);
			CHECK(d != NULL && d->base == 0x20000000u + 0x1000u * k && d->irq == 40 + k);
		}
		CHECK_EQ(strlen(i.bootargs), sizeof i.bootargs - 1);
		CHECK_EQ(i.bootargs[0], 'a');
		CHECK_EQ(probe_all(&i), 0);
		free(c);
	}
}

/* More compatible nodes than FDT_MAX_DEVS: the first ones are kept in
 * blob order, the rest counted; disabled ones are kept but not found. */
#define MANY 60
_Static_assert(FDT_MAX_DEVS < MANY, "the test needs more nodes than dev[] holds");

static void many_devices(void)
{
	static struct fb b;
	struct fdt_info i;
	size_t len;
	memset(&b, 0, sizeof b);
	fb_begin(&b, "");
	fb_cell(&b, "#address-cells", 1);
	fb_cell(&b, "#size-cells", 1);
	for (uint32_t k = 0; k < MANY; k++) {
		uint32_t r[2] = {0x1000 * k, 0x100};
		fb_begin(&b, "d");
		fb_str(&b, "compatible", "x,dev");
		fb_cells(&b, "reg", 2, r);
		if (k % 10 == 0)
			fb_str(&b, "status", "disabled");
		else if (k % 10 == 1)
			fb_str(&b, "status", "okay");
		fb_end(&b);
	}
	fb_end(&b);
	uint8_t *c = fb_blob(&b, 17, &len);
	CHECK_EQ(fdt_parse(c, len, &i), 0);
	CHECK_EQ(i.ndev, FDT_MAX_DEVS);
	CHECK_EQ(i.ndev_dropped, MANY - FDT_MAX_DEVS);
	unsigned disabled = 0;
	for (unsigned k = 0; k < i.ndev; k++) {
		CHECK_EQ(i.dev[k].base, 0x1000u * k);
		CHECK_EQ(i.dev[k].disabled, k % 10 == 0);
		disabled += k % 10 == 0;
	}
	CHECK_EQ(count(&i, "x,dev"), FDT_MAX_DEVS - disabled);
	CHECK(fdt_find(&i, "x,dev", NULL) == &i.dev[1]);
	CHECK_EQ(prop_u32(&i, &i.dev[FDT_MAX_DEVS - 1], "reg"), -1); /* two cells */
	CHECK_EQ(probe_all(&i), 0);
	free(c);
}

/*
 * fdt_irq_context reads only whole (phandle, cause) pairs. Each odd-sized
 * interrupts-extended is followed in the struct block by a token: END_NODE
 * (2) or PROP (3). A reader that took the trailing cell as the start of a
 * pair would read that token as its cause and find (intc, 2) or (intc, 3).
 */
static void irq_context_pairs(void)
{
	static struct fb b;
	struct fdt_info i;
	size_t len;
	static const uint32_t odd[] = {5, 11, 6}; /* 12 bytes: one pair and a half */
	memset(&b, 0, sizeof b);
	fb_begin(&b, "");
	fb_begin(&b, "cpus");
	fb_cell(&b, "#address-cells", 1);
	fb_cell(&b, "#size-cells", 0);
	for (uint32_t h = 0; h < 2; h++) {
		fb_begin(&b, h ? "cpu@1" : "cpu@0");
		fb_cell(&b, "reg", h);
		fb_begin(&b, "interrupt-controller");
		fb_str(&b, "compatible", "riscv,cpu-intc");
		fb_cell(&b, "phandle", 5 + h);
		fb_end(&b);
		fb_end(&b);
	}
	fb_end(&b);
	fb_begin(&b, "a"); /* odd length, then END_NODE */
	fb_str(&b, "compatible", "x,a");
	fb_cells(&b, "interrupts-extended", 3, odd);
	fb_end(&b);
	fb_begin(&b, "b"); /* odd length, then PROP */
	fb_str(&b, "compatible", "x,b");
	fb_cells(&b, "interrupts-extended", 3, odd);
	fb_cell(&b, "riscv,ndev", 1);
	fb_end(&b);
	fb_begin(&b, "c"); /* half a pair only */
	fb_str(&b, "compatible", "x,c");
	fb_cells(&b, "interrupts-extended", 1, odd + 2);
	fb_end(&b);
	fb_begin(&b, "d"); /* empty */
	fb_str(&b, "compatible", "x,d");
	fb_prop(&b, "interrupts-extended", "", 0);
	fb_end(&b);
	fb_begin(&b, "e"); /* none at all */
	fb_str(&b, "compatible", "x,e");
	fb_end(&b);
	fb_end(&b);
	uint8_t *c = fb_blob(&b, 17, &len);
	CHECK_EQ(fdt_parse(c, len, &i), 0);
	CHECK_EQ(i.ncpus, 2);
	CHECK_EQ(i.cpu[0].intc, 5);
	CHECK_EQ(i.cpu[1].intc, 6);
	CHECK_EQ(i.ndev, 5); /* the harts' controllers are not devices */
	const struct fdt_dev *a = fdt_find(&i, "x,a", NULL), *bb = fdt_find(&i, "x,b", NULL);
	const struct fdt_dev *cc = fdt_find(&i, "x,c", NULL), *d = fdt_find(&i, "x,d", NULL);
	const struct fdt_dev *e = fdt_find(&i, "x,e", NULL);
	CHECK(a && bb && cc && d && e);
	uint32_t l = 0;
	CHECK(fdt_prop(&i, a, "interrupts-extended", &l) != NULL && l == 12);
	CHECK_EQ(fdt_irq_context(&i, a, 0, 11), 0);  /* the whole pair */
	CHECK_EQ(fdt_irq_context(&i, a, 1, 2), -1);  /* 6, then END_NODE */
	CHECK_EQ(fdt_irq_context(&i, a, 1, 11), -1);
	CHECK_EQ(fdt_irq_context(&i, bb, 0, 11), 0);
	CHECK_EQ(fdt_irq_context(&i, bb, 1, 3), -1); /* 6, then PROP */
	CHECK_EQ(prop_u32(&i, bb, "riscv,ndev"), 1); /* and the walk goes on past it */
	CHECK_EQ(fdt_irq_context(&i, cc, 1, 2), -1);
	CHECK_EQ(fdt_irq_context(&i, d, 0, 11), -1);
	CHECK_EQ(fdt_irq_context(&i, e, 0, 11), -1);
	CHECK_EQ(fdt_irq_context(&i, a, 2, 11), -1); /* no such hart */
	CHECK_EQ(probe_all(&i), 0);
	free(c);
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
	su = load("test/fixtures/sifive_u.dtb", &su_len);
	if (!blob || !su) {
		printf("fdt: cannot read test/fixtures/*.dtb (run from the repo root)\n");
		return 1;
	}
	TEST(qemu_virt);
	TEST(qemu_smp4_bootargs);
	TEST(qemu_sifive_u);
	TEST(every_truncation);
	TEST(header_lies);
	TEST(bad_structure);
	TEST(deep_nesting);
	TEST(random_mutations);
	TEST(null_and_tiny);
	TEST(block_at_end);
	TEST(block_at_end_mutations);
	TEST(other_board);
	TEST(stdout_alias);
	TEST(many_devices);
	TEST(irq_context_pairs);
	TEST(depth_limit);
	TEST(bad_nesting);
	free(blob);
	free(su);
	DONE("fdt");
}
