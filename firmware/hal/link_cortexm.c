/* Cortex-M link HAL for the STM32F4 USART1 (0x40011000; QEMU netduinoplus2 maps it to the first
 * -serial): feagi_hal_getc polls RXNE, feagi_link_uart_putc writes DR once TXE is set (link
 * firmware is built with -DFEAGI_LINK_PUTC=feagi_link_uart_putc so link frames go to the USART
 * while semihosting keeps the exit code). On real silicon the USART clock (RCC APB2ENR.USART1EN)
 * and the PA9/PA10 alternate function must be set up first (the board's pin map); QEMU does not
 * model either. The stream never ends here: FEAGI_HAL_EOF is never returned. */
#include <stdint.h>
#include "feagi_link.h"

#define USART1_BASE 0x40011000u
#define USART_SR (*(volatile uint32_t *)(USART1_BASE + 0x00u))
#define USART_DR (*(volatile uint32_t *)(USART1_BASE + 0x04u))
#define USART_CR1 (*(volatile uint32_t *)(USART1_BASE + 0x0Cu))
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

void feagi_link_uart_putc(char c);

static void uart_on(void)
{
    if ((USART_CR1 & (CR1_UE | CR1_TE | CR1_RE)) != (CR1_UE | CR1_TE | CR1_RE))
        USART_CR1 |= CR1_UE | CR1_TE | CR1_RE;
}

void feagi_link_uart_putc(char c)
{
    uint32_t spin = 0;
    uart_on();
    /* bounded wait: QEMU reports TXE at once; real hardware within one character time */
    while ((USART_SR & SR_TXE) == 0u && ++spin < 1000000u) { }
    USART_DR = (uint32_t)(uint8_t)c;
}

int16_t feagi_hal_getc(uint8_t wait)
{
    uart_on();
    do {
        if ((USART_SR & SR_RXNE) != 0u) return (int16_t)(USART_DR & 0xFFu);
    } while (wait);
    return FEAGI_HAL_NO_BYTE;
}
