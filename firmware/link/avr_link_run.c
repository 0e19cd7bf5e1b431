/* avr_link_run: run an AVR link firmware on libsimavr with its USART0 wired to stdio.
 *   avr_link_run FIRMWARE.elf MCU FREQ_HZ [MAX_CYCLES]
 * stdin bytes -> USART0 receive (paced by simavr's XON/XOFF input-FIFO signals); USART0 transmit
 * -> stdout. The run ends when the firmware exits (GPIOR1 + sleep, like avr_run.c), crashes, runs
 * out of cycles, or waits for input (GPIOR0 = 1, firmware/hal/link_avr.c or the Arduino sketch
 * built with -DFEAGI_SIMAVR_EXIT) for IDLE_CYCLES after stdin ended.
 * One line on stderr at the end: "avr_link_run: cycles=N state=done|crashed|timeout|eof exit=E".
 * Exit status: the firmware's exit byte, 0 at end of input, 124 timeout, 126 crash, 2 usage.
 * Build: gcc -O2 -I/usr/include/simavr avr_link_run.c -o avr_link_run -lsimavr -lelf */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <unistd.h>
#include "avr_sim.h"

static uint8_t waiting, xon;
/* cycle at which the firmware last started waiting: a byte raised just before may still be in
 * simavr's UART FIFO, so the harness blocks (or ends) only after IDLE_CYCLES more of waiting */
static avr_cycle_count_t waiting_since;
#define IDLE_CYCLES 40000u

static void on_xon(struct avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; xon = 1; }
static void on_xoff(struct avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; xon = 0; }

static void on_gpior0(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    (void)param;
    if (v && !waiting) waiting_since = avr->cycle;
    waiting = v;
    if (v) fflush(stdout); /* the firmware waits for the host: let it see the replies */
    avr->data[addr] = v;
}

int main(int argc, char **argv)
{
    avr_irq_t *in_irq;
    avr_cycle_count_t limit = 40000000000ull;
    int state = cpu_Running, eof = 0;
    unsigned char buf[512];
    size_t have = 0, at = 0;
    unsigned long spin = 0;
    const char *name;
    avr_t *avr = avr_sim_open(argc, argv, "avr_link_run", &limit);

    if (!avr) return 2;
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, NULL);
    in_irq = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_register_io_write(avr, GPIOR0_DATA_ADDR, on_gpior0, NULL);

    while (state != cpu_Done && state != cpu_Crashed && avr->cycle < limit) {
        int idle = waiting && avr->cycle - waiting_since > IDLE_CYCLES;
        if (at == have && !eof && (idle || ++spin % 4096u == 0u)) {
            struct pollfd p;
            p.fd = 0;
            p.events = POLLIN;
            p.revents = 0;
            /* block only while the firmware itself waits for input */
            if (poll(&p, 1, idle ? -1 : 0) > 0) {
                ssize_t r = read(0, buf, sizeof buf);
                if (r <= 0) eof = 1;
                else { have = (size_t)r; at = 0; }
            }
        }
        if (at < have && xon) {
            avr_raise_irq(in_irq, buf[at++]);
            waiting = 0; /* it has a byte to read now; it sets GPIOR0 again when it waits */
        }
        if (eof && at == have && idle) break;
        state = avr_run(avr);
    }
    fflush(stdout);
    name = state == cpu_Done || state == cpu_Crashed || !(eof && waiting) ? avr_sim_state_name(state) : "eof";
    fprintf(stderr, "avr_link_run: cycles=%llu state=%s exit=%u\n", (unsigned long long)avr->cycle, name,
            (unsigned)exit_byte);
    if (state == cpu_Crashed) return 126;
    if (state == cpu_Done) return exit_byte;
    return eof && waiting ? 0 : 124;
}
