/*
 * make bench's count from outside the guest: a QEMU TCG plugin (API
 * version 1, QEMU 7.2) that counts every guest instruction executed but
 * wfi, the way an external checker of issue 16 does, next to the guest's
 * own busy_instret. Two counts:
 *   insn  one per instruction executed (an inline add on each): exact;
 *   tb    the instructions of each translated block entered (one add per
 *         block): what a block-level counter sees. Under -icount an MMIO
 *         access in the middle of a block makes QEMU stop the block there
 *         and run the access again in a block of its own, so such a
 *         counter also counts the instructions after the access that did
 *         not run; the difference shows how much.
 * Arguments: mark=ADDR (an instruction run once per echo: echo_recv),
 * reset=ADDR (net_stats_reset: make bench resets the counters before
 * each size), out=FILE. Each reset starts a segment; at exit one line per
 * segment: "marks insn_per_mark tb_per_mark", the figures taken from the
 * first mark of the segment to its last (marks - 1 echoes whole, each
 * with its share of wake-ups, idle ticks included).
 * The API's declarations are written out here: Debian's QEMU ships no
 * qemu-plugin.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum { QEMU_PLUGIN_CB_NO_REGS = 0 };
enum { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, int op, void *ptr,
					      uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, int op, void *ptr,
						uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    void (*cb)(unsigned int vcpu, void *udata), int flags,
					    void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    void (*cb)(qemu_plugin_id_t, void *udata), void *udata);

EXPORT int qemu_plugin_version = 1;

#define WFI 0x10500073u
#define MAX_SEGMENTS 64

static uint64_t insn, tb;         /* since QEMU started */
static uint64_t mark_pc, reset_pc;
static const char *out;
static struct segment {
	uint64_t marks, insn0, tb0, insn1, tb1;
} seg[MAX_SEGMENTS];
static unsigned nseg = 1;

static void on_mark(unsigned int vcpu, void *udata)
{
	(void)vcpu, (void)udata;
	struct segment *s = &seg[nseg - 1];
	if (!s->marks++)
		s->insn0 = insn, s->tb0 = tb;
	s->insn1 = insn, s->tb1 = tb;
}

static void on_reset(unsigned int vcpu, void *udata)
{
	(void)vcpu, (void)udata;
	if (nseg < MAX_SEGMENTS)
		seg[nseg++] = (struct segment){0};
}

static int is_wfi(const struct qemu_plugin_insn *in)
{
	uint32_t op;
	if (qemu_plugin_insn_size(in) != 4)
		return 0;
	memcpy(&op, qemu_plugin_insn_data(in), 4);
	return op == WFI;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *b)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(b), counted = 0;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *in = qemu_plugin_tb_get_insn(b, i);
		if (is_wfi(in))
			continue;
		counted++;
		qemu_plugin_register_vcpu_insn_exec_inline(in, QEMU_PLUGIN_INLINE_ADD_U64, &insn, 1);
		uint64_t pc = qemu_plugin_insn_vaddr(in);
		if (pc == mark_pc)
			qemu_plugin_register_vcpu_insn_exec_cb(in, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
		if (pc == reset_pc)
			qemu_plugin_register_vcpu_insn_exec_cb(in, on_reset, QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
	if (counted)
		qemu_plugin_register_vcpu_tb_exec_inline(b, QEMU_PLUGIN_INLINE_ADD_U64, &tb, counted);
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	(void)id, (void)udata;
	FILE *f = fopen(out, "w");
	if (!f)
		return;
	for (unsigned i = 0; i < nseg; i++) {
		const struct segment *s = &seg[i];
		double k = s->marks > 1 ? (double)(s->marks - 1) : 1.0;
		fprintf(f, "%llu %.2f %.2f\n", (unsigned long long)s->marks,
			(double)(s->insn1 - s->insn0) / k, (double)(s->tb1 - s->tb0) / k);
	}
	fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
			       char **argv);
EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
			       char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "mark=", 5))
			mark_pc = strtoull(argv[i] + 5, NULL, 0);
		else if (!strncmp(argv[i], "reset=", 6))
			reset_pc = strtoull(argv[i] + 6, NULL, 0);
		else if (!strncmp(argv[i], "out=", 4))
			out = argv[i] + 4;
	}
	if (!mark_pc || !out)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
