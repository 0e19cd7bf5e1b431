/* RISC-V link HAL for QEMU "virt": the NS16550A UART at 0x10000000 (QEMU hw/riscv/virt.c
 * VIRT_UART0; the first -serial). feagi_hal_getc polls LSR.DR (bit 0) and reads RBR;
 * feagi_link_uart_putc writes THR once LSR.THRE (bit 5) is set. Link firmware is built with
 * -DFEAGI_LINK_PUTC=feagi_link_uart_putc so frames go to the UART while semihosting keeps the
 * exit code (as the Cortex-M link). QEMU's 16550 needs no set-up (divisor, FIFO) for this; real
 * silicon does (ESP32-C3: its own UART, see docs/link.md). The stream never ends here:
 * FEAGI_HAL_EOF is never returned. */
#include <stdint.h>
#include "feagi_link.h"

#define UART_BASE 0x10000000u
#define UART_RBR (*(volatile uint8_t *)(UART_BASE + 0x00u))
#define UART_THR (*(volatile uint8_t *)(UART_BASE + 0x00u))
#define UART_LSR (*(volatile uint8_t *)(UART_BASE + 0x05u))
#define LSR_DR 0x01u
#define LSR_THRE 0x20u

void feagi_link_uart_putc(char c);

void feagi_link_uart_putc(char c)
{
    uint32_t spin = 0;
    /* bounded wait: QEMU reports THRE at once */
    while ((UART_LSR & LSR_THRE) == 0u && ++spin < 1000000u) { }
    UART_THR = (uint8_t)c;
}

int16_t feagi_hal_getc(uint8_t wait)
{
    do {
        if ((UART_LSR & LSR_DR) != 0u) return (int16_t)UART_RBR;
    } while (wait);
    return FEAGI_HAL_NO_BYTE;
}
