/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * exphttp.h - the exporter's HTTP server (libmicrohttpd), bounded so that
 * whoever reaches its port cannot blind the scraper:
 *
 *   GET or HEAD /metrics   a reading taken after the request arrived; the
 *                          requests waiting at once share one reading
 *   GET or HEAD /healthz   "ok", without a reading
 *   any other path 404, any other method 405, a request with a body 413,
 *   a header over the per-connection memory 431 (or 414 for the URI).
 *
 * One epoll thread serves every connection; one reader thread makes the
 * readings, so the render function never runs twice at once.  At most
 * max_conns connections: a new one past that closes the connection that
 * has waited longest for a request (slow or idle clients go first), else
 * the one longest sending an answer if for over a second (a client that
 * asks and does not read, once the kernel's send buffer is full: only a
 * body of megabytes), else it is refused.
 */
#ifndef TCPF_EXPHTTP_H
#define TCPF_EXPHTTP_H

#include <stddef.h>

struct exphttp_conf {
	int fd;                 /* a listening socket, given to the server */
	unsigned int max_conns; /* connections held at once */
	unsigned int timeout;   /* seconds a connection may stay silent */
};

/* The /metrics body, malloc'd (its length in *len), or NULL: a 500. */
typedef char *(*exphttp_render)(void *cls, size_t *len);

struct exphttp;

/* Serve conf->fd until exphttp_stop (which closes it); NULL on failure. */
struct exphttp *exphttp_start(const struct exphttp_conf *conf,
			      exphttp_render render, void *cls);
void exphttp_stop(struct exphttp *h);

/* Bytes of memory one connection may use: its buffers and headers. */
#define EXPHTTP_CONN_MEMORY 16384

#endif
