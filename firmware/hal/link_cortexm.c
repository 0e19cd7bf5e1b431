/* Cortex-M link HAL for the STM32F4 USART1 (0x40011000; QEMU netduinoplus2 maps it to the first
 * -serial): feagi_hal_getc polls RXNE, feagi_link_uart_putc writes DR once TXE is set (link
 * firmware is built with -DFEAGI_LINK_PUTC=feagi_link_uart_putc so link frames go to the USART
 * while semihosting keeps the exit code). On real silicon the USART clock (RCC APB2ENR.USART1EN)
 * and the PA9/PA10 alternate function must be set up first (the board's pin map); QEMU does not
 * model either. Built with -DFEAGI_LINK_CMSDK_UART (boards emulated on QEMU's mps2 machines) it
 * uses the CMSDK APB UART, with -DFEAGI_LINK_NRF51_UART (QEMU's micro:bit) the nRF51 UART (below). The stream never ends here: FEAGI_HAL_EOF is never returned. */
#include <stdint.h>
#include "feagi_link.h"

void feagi_link_uart_putc(char c);

#if defined(FEAGI_LINK_CMSDK_UART)
/* The Cortex-M0+ stand-in (rp2040 board on QEMU's mps2-an385 machine): the CMSDK APB UART0 at
 * 0x40004000 (Arm Cortex-M System Design Kit TRM, "APB UART"; QEMU hw/char/cmsdk-apb-uart.c):
 * DATA 0x00, STATE 0x04 (bit 0 TX buffer full, bit 1 RX buffer full), CTRL 0x08 (bit 0 TX enable,
 * bit 1 RX enable), BAUDDIV 0x10 (QEMU refuses to send with a divider below 16). */
#define CMSDK_UART 0x40004000u
#define CMSDK_REG(off) (*(volatile uint32_t *)(CMSDK_UART + (off)))
#define CMSDK_DATA CMSDK_REG(0x00u)
#define CMSDK_STATE CMSDK_REG(0x04u)
#define CMSDK_CTRL CMSDK_REG(0x08u)
#define CMSDK_BAUDDIV CMSDK_REG(0x10u)

static uint8_t cmsdk_on;

static void uart_on(void)
{
    if (cmsdk_on) return;
    CMSDK_BAUDDIV = 16u;
    CMSDK_CTRL = 3u; /* TX and RX enabled */
    cmsdk_on = 1u;
}

void feagi_link_uart_putc(char c)
{
    uint32_t spin = 0;
    uart_on();
    while ((CMSDK_STATE & 1u) != 0u && ++spin < 1000000u) { } /* bounded: TX buffer full */
    CMSDK_DATA = (uint32_t)(uint8_t)c;
}

int16_t feagi_hal_getc(uint8_t wait)
{
    uart_on();
    do {
        if ((CMSDK_STATE & 2u) != 0u) return (int16_t)(CMSDK_DATA & 0xFFu);
    } while (wait);
    return FEAGI_HAL_NO_BYTE;
}
#elif defined(FEAGI_LINK_NRF51_UART)
/* The Cortex-M0 stand-in (rp2040 board on QEMU's micro:bit machine, nRF51822): UART0 at
 * 0x40002000 (nRF51 Series Reference Manual v3.0, section 29 UART; QEMU hw/char/nrf51_uart.c):
 * ENABLE = 4, STARTRX / STARTTX tasks; a received byte sets EVENTS_RXDRDY, read from RXD after
 * clearing the event; TXD is taken once EVENTS_TXDRDY reports the previous byte sent. */
#define NRF_UART 0x40002000u
#define NRF_REG(off) (*(volatile uint32_t *)(NRF_UART + (off)))
#define STARTRX NRF_REG(0x000u)
#define STARTTX NRF_REG(0x008u)
#define RXDRDY NRF_REG(0x108u)
#define TXDRDY NRF_REG(0x11Cu)
#define ENABLE NRF_REG(0x500u)
#define RXD NRF_REG(0x518u)
#define TXD NRF_REG(0x51Cu)

static uint8_t nrf_on, tx_busy;

static void uart_on(void)
{
    if (nrf_on) return;
    ENABLE = 4u;
    STARTRX = 1u;
    STARTTX = 1u;
    nrf_on = 1u;
}

void feagi_link_uart_putc(char c)
{
    uint32_t spin = 0;
    uart_on();
    if (tx_busy) /* bounded wait for the previous byte */
        while (TXDRDY == 0u && ++spin < 1000000u) { }
    TXDRDY = 0u;
    TXD = (uint32_t)(uint8_t)c;
    tx_busy = 1u;
}

int16_t feagi_hal_getc(uint8_t wait)
{
    uart_on();
    do {
        if (RXDRDY != 0u) {
            RXDRDY = 0u;
            return (int16_t)(RXD & 0xFFu);
        }
    } while (wait);
    return FEAGI_HAL_NO_BYTE;
}
#else
#define USART1_BASE 0x40011000u
#define USART_SR (*(volatile uint32_t *)(USART1_BASE + 0x00u))
#define USART_DR (*(volatile uint32_t *)(USART1_BASE + 0x04u))
#define USART_CR1 (*(volatile uint32_t *)(USART1_BASE + 0x0Cu))
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

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
#endif
