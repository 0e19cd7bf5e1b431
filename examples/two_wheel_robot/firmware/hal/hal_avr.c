/* AVR HAL (ATmega328P / ATmega2560 under simavr via avr_run.c): USART0 output, exit code in
 * GPIOR1 then "cli; sleep" (simavr stops), cycle markers via GPIOR2 (1 = start, 2 = stop). */
#include <stdint.h>
#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/sleep.h>
#include "feagi_hal.h"

static uint8_t uart_ready;

static void uart_init(void)
{
    UBRR0H = 0;
    UBRR0L = 0;                    /* U2X, UBRR 0: F_CPU/8 baud, 2 Mbaud at 16 MHz */
    UCSR0A = _BV(U2X0);
    UCSR0B = _BV(TXEN0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    uart_ready = 1;
}

void feagi_hal_putc(char c)
{
    if (!uart_ready) uart_init();
    loop_until_bit_is_set(UCSR0A, UDRE0);
    UDR0 = (uint8_t)c;
}

uint32_t feagi_hal_cycles(void) { return 0u; } /* the harness reports exact cycles instead */

void feagi_hal_mark(uint8_t m) { GPIOR2 = m; }

void feagi_hal_exit(int code)
{
    if (uart_ready) loop_until_bit_is_set(UCSR0A, UDRE0);
    GPIOR1 = (uint8_t)code;
    cli();
    set_sleep_mode(SLEEP_MODE_IDLE);
    sleep_enable();
    sleep_cpu();
    for (;;) { }
}

/* avr-libc's crt calls exit(main()) with the return value in r24; exit runs the .fini sections
 * down to .fini0 ("cli; spin"). Hook .fini8 to hand r24 to feagi_hal_exit (never returns). */
__attribute__((naked, used, section(".fini8"))) void feagi_hal_fini8(void)
{
    __asm__ volatile("clr r25\n\t"
#if defined(__AVR_HAVE_JMP_CALL__)
                     "jmp feagi_hal_exit"
#else
                     "rjmp feagi_hal_exit"
#endif
                     ::);
}
