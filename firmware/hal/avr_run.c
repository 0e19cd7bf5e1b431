/* avr_run: run an AVR ELF on libsimavr and behave like a test runner.
 *   avr_run FIRMWARE.elf MCU FREQ_HZ [MAX_CYCLES]
 * USART0 bytes -> stdout. At the end one line on stderr:
 *   "avr_run: cycles=N marked_cycles=M state=done|crashed|timeout exit=E"
 * Exit status: the byte the firmware wrote to GPIOR1 before "cli; sleep" (see hal_avr.c),
 * 124 when MAX_CYCLES ran out, 126 when simavr reports a crash, 2 on usage errors.
 * GPIOR2 writes of 1 / 2 mark the start / end of a timed region (marked_cycles: the last one);
 * every region also prints "avr_run: region=N" on stderr when it ends.
 * Build: gcc -O2 -I/usr/include/simavr avr_run.c -o avr_run -lsimavr -lelf */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_core.h>
#include <sim_io.h>
#include <avr_uart.h>

#define GPIOR1_DATA_ADDR 0x4A /* same data-space address on ATmega328P and ATmega2560 */
#define GPIOR2_DATA_ADDR 0x4B

static uint8_t exit_byte = 255;
static avr_cycle_count_t mark_begin, mark_end;

static void log_warnings_only(avr_t *avr, const int level, const char *fmt, va_list ap)
{
    (void)avr;
    if (level <= LOG_WARNING) vfprintf(stderr, fmt, ap);
}

static void on_uart_byte(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq; (void)param;
    fputc((int)(value & 0xFFu), stdout);
}

static void on_gpior1(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    (void)param;
    exit_byte = v;
    avr->data[addr] = v;
}

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
    elf_firmware_t fw;
    avr_t *avr;
    uint32_t uart_flags = 0;
    avr_cycle_count_t limit = 4000000000ull;
    int state = cpu_Running;
    const char *name;

    if (argc < 4) {
        fprintf(stderr, "usage: %s firmware.elf mcu freq_hz [max_cycles]\n", argv[0]);
        return 2;
    }
    avr_global_logger_set(log_warnings_only);
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(argv[1], &fw) != 0) {
        fprintf(stderr, "avr_run: cannot read %s\n", argv[1]);
        return 2;
    }
    fw.frequency = (uint32_t)strtoul(argv[3], NULL, 0);
    if (argc > 4) limit = strtoull(argv[4], NULL, 0);
    avr = avr_make_mcu_by_name(argv[2]);
    if (!avr) {
        fprintf(stderr, "avr_run: unknown mcu %s\n", argv[2]);
        return 2;
    }
    avr_init(avr);
    avr->log = 0;
    avr_load_firmware(avr, &fw);
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &uart_flags);
    uart_flags &= ~AVR_UART_FLAG_STDIO; /* no echo of our own */
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &uart_flags);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_byte, NULL);
    avr_register_io_write(avr, GPIOR1_DATA_ADDR, on_gpior1, NULL);
    avr_register_io_write(avr, GPIOR2_DATA_ADDR, on_gpior2, NULL);

    while (state != cpu_Done && state != cpu_Crashed && avr->cycle < limit) state = avr_run(avr);
    fflush(stdout);
    name = state == cpu_Done ? "done" : state == cpu_Crashed ? "crashed" : "timeout";
    fprintf(stderr, "avr_run: cycles=%llu marked_cycles=%llu state=%s exit=%u\n",
            (unsigned long long)avr->cycle,
            (unsigned long long)(mark_end > mark_begin ? mark_end - mark_begin : 0),
            name, (unsigned)exit_byte);
    if (state == cpu_Crashed) return 126;
    if (state != cpu_Done) return 124;
    return exit_byte;
}
