/* A bounds-checked reader of the flattened device tree the boot loader
 * hands over in a1. Portable: also built on the host for its tests. */
#ifndef DRIVERS_FDT_H
#define DRIVERS_FDT_H

#include <stddef.h>
#include <stdint.h>

#define FDT_MAX_VIRTIO 8

struct fdt_virtio {
	uint64_t base;
	uint32_t irq;
};

struct fdt_info {
	uint64_t mem_base, mem_size;            /* first memory node */
	uint64_t uart_base;                     /* ns16550a */
	uint32_t uart_irq;
	uint64_t plic_base;                     /* riscv,plic0 / sifive,plic-1.0.0 */
	uint32_t plic_ndev;
	uint64_t clint_base;                    /* riscv,clint0 / sifive,clint0; 0 if absent */
	uint64_t test_base;                     /* sifive,test0/1 or syscon; 0 if absent */
	uint32_t timebase_hz;                   /* /cpus timebase-frequency */
	unsigned ncpus;
	struct fdt_virtio virtio[FDT_MAX_VIRTIO]; /* every virtio,mmio node, in blob order */
	unsigned nvirtio;
	char bootargs[256];                     /* /chosen/bootargs, truncated, "" if absent */
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

#endif
