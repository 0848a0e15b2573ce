/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP client. QEMU is a separate, possibly hung or hostile process:
 * the socket is non-blocking and every wait is a poll(2) against the
 * deadline of the exchange; a line longer than QMP_LINE_MAX or a line that
 * is not one JSON object ends the conversation with -EPROTO.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "qmp.h"

struct qmp {
	int fd;
	char path[108];
	char *buf;            /* bytes read and not yet parsed */
	size_t len;
	unsigned long next_id;
	struct json_object *events[QMP_EVENTS_MAX]; /* a ring; the oldest is dropped */
	unsigned ev_head, ev_count;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int wait_fd(struct qmp *q, short events, long long deadline, const char *what)
{
	struct pollfd p = { .fd = q->fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0) {
			xvm_hv_set_error("QMP at %s: no %s within the time-out; QEMU does not answer",
					 q->path, what);
			return -ETIMEDOUT;
		}
		if (errno != EINTR) {
			int r = -errno;
			xvm_hv_set_error("QMP at %s: poll: %s", q->path, strerror(-r));
			return r;
		}
	}
}

static void keep_event(struct qmp *q, struct json_object *ev)
{
	unsigned slot;

	if (q->ev_count == QMP_EVENTS_MAX) {
		json_object_put(q->events[q->ev_head]);
		q->ev_head = (q->ev_head + 1) % QMP_EVENTS_MAX;
		q->ev_count--;
	}
	slot = (q->ev_head + q->ev_count++) % QMP_EVENTS_MAX;
	q->events[slot] = ev;
}

static int parse_line(struct qmp *q, char *line, size_t n, struct json_object **ret)
{
	struct json_tokener *tok;
	struct json_object *o;

	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	tok = json_tokener_new();
	if (!tok) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	o = json_tokener_parse_ex(tok, line, (int)n);
	if (o && tok->char_offset != (int)n) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		xvm_hv_set_error("QMP at %s sent something that is not a JSON object: %.80s",
				 q->path, line);
		return -EPROTO;
	}
	*ret = o;
	return 0;
}

/* One message, within the deadline. */
static int read_message(struct qmp *q, long long deadline, const char *what, struct json_object **ret)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		ssize_t n;
		int r;

		if (nl) {
			size_t linelen = nl - q->buf + 1;
			r = parse_line(q, q->buf, linelen, ret);
			memmove(q->buf, q->buf + linelen, q->len - linelen);
			q->len -= linelen;
			return r;
		}
		if (q->len >= QMP_LINE_MAX) {
			xvm_hv_set_error("QMP at %s sent a line over %d bytes; refusing it",
					 q->path, QMP_LINE_MAX);
			return -EPROTO;
		}
		r = wait_fd(q, POLLIN, deadline, what);
		if (r < 0)
			return r;
		n = read(q->fd, q->buf + q->len, QMP_LINE_MAX - q->len);
		if (n == 0) {
			xvm_hv_set_error("QMP at %s: QEMU closed the connection", q->path);
			return -ECONNRESET;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			xvm_hv_set_error("QMP at %s: read: %s", q->path, strerror(-r));
			return r;
		}
		q->len += n;
	}
}

static int write_all(struct qmp *q, const char *s, size_t n, long long deadline)
{
	while (n) {
		ssize_t w = send(q->fd, s, n, MSG_NOSIGNAL);
		int r;

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				r = -errno;
				xvm_hv_set_error("QMP at %s: write: %s", q->path, strerror(-r));
				return r;
			}
			r = wait_fd(q, POLLOUT, deadline, "room to send a command");
			if (r < 0)
				return r;
			continue;
		}
		s += w;
		n -= w;
	}
	return 0;
}

/* One byte with the fd attached (SCM_RIGHTS): QEMU takes the fd with the message it begins. */
static int send_fd(struct qmp *q, int fd, long long deadline)
{
	char cbuf[CMSG_SPACE(sizeof fd)] = { 0 }, byte = ' ';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int r;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fd);
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	while (sendmsg(q->fd, &m, MSG_NOSIGNAL) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			xvm_hv_set_error("QMP at %s: sending an fd: %s", q->path, strerror(-r));
			return r;
		}
		if ((r = wait_fd(q, POLLOUT, deadline, "room to send an fd")) < 0)
			return r;
	}
	return 0;
}

static int exchange_fd(struct qmp *q, const char *cmd, struct json_object *args, int fd,
		       struct json_object **ret, long long deadline)
{
	struct json_object *msg = json_object_new_object(), *reply = NULL, *v;
	char id[32];
	const char *text;
	int r;

	snprintf(id, sizeof id, "xvm-%lu", q->next_id++);
	json_object_object_add(msg, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(msg, "arguments", json_object_get(args));
	json_object_object_add(msg, "id", json_object_new_string(id));
	text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	r = fd >= 0 ? send_fd(q, fd, deadline) : 0;
	if (r == 0)
		r = write_all(q, text, strlen(text), deadline);
	if (r == 0)
		r = write_all(q, "\n", 1, deadline);
	json_object_put(msg);
	while (r == 0) {
		r = read_message(q, deadline, "reply", &reply);
		if (r < 0)
			break;
		if (json_object_object_get_ex(reply, "event", NULL)) {
			keep_event(q, reply);
			continue;
		}
		/* A late reply to an earlier, timed-out command of ours. */
		if (json_object_object_get_ex(reply, "id", &v) && strcmp(json_object_get_string(v), id)) {
			json_object_put(reply);
			continue;
		}
		if (json_object_object_get_ex(reply, "return", &v)) {
			if (ret)
				*ret = json_object_get(v);
		} else if (json_object_object_get_ex(reply, "error", &v)) {
			struct json_object *desc = NULL;
			json_object_object_get_ex(v, "desc", &desc);
			xvm_hv_set_error("QEMU refused %s: %.900s", cmd,
					 desc ? json_object_get_string(desc) : "(no description)");
			r = -EIO;
		} else {
			xvm_hv_set_error("QMP at %s answered %s with neither return nor error", q->path, cmd);
			r = -EPROTO;
		}
		json_object_put(reply);
		break;
	}
	return r;
}

static int exchange(struct qmp *q, const char *cmd, struct json_object *args,
		    struct json_object **ret, long long deadline)
{
	return exchange_fd(q, cmd, args, -1, ret, deadline);
}

int qmp_connect(const char *path, int timeout_ms, struct qmp **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	struct json_object *greeting = NULL;
	struct qmp *q;
	int r;

	if (strlen(path) >= sizeof sa.sun_path) {
		xvm_hv_set_error("QMP socket path %s is too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	q = calloc(1, sizeof *q);
	if (!q || !(q->buf = malloc(QMP_LINE_MAX))) {
		free(q);
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	strcpy(sa.sun_path, path);
	strcpy(q->path, path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot connect to QMP at %s: %s", path, strerror(-r));
		goto fail;
	}
	/* An event the monitor queued before this client came may come ahead
	 * of the greeting: skip events (a bounded number) until it. */
	for (int skipped = 0;; skipped++) {
		r = read_message(q, deadline, "greeting", &greeting);
		if (r < 0)
			goto fail;
		if (skipped >= 16 || !json_object_object_get_ex(greeting, "event", NULL))
			break;
		json_object_put(greeting);
		greeting = NULL;
	}
	if (!json_object_object_get_ex(greeting, "QMP", NULL)) {
		xvm_hv_set_error("QMP at %s greeted with something else: %.80s", path,
				 json_object_to_json_string(greeting));
		json_object_put(greeting);
		r = -EPROTO;
		goto fail;
	}
	json_object_put(greeting);
	r = exchange(q, "qmp_capabilities", NULL, NULL, deadline);
	if (r < 0)
		goto fail;
	*ret = q;
	return 0;

fail:
	qmp_close(q);
	return r;
}

struct qmp *qmp_close(struct qmp *q)
{
	if (!q)
		return NULL;
	if (q->fd >= 0)
		close(q->fd);
	while (q->ev_count) {
		json_object_put(q->events[q->ev_head]);
		q->ev_head = (q->ev_head + 1) % QMP_EVENTS_MAX;
		q->ev_count--;
	}
	free(q->buf);
	free(q);
	return NULL;
}

int qmp_command(struct qmp *q, const char *cmd, struct json_object *args, struct json_object **ret)
{
	return exchange(q, cmd, args, ret, now_ms() + QMP_TIMEOUT_MS);
}

int qmp_getfd(struct qmp *q, const char *name, int fd)
{
	struct json_object *args = json_object_new_object();
	int r;

	json_object_object_add(args, "fdname", json_object_new_string(name));
	r = exchange_fd(q, "getfd", args, fd, NULL, now_ms() + QMP_TIMEOUT_MS);
	json_object_put(args);
	return r;
}

int qmp_commandf(struct qmp *q, struct json_object **ret, const char *cmd, const char *fmt, ...)
{
	struct json_object *args;
	char text[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	args = json_tokener_parse(text);
	if (!args) {
		xvm_hv_set_error("internal error: bad QMP arguments for %s: %s", cmd, text);
		return -EINVAL;
	}
	r = qmp_command(q, cmd, args, ret);
	json_object_put(args);
	return r;
}

int qmp_next_event(struct qmp *q, int timeout_ms, struct json_object **ret)
{
	long long deadline = now_ms() + timeout_ms;
	struct json_object *m;
	int r;

	for (;;) {
		if (q->ev_count) {
			*ret = q->events[q->ev_head];
			q->ev_head = (q->ev_head + 1) % QMP_EVENTS_MAX;
			q->ev_count--;
			return 0;
		}
		r = read_message(q, deadline, "event", &m);
		if (r < 0)
			return r;
		if (json_object_object_get_ex(m, "event", NULL))
			keep_event(q, m);
		else
			json_object_put(m); /* a stray reply */
	}
}

int qmp_fd(const struct qmp *q)
{
	return q->fd;
}

int qmp_wait_event(struct qmp *q, const char *event, const char *key, const char *value, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct json_object *ev, *v, *data;
	int r;

	for (;;) {
		long long left = deadline - now_ms();
		bool match;

		r = qmp_next_event(q, left > 0 ? (int)left : 0, &ev);
		if (r < 0)
			return r;
		match = json_object_object_get_ex(ev, "event", &v) && !strcmp(json_object_get_string(v), event) &&
			json_object_object_get_ex(ev, "data", &data) && json_object_object_get_ex(data, key, &v) &&
			!strcmp(json_object_get_string(v), value);
		json_object_put(ev);
		if (match)
			return 0;
	}
}
