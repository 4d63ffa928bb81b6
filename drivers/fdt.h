/* A bounds-checked reader of the flattened device tree the boot loader
 * hands over in a1. It knows no device: it lists every node that has a
 * `compatible` (with its first reg entry and interrupt), the harts, the
 * memory and /chosen; drivers pick their nodes by compatible string and
 * read any other property through fdt_prop. Portable: also built on the
 * host for its tests and its fuzzer. */
#ifndef DRIVERS_FDT_H
#define DRIVERS_FDT_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define FDT_MAX_DEVS CFG_FDT_DEVS
#define FDT_MAX_CPUS CFG_FDT_CPUS

struct fdt_dev {
	const uint8_t *compat; /* NUL-separated list, inside the blob */
	const uint8_t *name;   /* node name (not terminated), inside the blob */
	uint32_t compat_len, name_len;
	uint32_t node;         /* offset of the node in the structure block */
	uint32_t phandle;      /* 0 if none */
	uint64_t base, size;   /* first reg entry; has_reg says whether there is one */
	uint32_t irq;          /* first `interrupts` cell, 0 if none */
	uint32_t parent_ac;    /* #address-cells of the parent: the width of an address in ranges */
	uint8_t has_reg;
	uint8_t disabled;      /* status = "disabled" (or anything but "okay") */
};

struct fdt_cpu {
	uint32_t hartid; /* reg */
	uint32_t intc;   /* phandle of its riscv,cpu-intc child, 0 if none */
};

struct fdt_info {
	uint64_t mem_base, mem_size;   /* first memory node */
	uint32_t timebase_hz;          /* /cpus timebase-frequency */
	unsigned ncpus;                /* cpu nodes seen (cpu[] keeps the first FDT_MAX_CPUS) */
	struct fdt_cpu cpu[FDT_MAX_CPUS];
	struct fdt_dev dev[FDT_MAX_DEVS]; /* in blob order */
	unsigned ndev;
	unsigned ndev_dropped;         /* nodes past FDT_MAX_DEVS */
	char bootargs[256];            /* /chosen/bootargs, truncated, "" if absent */
	char stdout_path[64];          /* /chosen/stdout-path, "" if absent */
	uint32_t aliases;              /* /aliases node offset + 1; 0 if none */
	/* The validated blob, for fdt_prop: it must stay where it is. */
	const uint8_t *st, *str;
	uint32_t st_len, str_len;
};

enum {
	FDT_E_MAGIC = -1,     /* not a device tree */
	FDT_E_HEADER = -2,    /* sizes or offsets outside the blob */
	FDT_E_VERSION = -3,
	FDT_E_STRUCT = -4,    /* bad token, length or nesting */
	FDT_E_STRINGS = -5,   /* name offset outside, or unterminated */
};

/* limit: the most bytes that may be read from blob. 0, or FDT_E_*; on an
 * error *out is zeroed. */
int fdt_parse(const void *blob, size_t limit, struct fdt_info *out);
const char *fdt_strerror(int err);

/* Does d list compat among its compatible strings? */
int fdt_is_compatible(const struct fdt_dev *d, const char *compat);
/* The first enabled device after 'after' (NULL: from the start) that is
 * compatible with compat; NULL if none. */
const struct fdt_dev *fdt_find(const struct fdt_info *fi, const char *compat,
			       const struct fdt_dev *after);
/* A property of d's node: its value and length, or NULL if absent. */
const uint8_t *fdt_prop(const struct fdt_info *fi, const struct fdt_dev *d, const char *name,
			uint32_t *len);
/* The index of the (phandle, cause) pair in d's interrupts-extended that
 * names hart 'hartid' with interrupt cause 'cause' (11: M external, 9: S
 * external): a PLIC's context number. -1 if there is none. */
int fdt_irq_context(const struct fdt_info *fi, const struct fdt_dev *d, uint32_t hartid,
		    uint32_t cause);
/* The device a path names (its last component; options after ':'
 * ignored), or an alias of /aliases that holds such a path; NULL if
 * none. */
const struct fdt_dev *fdt_by_path(const struct fdt_info *fi, const char *path);
uint32_t fdt_be32(const uint8_t *p);
uint64_t fdt_cells(const uint8_t *p, uint32_t n); /* n (<= 2) big-endian cells */

#endif
