/* vmmux.h - many byte streams over one: the channel multiplexer of a VM.
 *
 * A guest has exactly one control stream to its host: a virtio-serial port
 * (a socket on the host side, a character device in the guest). Every
 * agent of the guest, and the control conversation between the controller
 * and lnst-vmguest, is a channel on that stream. A channel is a local stream
 * socket on each side; the mux copies what it reads from one side's socket
 * to the same channel's socket on the other side, so the agent protocol runs
 * over it byte for byte, unchanged.
 *
 * On the stream every chunk is [u32 channel][u32 length][length bytes], big
 * endian; length 0 means the sender's socket of that channel reached EOF.
 * Data for a channel that has no socket yet is kept (up to a limit) until
 * vmmux_attach gives it one, so a request may go out before the agent that
 * will answer it exists.
 *
 * Flow control: while the queue towards the stream is long, local sockets
 * are not read; while any queue towards a local socket is long, the stream
 * is not read. When the stream ends (EOF, an error, the VM died) every local
 * socket is closed, so its user sees EOF, and on_close says why.
 */
#ifndef LNST_VMMUX_H
#define LNST_VMMUX_H

#include <stdint.h>

#include "loop.h"

struct vmmux;
typedef void (*vmmux_close_cb)(struct vmmux *m, const char *reason, void *ud);

/* Takes ownership of fd (made non-blocking). 0 or -errno. */
int vmmux_new(struct vmmux **out, struct loop *loop, int fd, vmmux_close_cb on_close, void *ud);
/* Gives channel ch the local socket fd (ownership passes, also on error).
 * -EEXIST if ch has one already, -EPIPE after the stream ended. */
int vmmux_attach(struct vmmux *m, uint32_t ch, int fd);
/* Makes a socketpair, attaches one end to ch and returns the other in
 * *user (close-on-exec). 0 or -errno. */
int vmmux_open(struct vmmux *m, uint32_t ch, int *user);
/* Whether the stream ended; reason (or NULL while it is up). */
const char *vmmux_ended(const struct vmmux *m);
/* When the stream last brought data (loop_now_ms), 0 if never. */
int64_t vmmux_last_rx(const struct vmmux *m);
/* Ends the stream (idempotent): local sockets are closed, on_close is not
 * called. */
void vmmux_shutdown(struct vmmux *m, const char *reason);
/* Blocks up to timeout_ms until everything queued for the stream is
 * written. 0 or -errno (-ETIMEDOUT). */
int vmmux_flush(struct vmmux *m, int timeout_ms);
void vmmux_free(struct vmmux *m);

#endif
