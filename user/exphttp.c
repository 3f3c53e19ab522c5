// SPDX-License-Identifier: GPL-2.0-only
/*
 * exphttp.c - the exporter's HTTP server (exphttp.h).
 *
 * Two threads.  libmicrohttpd's (epoll) runs every callback below but the
 * reader; it alone touches the connection list.  The reader makes one
 * reading at a time: a /metrics request suspends its connection with the
 * number of the next reading to start, and is resumed with that reading's
 * body, which every response made of it shares (a reference count), so a
 * thousand scrapes at once cost a few readings and one body, and each
 * still reflects the counters after it arrived.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "exphttp.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define TEXT "text/plain; charset=utf-8"
/* connections past max_conns MHD still takes while the ones closed to
 * make room are reaped (at most 10 accepts a turn) */
#define HEADROOM 32
/* ms an answer may take to send before its connection may be closed to
 * make room (a client that asks and does not read) */
#define SEND_GRACE_MS 1000

/* One reading, shared by the responses made of it. */
struct body {
	int refs;
	size_t len;
	char *buf;              /* NULL: the reading failed */
};

/* One TCP connection (MHD's socket context). */
struct conn {
	struct conn *prev, *next;  /* on a list of h, oldest first */
	struct conn *on;           /* that list's head, NULL: in a request */
	unsigned long long since;  /* ms: when it went on that list */
	int fd;
	bool evicted;              /* shut down to make room, not reaped yet */
};

/* One request (MHD's con_cls), once its headers are in. */
struct req {
	struct req *next;          /* on the waiting list */
	struct MHD_Connection *mc;
	unsigned long long need;   /* the reading it waits for */
	bool done;                 /* that reading is made: body, or none */
	struct body *body;
};

struct exphttp {
	struct MHD_Daemon *d;
	exphttp_render render;
	void *cls;
	unsigned int max_conns;
	/* the reader, and the requests waiting for it (lock) */
	pthread_t reader;
	bool reader_started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	unsigned long long started;    /* readings begun */
	struct req *waiting, **tail;
	/* MHD's thread only: the connections waiting for a request, and
	 * those sending an answer; the heads of their lists (.next oldest) */
	struct conn idle, sending;
	unsigned int conns, evicting;
};

/* ------------------------------------------------------------ bodies */

static struct body *body_get(struct body *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

static void body_put(void *cls)
{
	struct body *b = cls;

	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(b->buf);
		free(b);
	}
}

/* --------------------------------------------------------- connections */

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	       (unsigned long long)ts.tv_nsec / 1000000;
}

static void list_del(struct conn *c)
{
	if (!c->on)
		return;
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->on = NULL;
}

/* To the end of list (h->idle, h->sending): its newest, from now. */
static void list_add(struct conn *list, struct conn *c)
{
	list_del(c);
	c->prev = list->prev;
	c->next = list;
	list->prev->next = c;
	list->prev = c;
	c->on = list;
	c->since = now_ms();
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return i ? i->socket_context : NULL;
}

/*
 * A new client: past max_conns, the connection that has waited longest
 * for a request goes (shut down: MHD sees it closed and reaps it), so
 * that clients which connect and say nothing, or too slowly, never keep a
 * scraper out; with none waiting, the one longest sending an answer, if
 * for more than SEND_GRACE_MS (a client that asks and does not read).
 * Else, every connection in a request, the new one is refused.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
				 socklen_t addrlen)
{
	struct exphttp *h = cls;
	struct conn *victim = h->idle.next;

	(void)addr;
	(void)addrlen;
	if (h->conns - h->evicting < h->max_conns)
		return MHD_YES;
	if (victim == &h->idle) {
		victim = h->sending.next;
		if (victim == &h->sending ||
		    now_ms() - victim->since < SEND_GRACE_MS)
			return MHD_NO;
	}
	list_del(victim);
	victim->evicted = true;
	h->evicting++;
	shutdown(victim->fd, SHUT_RDWR);
	return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *mc,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct exphttp *h = cls;
	struct conn *c = *socket_context;
	const union MHD_ConnectionInfo *i;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		h->conns++;
		i = MHD_get_connection_info(mc,
					    MHD_CONNECTION_INFO_CONNECTION_FD);
		c = i ? calloc(1, sizeof(*c)) : NULL;
		if (c) {	/* without it, it is never evicted */
			c->fd = i->connect_fd;
			list_add(&h->idle, c);
		}
		*socket_context = c;
		return;
	}
	h->conns--;
	if (!c)
		return;
	list_del(c);
	if (c->evicted)
		h->evicting--;
	free(c);
}

/* ------------------------------------------------------------ replies */

/* Queue r; its connection is sending from now. */
static enum MHD_Result reply(struct exphttp *h, struct MHD_Connection *mc,
			     unsigned int status, const char *type,
			     struct MHD_Response *r)
{
	enum MHD_Result ret;
	struct conn *c;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	c = conn_of(mc);
	if (ret == MHD_YES && c && !c->evicted)
		list_add(&h->sending, c);
	return ret;
}

static enum MHD_Result static_reply(struct exphttp *h,
				    struct MHD_Connection *mc,
				    unsigned int status, const char *msg)
{
	return reply(h, mc, status, TEXT,
		     MHD_create_response_from_buffer(strlen(msg), (void *)msg,
						     MHD_RESPMEM_PERSISTENT));
}

/* A reading's body as this request's response (its reference moves to
 * the response, dropped when MHD is done sending it). */
static enum MHD_Result body_reply(struct exphttp *h,
				  struct MHD_Connection *mc, struct body *b)
{
	struct MHD_Response *r;

	if (!b->buf) {
		body_put(b);
		return static_reply(h, mc, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "500 cannot read the counters\n");
	}
	r = MHD_create_response_from_buffer_with_free_callback_cls(
		b->len, b->buf, body_put, b);
	if (!r)
		body_put(b);
	return reply(h, mc, MHD_HTTP_OK, CONTENT_TYPE, r);
}

/* ------------------------------------------------------------ requests */

static bool has_body(struct MHD_Connection *mc)
{
	const char *len = MHD_lookup_connection_value(
		mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (len && strspn(len, "0") != strlen(len)) ||
	       MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Wait for the next reading to start: suspended until the reader has it. */
static enum MHD_Result wait_reading(struct exphttp *h, struct req *r)
{
	pthread_mutex_lock(&h->lock);
	if (h->stop) {
		pthread_mutex_unlock(&h->lock);
		return static_reply(h, r->mc, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "503 shutting down\n");
	}
	r->need = h->started + 1;
	r->next = NULL;
	*h->tail = r;
	h->tail = &r->next;
	/* under the lock: the reader cannot resume it before it is suspended */
	MHD_suspend_connection(r->mc);
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	return MHD_YES;
}

/*
 * Called once the headers are in (*con_cls NULL): a wrong method or a
 * body is answered at once, and MHD closes the connection after it.
 * Then again once the request is whole: the path's answer.  Then, for
 * /metrics, once more when the reading it waited for is there.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct exphttp *h = cls;
	struct req *r = *con_cls;
	struct conn *c;

	(void)version;
	(void)upload_data;
	if (!r) {
		c = conn_of(mc);
		if (c)
			list_del(c);	/* in a request: not evicted */
		if (strcmp(method, MHD_HTTP_METHOD_GET) &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD))
			return static_reply(h, mc, MHD_HTTP_METHOD_NOT_ALLOWED,
					    "405 method not allowed: use "
					    "GET\n");
		if (has_body(mc))
			return static_reply(h, mc, MHD_HTTP_CONTENT_TOO_LARGE,
					    "413 a request has no body "
					    "here\n");
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->mc = mc;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size) {	/* not sent: it has no body */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->done) {
		struct body *b = r->body;

		r->done = false;
		r->body = NULL;
		return b ? body_reply(h, mc, b) :
		       static_reply(h, mc, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "500 out of memory\n");
	}
	if (!strcmp(url, "/healthz"))
		return static_reply(h, mc, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/metrics"))
		return static_reply(h, mc, MHD_HTTP_NOT_FOUND,
				    "404 not found: the metrics are at "
				    "/metrics\n");
	return wait_reading(h, r);
}

/* A request is over (answered, or its connection gone). */
static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct exphttp *h = cls;
	struct req *r = *con_cls;
	struct conn *c = conn_of(mc);

	(void)toe;
	if (r) {
		body_put(r->body);
		free(r);
		*con_cls = NULL;
	}
	/* kept alive: waiting for its next request */
	if (c && !c->evicted)
		list_add(&h->idle, c);
}

/* ------------------------------------------------------------ reader */

/* Make a reading when someone waits; hand it to those who wait for it. */
static void *reader(void *arg)
{
	struct exphttp *h = arg;
	unsigned long long n;
	struct req **p, *r;
	struct body *b;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->stop && !h->waiting)
			pthread_cond_wait(&h->wake, &h->lock);
		if (h->stop)
			break;
		n = ++h->started;
		pthread_mutex_unlock(&h->lock);
		b = calloc(1, sizeof(*b));
		if (b) {
			b->refs = 1;
			b->buf = h->render(h->cls, &b->len);
		}
		pthread_mutex_lock(&h->lock);
		for (p = &h->waiting; (r = *p);) {
			if (r->need > n) {	/* came after it started */
				p = &r->next;
				continue;
			}
			*p = r->next;
			r->done = true;
			r->body = b ? body_get(b) : NULL;
			MHD_resume_connection(r->mc);
		}
		h->tail = p;
		body_put(b);
		/* a burst is over: the pages its connections' structures
		 * took back to the system (the heap only fragments else) */
		if (!h->waiting)
			malloc_trim(0);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* ------------------------------------------------------------ server */

struct exphttp *exphttp_start(const struct exphttp_conf *conf,
			      exphttp_render render, void *cls)
{
	struct exphttp *h = calloc(1, sizeof(*h));
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_ALLOW_SUSPEND_RESUME;

	if (!h)
		return NULL;
	/* each connection's buffers (MHD mallocs them up to 32 KiB) and each
	 * body their own mapping, unmapped when done: a burst of clients
	 * leaves no grown heap behind */
	mallopt(M_MMAP_THRESHOLD, EXPHTTP_CONN_MEMORY);
	h->render = render;
	h->cls = cls;
	h->max_conns = conf->max_conns;
	h->tail = &h->waiting;
	h->idle.next = h->idle.prev = &h->idle;
	h->sending.next = h->sending.prev = &h->sending;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	if (pthread_create(&h->reader, NULL, reader, h)) {
		exphttp_stop(h);
		return NULL;
	}
	h->reader_started = true;
	/* epoll: a thousand connections cost no more than their events */
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ?
		 MHD_USE_EPOLL : MHD_USE_POLL;
	h->d = MHD_start_daemon(
		flags, 0, on_accept, h, on_request, h,
		MHD_OPTION_LISTEN_SOCKET, conf->fd,
		MHD_OPTION_CONNECTION_LIMIT, conf->max_conns + HEADROOM,
		MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EXPHTTP_CONN_MEMORY,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_END);
	if (!h->d) {
		exphttp_stop(h);
		return NULL;
	}
	return h;
}

void exphttp_stop(struct exphttp *h)
{
	struct req *r;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	if (h->reader_started)
		pthread_join(h->reader, NULL);
	/* whoever still waits gets a 503 when MHD resumes it to close it */
	while ((r = h->waiting)) {
		h->waiting = r->next;
		MHD_resume_connection(r->mc);
	}
	if (h->d)
		MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->wake);
	free(h);
}
