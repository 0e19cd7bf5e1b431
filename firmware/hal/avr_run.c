/* avr_run: run an AVR ELF on libsimavr and behave like a test runner.
 *   avr_run FIRMWARE.elf MCU FREQ_HZ [MAX_CYCLES]
 * USART0 bytes -> stdout. At the end one line on stderr:
 *   "avr_run: cycles=N marked_cycles=M state=done|crashed|timeout exit=E"
 * Exit status: the byte the firmware wrote to GPIOR1 before "cli; sleep" (see hal_avr.c),
 * 124 when MAX_CYCLES ran out, 126 when simavr reports a crash, 2 on usage errors.
 * GPIOR2 writes of 1 / 2 mark the start / end of a timed region (marked_cycles: the last one);
 * every region also prints "avr_run: region=N" on stderr when it ends.
 * Build: gcc -O2 -I/usr/include/simavr avr_run.c -o avr_run -lsimavr -lelf */
#include "avr_sim.h"

static avr_cycle_count_t mark_begin, mark_end;

static void on_gpior2(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    (void)param;
    if (v == 1) mark_begin = avr->cycle;
    else if (v == 2) {
        mark_end = avr->cycle;
        fprintf(stderr, "avr_run: region=%llu\n", (unsigned long long)(mark_end - mark_begin));
    }
    avr->data[addr] = v;
}

int main(int argc, char **argv)
{
    avr_cycle_count_t limit = 4000000000ull;
    int state = cpu_Running;
    avr_t *avr = avr_sim_open(argc, argv, "avr_run", &limit);

    if (!avr) return 2;
    avr_register_io_write(avr, GPIOR2_DATA_ADDR, on_gpior2, NULL);
    while (state != cpu_Done && state != cpu_Crashed && avr->cycle < limit) state = avr_run(avr);
    fflush(stdout);
    fprintf(stderr, "avr_run: cycles=%llu marked_cycles=%llu state=%s exit=%u\n",
            (unsigned long long)avr->cycle,
            (unsigned long long)(mark_end > mark_begin ? mark_end - mark_begin : 0),
            avr_sim_state_name(state), (unsigned)exit_byte);
    if (state == cpu_Crashed) return 126;
    if (state != cpu_Done) return 124;
    return exit_byte;
}
