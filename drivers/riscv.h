/*
 * CSR access that hides the privilege mode: the same source runs in
 * M-mode (-bios none) and in S-mode under OpenSBI (HiFive boards).
 */
#ifndef DRIVERS_RISCV_H
#define DRIVERS_RISCV_H

#include <stdint.h>

/* The link names plain rv64imac (multilib selection), so code generated at
 * link time (-flto) must ask for the CSR instructions itself. */
#define ZICSR(insn) ".option push\n.option arch, +zicsr\n" insn "\n.option pop"
#define csr_read(csr) ({ unsigned long _v; __asm__ volatile(ZICSR("csrr %0, " #csr) : "=r"(_v)); _v; })
#define csr_write(csr, v) __asm__ volatile(ZICSR("csrw " #csr ", %0") ::"rK"(v))
#define csr_set(csr, v) __asm__ volatile(ZICSR("csrs " #csr ", %0") ::"rK"(v))
#define csr_clear(csr, v) __asm__ volatile(ZICSR("csrc " #csr ", %0") ::"rK"(v))

#if MODE_S
#define CSR_STATUS sstatus
#define CSR_IE sie
#define CSR_IP sip
#define CSR_CAUSE scause
#define CSR_EPC sepc
#define CSR_TVAL stval
#define STATUS_IE (1ul << 1)   /* SIE */
#define IRQ_TIMER 5
#define IRQ_EXT 9
#define MODE_NAME "S"
#else
#define CSR_STATUS mstatus
#define CSR_IE mie
#define CSR_IP mip
#define CSR_CAUSE mcause
#define CSR_EPC mepc
#define CSR_TVAL mtval
#define STATUS_IE (1ul << 3)   /* MIE */
#define IRQ_TIMER 7
#define IRQ_EXT 11
#define MODE_NAME "M"
#endif

#define CSR_READ(c) csr_read(c)
#define xcsr_read(c) CSR_READ(c)
#define xcsr_write(c, v) csr_write(c, v)
#define xcsr_set(c, v) csr_set(c, v)
#define xcsr_clear(c, v) csr_clear(c, v)

/* State the per-frame path reads and writes (ring indices, counters, the
 * superloop's own): placed in .sdata, which the linker reaches through gp
 * in one instruction; it relaxes no other section so (net/tune.h). The
 * whole of .sdata must stay within gp's 4 KiB. */
#ifndef RVNET_HOST_MMIO
#define GP_DATA __attribute__((section(".sdata.gp")))
#else
#define GP_DATA
#endif

/* A compiler barrier: memory is read again after it. At the top of a
 * per-frame loop it keeps GCC from hoisting the ring state into more
 * registers than the caller-saved ones, and so from saving a dozen
 * registers on the common one-frame pass (net/tune.h). */
#define reload_barrier() __asm__ volatile("" ::: "memory")

#ifndef RVNET_HOST_MMIO
static inline void intr_off(void) { xcsr_clear(CSR_STATUS, STATUS_IE); }
static inline void intr_on(void) { xcsr_set(CSR_STATUS, STATUS_IE); }
static inline void wfi(void) { __asm__ volatile("wfi"); }
static inline uint64_t rdinstret(void) { uint64_t v; __asm__ volatile(ZICSR("rdinstret %0") : "=r"(v)); return v; }
static inline uint64_t rdcycle(void) { uint64_t v; __asm__ volatile(ZICSR("rdcycle %0") : "=r"(v)); return v; }

static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
/* The same, as lw leaves it: sign-extended. GCC extends the word a
 * volatile load gives once more before using it as a machine word. */
static inline long mmio_read32s(uintptr_t a)
{
	long v;
	__asm__ volatile("lw %0, %1" : "=r"(v) : "m"(*(volatile uint32_t *)a));
	return v;
}
/* The low word of v written, with no extension before sw. */
static inline void mmio_write32l(uintptr_t a, unsigned long v)
{
	__asm__ volatile("sw %1, %0" : "=m"(*(volatile uint32_t *)a) : "r"(v));
}
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint16_t mmio_read16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline void mmio_write16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
/* Order memory (descriptor writes) against device MMIO. */
static inline void fence(void) { __asm__ volatile("fence iorw, iorw" ::: "memory"); }
#else
/* Host tests build a driver unchanged against a model of its device
 * (test/unit/virtio_model.h): register accesses and fences become calls
 * into the model, and nothing here may be RISC-V assembly. */
uint32_t host_mmio_read32(uintptr_t a);
void host_mmio_write32(uintptr_t a, uint32_t v);
uint8_t host_mmio_read8(uintptr_t a);
void host_mmio_write8(uintptr_t a, uint8_t v);
uint16_t host_mmio_read16(uintptr_t a);
void host_mmio_write16(uintptr_t a, uint16_t v);
void host_fence(void);
static inline uint32_t mmio_read32(uintptr_t a) { return host_mmio_read32(a); }
static inline long mmio_read32s(uintptr_t a) { return (int32_t)host_mmio_read32(a); }
static inline void mmio_write32l(uintptr_t a, unsigned long v) { host_mmio_write32(a, (uint32_t)v); }
static inline void mmio_write32(uintptr_t a, uint32_t v) { host_mmio_write32(a, v); }
static inline uint8_t mmio_read8(uintptr_t a) { return host_mmio_read8(a); }
static inline void mmio_write8(uintptr_t a, uint8_t v) { host_mmio_write8(a, v); }
static inline uint16_t mmio_read16(uintptr_t a) { return host_mmio_read16(a); }
static inline void mmio_write16(uintptr_t a, uint16_t v) { host_mmio_write16(a, v); }
static inline void fence(void) { host_fence(); }
#endif

#endif
