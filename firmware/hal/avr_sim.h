/* avr_sim.h: the libsimavr set-up shared by the two AVR harnesses, avr_run.c (test runner) and
 * ../link/avr_link_run.c (USART0 on stdio for the serial link): usage check, ELF load, MCU
 * creation at the given clock, USART0 transmit -> stdout without simavr's own echo, and the
 * GPIOR exit-byte convention of hal_avr.c (the firmware writes its exit status to GPIOR1, then
 * "cli; sleep").
 * Both harnesses are built by gcc on the host (feagi_embed.targets.emulators._build_tool), with
 * -I for simavr's headers and for this folder. */
#ifndef FEAGI_AVR_SIM_H
#define FEAGI_AVR_SIM_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_core.h>
#include <sim_io.h>
#include <avr_uart.h>

/* same data-space addresses on ATmega328P and ATmega2560 */
#define GPIOR0_DATA_ADDR 0x3E
#define GPIOR1_DATA_ADDR 0x4A
#define GPIOR2_DATA_ADDR 0x4B

/* the byte the firmware last wrote to GPIOR1 (its exit status); 255 until it writes one */
static uint8_t exit_byte = 255;

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

/* Parse "TOOL firmware.elf mcu freq_hz [max_cycles]", load the ELF on a new MCU with USART0
 * transmit wired to stdout and GPIOR1 to exit_byte. *limit keeps the caller's default unless
 * max_cycles is given. Returns NULL after printing the reason (the caller exits with 2). */
static avr_t *avr_sim_open(int argc, char **argv, const char *tool, avr_cycle_count_t *limit)
{
    elf_firmware_t fw;
    avr_t *avr;
    uint32_t uart_flags = 0;

    if (argc < 4) {
        fprintf(stderr, "usage: %s firmware.elf mcu freq_hz [max_cycles]\n", argv[0]);
        return NULL;
    }
    avr_global_logger_set(log_warnings_only);
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(argv[1], &fw) != 0) {
        fprintf(stderr, "%s: cannot read %s\n", tool, argv[1]);
        return NULL;
    }
    fw.frequency = (uint32_t)strtoul(argv[3], NULL, 0);
    if (argc > 4) *limit = strtoull(argv[4], NULL, 0);
    avr = avr_make_mcu_by_name(argv[2]);
    if (!avr) {
        fprintf(stderr, "%s: unknown mcu %s\n", tool, argv[2]);
        return NULL;
    }
    avr_init(avr);
    avr->log = 0;
    avr_load_firmware(avr, &fw);
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &uart_flags);
    uart_flags &= ~AVR_UART_FLAG_STDIO; /* no echo of our own */
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &uart_flags);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_byte, NULL);
    avr_register_io_write(avr, GPIOR1_DATA_ADDR, on_gpior1, NULL);
    return avr;
}

/* "done" / "crashed" / "timeout" for a final simavr state */
static const char *avr_sim_state_name(int state)
{
    return state == cpu_Done ? "done" : state == cpu_Crashed ? "crashed" : "timeout";
}

#endif
