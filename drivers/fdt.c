/*
 * Device tree reader. The blob is untrusted until proven otherwise: the
 * header is checked against the limit first, then every token, length and
 * name offset against the block it lives in, before any byte is read.
 * One pass over the structure block; a node is classified at its end,
 * when all of its properties have been seen.
 */
#include <string.h>
#include "fdt.h"

#define FDT_MAGIC 0xd00dfeed
#define TOK_BEGIN 1
#define TOK_END 2
#define TOK_PROP 3
#define TOK_NOP 4
#define TOK_FINISH 9
#define MAX_DEPTH 16

struct node {
	const uint8_t *name, *compat, *type;
	uint32_t name_len, compat_len, type_len, off;
	uint64_t reg_addr, reg_size;
	uint32_t irq, timebase, phandle;
	uint8_t has_reg, disabled;
	uint32_t addr_cells, size_cells; /* for this node's children */
};

struct walk {
	const uint8_t *s;     /* structure block */
	uint32_t slen, pos;
	const uint8_t *str;   /* strings block */
	uint32_t strlen;
};

uint32_t fdt_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
#define be32 fdt_be32

static int take32(struct walk *w, uint32_t *v)
{
	if (w->slen - w->pos < 4)
		return -1;
	*v = be32(w->s + w->pos);
	w->pos += 4;
	return 0;
}

static int skip(struct walk *w, uint32_t n)
{
	uint32_t padded = (n + 3) & ~3u;
	if (padded < n || w->slen - w->pos < padded)
		return -1;
	w->pos += padded;
	return 0;
}

/* The length of the NUL-terminated string at p, which must end before end. */
static int str_len(const uint8_t *p, const uint8_t *end, uint32_t *len)
{
	const uint8_t *z = memchr(p, 0, (size_t)(end - p));
	if (!z)
		return -1;
	*len = (uint32_t)(z - p);
	return 0;
}

static int has_string(const uint8_t *list, uint32_t len, const char *want)
{
	size_t n = strlen(want);
	for (uint32_t i = 0; i < len;) {
		const uint8_t *z = memchr(list + i, 0, len - i);
		uint32_t l = z ? (uint32_t)(z - (list + i)) : len - i;
		if (l == n && !memcmp(list + i, want, n))
			return 1;
		i += l + 1;
	}
	return 0;
}

static int name_is(const struct node *n, const char *base)
{
	size_t l = strlen(base);
	return n->name_len >= l && !memcmp(n->name, base, l) &&
	       (n->name_len == l || n->name[l] == '@');
}

uint64_t fdt_cells(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < n; i++)
		v = v << 32 | be32(p + 4 * i);
	return v;
}

/* A property value copied as a C string into a fixed buffer, truncated. */
static void copy_str(char *dst, size_t cap, const uint8_t *v, uint32_t len)
{
	uint32_t l = len < cap ? len : (uint32_t)cap - 1;
	memcpy(dst, v, l);
	dst[l] = 0;
}

static void property(struct node *n, const struct node *parent, const char *name,
		     const uint8_t *v, uint32_t len, struct fdt_info *out, int depth)
{
	if (!strcmp(name, "compatible")) {
		n->compat = v;
		n->compat_len = len;
	} else if (!strcmp(name, "device_type")) {
		n->type = v;
		n->type_len = len;
	} else if (!strcmp(name, "reg") && parent) {
		uint32_t ac = parent->addr_cells, sc = parent->size_cells;
		if (ac <= 2 && sc <= 2 && len >= 4 * (ac + sc)) {
			n->reg_addr = fdt_cells(v, ac);
			n->reg_size = fdt_cells(v + 4 * ac, sc);
			n->has_reg = 1;
		}
	} else if (!strcmp(name, "interrupts") && len >= 4) {
		n->irq = be32(v);
	} else if (!strcmp(name, "phandle") && len == 4) {
		n->phandle = be32(v);
	} else if (!strcmp(name, "status")) {
		n->disabled = !(len >= 4 && !memcmp(v, "okay", 4) && (len == 4 || !v[4])) &&
			      !(len >= 2 && !memcmp(v, "ok", 2) && (len == 2 || !v[2]));
	} else if (!strcmp(name, "#address-cells") && len == 4) {
		n->addr_cells = be32(v);
	} else if (!strcmp(name, "#size-cells") && len == 4) {
		n->size_cells = be32(v);
	} else if (!strcmp(name, "timebase-frequency") && len == 4) {
		n->timebase = be32(v);
	} else if (depth == 1 && name_is(n, "chosen")) {
		if (!strcmp(name, "bootargs"))
			copy_str(out->bootargs, sizeof out->bootargs, v, len);
		else if (!strcmp(name, "stdout-path"))
			copy_str(out->stdout_path, sizeof out->stdout_path, v, len);
	}
}

/* At a node's end, when all of its properties have been seen. */
static void classify(const struct node *stack, int depth, struct fdt_info *out)
{
	const struct node *n = &stack[depth];
	const struct node *parent = depth ? &stack[depth - 1] : NULL;
	int in_cpus = depth == 2 && name_is(parent, "cpus");
	if (depth == 1 && name_is(n, "cpus") && n->timebase)
		out->timebase_hz = n->timebase;
	if (in_cpus && n->timebase && !out->timebase_hz)
		out->timebase_hz = n->timebase;
	/* A hart's interrupt controller closes before the hart does. */
	if (depth == 3 && name_is(&stack[1], "cpus") && name_is(parent, "cpu") &&
	    n->compat && has_string(n->compat, n->compat_len, "riscv,cpu-intc") &&
	    out->ncpus < FDT_MAX_CPUS)
		out->cpu[out->ncpus].intc = n->phandle;
	if (in_cpus && name_is(n, "cpu")) {
		if (out->ncpus < FDT_MAX_CPUS)
			out->cpu[out->ncpus].hartid = (uint32_t)n->reg_addr;
		out->ncpus++;
	}
	if (depth == 1 && !out->mem_size && n->has_reg &&
	    (name_is(n, "memory") || (n->type && has_string(n->type, n->type_len, "memory")))) {
		out->mem_base = n->reg_addr;
		out->mem_size = n->reg_size;
	}
	if (depth == 1 && name_is(n, "aliases"))
		out->aliases = n->off + 1;
	if (!n->compat || in_cpus || (depth == 3 && name_is(&stack[1], "cpus")))
		return;
	if (out->ndev >= FDT_MAX_DEVS) {
		out->ndev_dropped++;
		return;
	}
	out->dev[out->ndev++] = (struct fdt_dev){
		.compat = n->compat, .compat_len = n->compat_len, .name = n->name,
		.name_len = n->name_len, .node = n->off, .phandle = n->phandle,
		.base = n->reg_addr, .size = n->reg_size, .irq = n->irq,
		.has_reg = n->has_reg, .disabled = n->disabled,
		.parent_ac = parent ? parent->addr_cells : 2,
	};
}

static int walk(struct walk *w, struct fdt_info *out)
{
	struct node stack[MAX_DEPTH];
	int depth = -1, seen_root = 0;
	for (;;) {
		uint32_t tok;
		if (take32(w, &tok))
			return FDT_E_STRUCT;
		if (tok == TOK_BEGIN) {
			if (depth < 0 && seen_root)
				return FDT_E_STRUCT; /* a second root */
			seen_root = 1;
			if (++depth >= MAX_DEPTH)
				return FDT_E_STRUCT;
			struct node *n = &stack[depth];
			memset(n, 0, sizeof *n);
			n->addr_cells = 2;
			n->size_cells = 1;
			n->off = w->pos - 4;
			n->name = w->s + w->pos;
			if (str_len(n->name, w->s + w->slen, &n->name_len) || skip(w, n->name_len + 1))
				return FDT_E_STRUCT;
		} else if (tok == TOK_END) {
			if (depth < 0)
				return FDT_E_STRUCT;
			classify(stack, depth, out);
			depth--;
		} else if (tok == TOK_PROP) {
			uint32_t len, nameoff, nlen;
			if (depth < 0 || take32(w, &len) || take32(w, &nameoff))
				return FDT_E_STRUCT;
			const uint8_t *v = w->s + w->pos;
			if (skip(w, len))
				return FDT_E_STRUCT;
			if (nameoff >= w->strlen ||
			    str_len(w->str + nameoff, w->str + w->strlen, &nlen))
				return FDT_E_STRINGS;
			property(&stack[depth], depth ? &stack[depth - 1] : NULL,
				 (const char *)w->str + nameoff, v, len, out, depth);
		} else if (tok == TOK_FINISH) {
			return depth == -1 && seen_root ? 0 : FDT_E_STRUCT;
		} else if (tok != TOK_NOP) {
			return FDT_E_STRUCT;
		}
	}
}

int fdt_parse(const void *blob, size_t limit, struct fdt_info *out)
{
	const uint8_t *b = blob;
	if (!out)
		return FDT_E_MAGIC;
	memset(out, 0, sizeof *out);
	if (!b || limit < 40)
		return FDT_E_MAGIC;
	if (be32(b) != FDT_MAGIC)
		return FDT_E_MAGIC;
	uint32_t total = be32(b + 4), off_struct = be32(b + 8), off_str = be32(b + 12);
	uint32_t version = be32(b + 20), last_comp = be32(b + 24);
	uint32_t size_str = be32(b + 32), size_struct = be32(b + 36);
	if (version < 16 || last_comp > 17)
		return FDT_E_VERSION;
	if (version < 17) /* no size_dt_struct field yet */
		size_struct = total > off_struct ? total - off_struct : 0;
	if (total > limit || total < 40 || off_struct > total || size_struct > total - off_struct ||
	    off_str > total || size_str > total - off_str || (off_struct & 3))
		return FDT_E_HEADER;
	struct walk w = {b + off_struct, size_struct, 0, b + off_str, size_str};
	int err = walk(&w, out);
	if (err) {
		memset(out, 0, sizeof *out);
		return err;
	}
	out->st = w.s;
	out->st_len = w.slen;
	out->str = w.str;
	out->str_len = w.strlen;
	return 0;
}

const char *fdt_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case FDT_E_MAGIC: return "no device tree (bad magic)";
	case FDT_E_HEADER: return "corrupt header";
	case FDT_E_VERSION: return "unsupported version";
	case FDT_E_STRUCT: return "corrupt structure block";
	case FDT_E_STRINGS: return "corrupt strings block";
	default: return "unknown error";
	}
}

int fdt_is_compatible(const struct fdt_dev *d, const char *compat)
{
	return d && d->compat && has_string(d->compat, d->compat_len, compat);
}

const struct fdt_dev *fdt_find(const struct fdt_info *fi, const char *compat,
			       const struct fdt_dev *after)
{
	unsigned i = after ? (unsigned)(after - fi->dev) + 1 : 0;
	for (; i < fi->ndev; i++)
		if (!fi->dev[i].disabled && fdt_is_compatible(&fi->dev[i], compat))
			return &fi->dev[i];
	return NULL;
}

/* The walk that fdt_parse checked, again, over one node's properties. */
static const uint8_t *node_prop(const struct fdt_info *fi, uint32_t node, const char *name,
				uint32_t *len)
{
	if (!fi->st)
		return NULL;
	struct walk w = {fi->st, fi->st_len, node, fi->str, fi->str_len};
	uint32_t tok, nlen;
	if (take32(&w, &tok) || tok != TOK_BEGIN ||
	    str_len(w.s + w.pos, w.s + w.slen, &nlen) || skip(&w, nlen + 1))
		return NULL;
	while (!take32(&w, &tok)) {
		if (tok == TOK_NOP)
			continue;
		uint32_t l, nameoff;
		if (tok != TOK_PROP || take32(&w, &l) || take32(&w, &nameoff))
			return NULL;
		const uint8_t *v = w.s + w.pos;
		if (skip(&w, l) || nameoff >= w.strlen ||
		    str_len(w.str + nameoff, w.str + w.strlen, &nlen))
			return NULL;
		if (!strcmp((const char *)w.str + nameoff, name)) {
			*len = l;
			return v;
		}
	}
	return NULL;
}

const uint8_t *fdt_prop(const struct fdt_info *fi, const struct fdt_dev *d, const char *name,
			uint32_t *len)
{
	return d ? node_prop(fi, d->node, name, len) : NULL;
}

int fdt_irq_context(const struct fdt_info *fi, const struct fdt_dev *d, uint32_t hartid,
		    uint32_t cause)
{
	uint32_t len, intc = 0;
	const uint8_t *v = fdt_prop(fi, d, "interrupts-extended", &len);
	unsigned ncpu = fi->ncpus < FDT_MAX_CPUS ? fi->ncpus : FDT_MAX_CPUS;
	for (unsigned i = 0; i < ncpu; i++)
		if (fi->cpu[i].hartid == hartid)
			intc = fi->cpu[i].intc;
	if (!v || !intc)
		return -1;
	/* A riscv,cpu-intc has one interrupt cell: (phandle, cause) pairs. */
	for (uint32_t i = 0; i + 8 <= len; i += 8)
		if (be32(v + i) == intc && be32(v + i + 4) == cause)
			return (int)(i / 8);
	return -1;
}

/* A full path, or an alias (stdout-path = "serial0:115200n8", as real
 * boards' trees say) looked up in /aliases. */
const struct fdt_dev *fdt_by_path(const struct fdt_info *fi, const char *path)
{
	char alias[32];
	size_t an = strcspn(path, ":");
	uint32_t len;
	const uint8_t *v;
	if (path[0] != '/' && an && an < sizeof alias && fi->aliases) {
		memcpy(alias, path, an);
		alias[an] = 0;
		v = node_prop(fi, fi->aliases - 1, alias, &len);
		if (!v || !len || v[len - 1] || v[0] != '/')
			return NULL;
		path = (const char *)v;
	}
	const char *last = strrchr(path, '/');
	if (!last || !last[1])
		return NULL;
	last++;
	size_t n = strcspn(last, ":");
	for (unsigned i = 0; i < fi->ndev; i++)
		if (fi->dev[i].name_len == n && !memcmp(fi->dev[i].name, last, n))
			return &fi->dev[i];
	return NULL;
}
