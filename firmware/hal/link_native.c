/* Native link HAL: feagi_hal_getc on stdin (a pipe, pty or socket handed to the process as fd 0).
 * Output goes through hal_native.c's stdout, flushed whenever the reader would wait. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <errno.h>
#include <unistd.h>
#include "feagi_link.h"

int16_t feagi_hal_getc(uint8_t wait)
{
    unsigned char c;
    ssize_t r;
    struct pollfd pfd;
    pfd.fd = 0;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) <= 0) {
        fflush(stdout); /* nothing to read now: let the host see what was sent */
        if (!wait) return FEAGI_HAL_NO_BYTE;
    }
    do {
        r = read(0, &c, 1);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) return FEAGI_HAL_EOF;
    return (int16_t)c;
}
