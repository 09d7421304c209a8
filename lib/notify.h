/* SPDX-License-Identifier: ISC */
/*
 * The systemd notification protocol (sd_notify), without libsystemd:
 * one datagram to $NOTIFY_SOCKET.
 */
#ifndef TK_NOTIFY_H
#define TK_NOTIFY_H

/*
 * Sends msg ("READY=1", "STOPPING=1", "RELOADING=1") to the service
 * manager. Returns 1 if sent, 0 when not run under systemd, or -errno.
 */
int notify_systemd(const char *msg);

#endif
