/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QMP client that does not trust its peer: every exchange has a deadline,
 * every line is bounded, and anything that is not a JSON object is refused.
 * Events that arrive while waiting for a reply are kept for the caller.
 */
#pragma once

#include <json-c/json.h>

#define QMP_LINE_MAX (1024 * 1024)
#define QMP_TIMEOUT_MS 3000
#define QMP_EVENTS_MAX 256

struct qmp;

/* Connects to the unix socket at path and negotiates capabilities. */
int qmp_connect(const char *path, int timeout_ms, struct qmp **ret);
struct qmp *qmp_close(struct qmp *q);

/*
 * Runs `cmd` with `args` (borrowed; may be NULL). On success *ret (when
 * not NULL) holds the "return" value, which the caller puts. A QMP error
 * reply is -EIO with its description in the error detail.
 */
int qmp_command(struct qmp *q, const char *cmd, struct json_object *args, struct json_object **ret);

/* The same with the arguments given as a JSON text (a literal in the caller). */
int qmp_commandf(struct qmp *q, struct json_object **ret, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Gives QEMU a copy of fd under `name` (getfd over SCM_RIGHTS), for a later command to name. */
int qmp_getfd(struct qmp *q, const char *name, int fd);

/*
 * The next event, kept or read within timeout_ms: 0 with *ret set (the
 * caller puts it), -ETIMEDOUT, or -ECONNRESET when QEMU closed the socket.
 */
int qmp_next_event(struct qmp *q, int timeout_ms, struct json_object **ret);

/* The socket, for poll(2) by a caller that waits on more than QMP. */
int qmp_fd(const struct qmp *q);

/*
 * Waits for `event` whose data has `key` equal to `value` (a device id,
 * say), kept or read within timeout_ms; other events are dropped.
 */
int qmp_wait_event(struct qmp *q, const char *event, const char *key, const char *value, int timeout_ms);
