/* AVR link HAL: feagi_hal_getc on USART0 receive (ATmega328P / ATmega2560). The first call sends
 * one 0x00 (an idle COBS delimiter, ignored by the host) so hal_avr.c sets up the USART, then
 * enables the receiver. While it waits for a byte GPIOR0 reads 1: the simavr link harness
 * (firmware/link/avr_link_run.c) ends the run when its input is exhausted and the firmware waits. */
#include <avr/io.h>
#include "feagi_hal.h"
#include "feagi_link.h"

static uint8_t rx_ready;

int16_t feagi_hal_getc(uint8_t wait)
{
    if (!rx_ready) {
        feagi_hal_putc('\0');
        UCSR0B |= _BV(RXEN0);
        rx_ready = 1;
    }
    if (bit_is_set(UCSR0A, RXC0)) return (int16_t)UDR0;
    if (!wait) return FEAGI_HAL_NO_BYTE;
    GPIOR0 = 1;
    loop_until_bit_is_set(UCSR0A, RXC0);
    GPIOR0 = 0;
    return (int16_t)UDR0;
}
