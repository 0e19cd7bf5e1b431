/* icount_plugin: QEMU TCG plugin (API v1, QEMU 4.2..8.x) counting executed guest instructions
 * exactly, optionally also those with lo <= pc < hi. Needs no qemu-plugin.h: the handful of API
 * functions used are declared here. Output (only with "-d plugin", to the -D file if given):
 *   "icount_insns: N" and, with a range, "icount_range_insns: M"
 * With mark=ADDR, every execution of the instruction at ADDR (e.g. the entry of a marker function
 * the firmware calls around a timed region) logs "icount_mark: N", N = the instruction count at
 * that moment; every mark counts the marker instruction the same way, so the difference of two
 * marks is the exact number of instructions executed between them.
 * Build: gcc -O2 -shared -fPIC icount_plugin.c -o libicount.so
 * Use:   qemu-system-* ... -plugin ./libicount.so[,lo=0x...,hi=0x...][,mark=0x...] -d plugin -D log.txt */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr, uint64_t imm);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *), void *userdata);
extern void qemu_plugin_outs(const char *string);
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
extern void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                                   void (*cb)(unsigned int vcpu_index, void *userdata),
                                                   enum qemu_plugin_cb_flags flags, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t n_all, n_range, range_lo, range_hi, mark_pc;
static int have_mark;

static void on_mark(unsigned int vcpu_index, void *userdata)
{
    char line[64];
    (void)vcpu_index; (void)userdata;
    snprintf(line, sizeof line, "icount_mark: %" PRIu64 "\n", n_all);
    qemu_plugin_outs(line);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t i, n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (i = 0; i < n; i++) {
        /* one inline add per instruction, so a block left early (trap, semihosting) is exact */
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        if (have_mark && pc == mark_pc)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &n_all, 1);
        if (range_hi > range_lo && pc >= range_lo && pc < range_hi)
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &n_range, 1);
    }
}

static void on_exit_cb(qemu_plugin_id_t id, void *userdata)
{
    char line[128];
    (void)id; (void)userdata;
    snprintf(line, sizeof line, "icount_insns: %" PRIu64 "\n", n_all);
    qemu_plugin_outs(line);
    if (range_hi > range_lo) {
        snprintf(line, sizeof line, "icount_range_insns: %" PRIu64 "\n", n_range);
        qemu_plugin_outs(line);
    }
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        if (strncmp(argv[i], "lo=", 3) == 0) range_lo = strtoull(argv[i] + 3, NULL, 0);
        else if (strncmp(argv[i], "hi=", 3) == 0) range_hi = strtoull(argv[i] + 3, NULL, 0);
        else if (strncmp(argv[i], "mark=", 5) == 0) {
            mark_pc = strtoull(argv[i] + 5, NULL, 0);
            have_mark = 1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
