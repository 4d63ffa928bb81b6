/*
 * Shaped for the compiler: the one list of every place where the code has
 * its form only because of what GCC makes of it for rv64imac (each
 * measured with make bench or make bench-host), so that a reader can
 * tell tuning from protocol structure. Everything else is plain C.
 *
 * OUT_OF_LINE  a rare path split off the per-packet path and reached by
 *              a tail call (ip_input_other, udp_verify_other, udp_deliver_
 *              other, eth_accept, icmp_input, the *_drop helpers,
 *              arp_input, ...): the common path then runs with no registers
 *              to save. The other way round, always_inline pulls a step
 *              into the common path where a call would cost more than the
 *              step (ip_accept into ip_input, udp_demux into udp_deliver
 *              and udp_to_port, eth_up into eth_input and eth_accept).
 * INLINE_STEP  a step of the reply path that is a function of its own in
 *              the source but always inline in its caller (eth_reply in
 *              ip_reply_in_place, that in udp_reply and ip_reply): the
 *              reply then runs in the one stack frame its first step has
 *              (the service's callback), not three. Defined extern inline
 *              in its .c file, so LTO inlines it and the host build, which
 *              has no LTO, still links one copy.
 * h, len      the input path hands the current header and the bytes
 *              from it (h, len; ih, u, len in UDP) from layer to layer as
 *              arguments, in registers; p->data and p->len are written once,
 *              where the datagram is delivered, or where p leaves the path
 *              for a general-form or rare step (pkt_at). Each layer then
 *              neither stores them nor loads them back.
 * u16a, u32a   2- and 4-byte loads and stores where a header is known to
 *              be aligned (MAC compare and swap, the IPv4 header sum, the
 *              UDP port swap, the checksum loop): rv64imac has no cheap
 *              unaligned access, and byte-wise code is 3-4 times longer.
 * get16's asm  (wire.h) keeps GCC from seeing a byte-swapped load, which
 *              without Zbb it lowers to a dozen shifts and masks. It
 *              returns unsigned, not uint16_t: the narrower type cost a
 *              zero-extension (two shifts) at each use.
 * network order  the input path compares header fields as they lie
 *              (ld16, ld32, N16 in wire.h) against our address and
 *              broadcast kept the same way (netif.ip_n, bcast_n): no byte
 *              swap, which rv64imac lacks, on the per-packet path.
 * one path per layer  eth_input, ip_input/ip_accept/ip_local,
 *              udp_input/udp_deliver run straight for the usual frame;
 *              every other case branches off to an OUT_OF_LINE function
 *              making the same checks in general form (eth_accept,
 *              eth_to_other, ip_input_other, ...). eth_input reads our MAC
 *              once for both addresses. The in-place reply is checked once
 *              (ip_can_reply, inline) and then written without more tests
 *              (ip_reply_in_place, which sums the header halfwords it
 *              writes instead of reading them back).
 * memory-order sums  a ones'-complement sum does not depend on byte order
 *              (RFC 1071 2(B)), so checks and the header checksum add words
 *              as they lie in memory (csum_acc, ip_input's header check,
 *              ip_hdr_csum). ip_input loads the addresses zero-extended
 *              (uint64_t) once, for its sum and for its compares.
 * csum_acc_ok  a check tests the unfolded 64-bit sum for a nonzero multiple
 *              of 65535 with one multiply (csum.h says why that is the
 *              same), not a fold: about 15 instructions less per check.
 *              Its constant goes through an empty asm, so GCC loads it
 *              once and negates it rather than loading both from memory.
 * csum_acc     the checksum loop is inline (always_inline) in udp_input,
 *              which then calls nothing and saves no registers; icmp_input
 *              is OUT_OF_LINE so LTO does not pull its calls into
 *              ip_deliver.
 * inline       eth_is_ours and ip_hdr_csum are in net.h so that LTO puts
 *              them into their callers.
 * NET_GP       netif, net_stats, the PCB table, ip_id and echo_stats in
 *              .sdata, gp-relative: a pointer to them costs no auipc/addi
 *              pair in each function on the path.
 * markers      net_stats_reset is OUT_OF_LINE as the start of make bench's
 *              per-datagram profile (the console's `reset`), console_poll
 *              as its end.
 * Outside net/ (drivers/ and the superloop):
 * port         drivers/port.c keeps the NIC's per-pass calls (struct
 *              nic_ops) as pointers in its own GP_DATA state: one load and
 *              a jump each, where a switch on the driver cost five; stubs
 *              without a NIC and a pointer to its link state (a constant
 *              0 without one), so a pass tests for no NIC; the link state
 *              the stack was told is kept there too, gp-relative. The
 *              superloop reads those calls once, before it starts (struct
 *              port_pass; port_poll_by, port_idle_by), and keeps them in
 *              registers; run_timers is out of line so that its registers
 *              are not taken from the loop's.
 * bshift       the GEM finds a descriptor with one shift by its size in
 *              bytes (dev.bshift), not a shift by words and one by 4.
 * word counts  nic_ops.rx takes and returns unsigned long, port_poll_by too:
 *              an unsigned int costs a zero- or sign-extension at each
 *              end of the call.
 * no NULLs     plic_claim points at a word that reads 0 without a PLIC,
 *              so plic_dispatch does not test for one.
 * hot irq      the NIC registers with plic_enable_hot: plic_dispatch
 *              compares the claim with that one source (gp-relative;
 *              both words as lw leaves them, sign-extended, see "lw as
 *              is") and calls its handler without the table, which is
 *              out of line (plic.c: plic_dispatch_table). The handler
 *              gets its interrupt status register as the PLIC argument,
 *              which plic_dispatch loads anyway.
 * loop counts  the superloop counts only wake-ups and the rare passes
 *              that go on without sleeping (`repeats`); passes are their
 *              sum, added up when shown. The console's flag is read
 *              only on a pass that ran plic_dispatch, the one place the
 *              UART's handler can set it.
 * isr          virtio-net registers one handler per kind of interrupt
 *              status (read-and-ack, read-to-clear) instead of testing
 *              which on every interrupt, and records only a configuration
 *              change (one amoor), not every status.
 * leaves       each driver's per-pass functions (virtio_net_rx, _flush,
 *              _idle, vnet_tx; gem_rx, ...) call nothing on their common
 *              path: the rare cases are OUT_OF_LINE and tail-called
 *              (rx_fault, rx_drop, flush_slow, tx_slow, tx_drop; a frame
 *              virtio_net_rx drops goes to rx_drop, which reads the ring on
 *              by calling it again), frames to free are chained and freed
 *              after the loop, a header is zeroed without memset, a NEEDS_
 *              CSUM frame's offsets are stored before they are checked (one
 *              register less live). A leaf runs in caller-saved registers
 *              and saves none; plic_dispatch is inline (drivers/platform.h)
 *              into the superloop.
 * batches      sent buffers are taken back CFG_RECLAIM_BATCH at a time,
 *              not every pass (virtio_net_flush, gem_flush): the common
 *              pass only compares two ring levels with their slack. The
 *              batch loop (tx_reclaim, out of line) keeps both rings'
 *              state in local variables, so a fence (a memory clobber)
 *              does not reload it for every buffer, and walks both
 *              rings with pointers that wrap at their ends, not an index
 *              masked and scaled per buffer.
 * no device, no room  without a device virtio-net's TX slots point at
 *              one that is never free and the GEM's TX ring reads full, so
 *              the transmit path's room test also says "no device";
 *              tx_slow tests it by name. vnet_tx's usual case (no partial
 *              checksum, the header 2 bytes past a word) is marked
 *              __builtin_expect: it runs straight, with no jump.
 * link       the port looks at the link after a flush, after the timers
 *              and when idle says there is work (a driver's idle that
 *              changed the link says so, nic.h), not on a pass that sleeps.
 * one call    a pass that sleeps calls its driver once after the frames
 *              (nic_ops.idle: virtio_net_flush_idle, gem_flush_idle do the
 *              flush, then arm the interrupts), not flush then idle: one
 *              call and entry less, and virtio-net's notify check and its
 *              interrupt flag share one fence.
 * fences     what a fence (a memory clobber) would have read again is
 *              read before it: vq_kick's avail index; tx_post's counters are updated before its fence
 *              (after it GCC sign-extends the length first). The GEM's
 *              descriptor words are written with plain stores, which the
 *              fences order (a volatile word store costs a sign-extension).
 * lw as is   a PLIC claim and virtio-mmio's interrupt status are read
 *              with mmio_read32s (drivers/riscv.h: the word as lw leaves
 *              it, sign-extended) and compared or written back as such
 *              (mmio_write32l): GCC extends a volatile word load once more.
 *              The GEM's receive status word likewise, its start and end
 *              of frame bits tested inverted (one constant).
 * reload_barrier  (drivers/riscv.h) at the top of a per-frame loop: GCC
 *              would hoist the ring state into more registers than the
 *              caller-saved ones and save a dozen on every pass, for the
 *              one frame a pass that is the common case.
 * GP_DATA      (drivers/riscv.h) the state the per-frame path touches (the
 *              rings, the counters, the PLIC claim register, the loop's
 *              counters, the console's bytes-waiting flag) in .sdata: the
 *              linker relaxes an access into one gp-relative instruction
 *              only for symbols in gp's output section, and .bss is not.
 *              (The flag's address then needs no register in the loop,
 *              which keeps the wake-up's instret in one.)
 * word indices virtio's ring indices are free-running machine words: no
 *              16-bit wrap redone after each step; a used entry's id is sign-extended so that one
 *              unsigned compare also rejects ids of 2^31 and more.
 * counted once a frame enters the stack (eth.rx) and where it ends; a
 *              layer's way in is read as the balance of its outcomes
 *              (stats.h: B rows), not counted again at each layer. The
 *              drivers read frames received and sent from their rings'
 *              running positions (nic.stats_sync). A counter is three
 *              instructions per frame (load, add, store).
 * tail calls   the reply path ends in a jump into the driver: a frame is
 *              counted as handed to it (eth.tx, echo.replied), the driver
 *              counts a refusal, so nobody waits for its answer and the
 *              echo's callback needs no stack frame.
 * mac48        eth_input reads each address of a frame at its usual place
 *              (2 bytes past a word) as one 48-bit number: a halfword and a
 *              word load, one compare (netif.mac lies the same way).
 * The markers  app/main.c's boot_done and the apps' ready stay out of line
 *              as the end marker of make bench's boot profile; vnet_tx
 *              keeps its name as the profile's traffic marker.
 */
#ifndef NET_TUNE_H
#define NET_TUNE_H

#include <stdint.h>

#define OUT_OF_LINE __attribute__((noinline))
#define INLINE_STEP inline __attribute__((always_inline))
/* State every datagram reads or counts (netif, net_stats, the UDP table,
 * ip_id; the echo service's counters): in .sdata on RISC-V, which the
 * linker reaches through gp in one instruction (it relaxes no other
 * section so); an ordinary section elsewhere. */
#ifdef __riscv
#define NET_GP __attribute__((section(".sdata.gp")))
#else
#define NET_GP
#endif
typedef uint16_t __attribute__((may_alias)) u16a;
typedef uint32_t __attribute__((may_alias)) u32a;

#endif
