/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `xvm console`: a VM's text console. At a terminal it is interactive
 * (Ctrl-] detaches); for a script it prints the current boot's output from
 * the start and follows it until the VM stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "select.h"

#define ESCAPE_CHAR 0x1d /* Ctrl-] as in telnet and virsh */

struct text_console {
	char *location; /* the serial socket */
	char *log;      /* the current boot's output */
};

/* The vt100 console of a VM, from its console records. */
static int find_text_console(struct cli_ctx *ctx, const char *vm, struct text_console *out)
{
	struct json_object *consoles;
	if (xvm_object_get_field(ctx->conn, "VM", vm, "consoles", &consoles) < 0)
		return cli_api_error();
	int r = -1; /* none found yet */
	for (size_t i = 0; i < json_object_array_length(consoles); i++) {
		struct json_object *rec, *v, *oc;
		if (xvm_object_get_record(ctx->conn, "console", json_object_get_string(json_object_array_get_idx(consoles, i)),
					  &rec) < 0) {
			r = cli_api_error();
			break;
		}
		bool text = json_object_object_get_ex(rec, "protocol", &v) && strcmp(json_object_get_string(v), "vt100") == 0;
		if (text) {
			out->location = strdup(json_object_get_string(json_object_object_get(rec, "location")));
			out->log = json_object_object_get_ex(rec, "other_config", &oc) && json_object_object_get_ex(oc, "log", &v)
				? strdup(json_object_get_string(v)) : NULL;
			r = CLI_EXIT_OK;
		}
		json_object_put(rec);
		if (text)
			break;
	}
	json_object_put(consoles);
	return r == -1 ? cli_fail("the VM has no text console: is it running?") : r;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int interactive(const char *socket_path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;
		if (s >= 0)
			close(s);
		return cli_fail("cannot connect to the console %s: %s", socket_path, strerror(err));
	}
	struct termios saved, raw;
	tcgetattr(STDIN_FILENO, &saved);
	raw = saved;
	cfmakeraw(&raw);
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	fprintf(stderr, "Connected; escape character is '^]'.\r\n");
	struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = s, .events = POLLIN } };
	char buf[4096];
	for (bool done = false; !done;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			char *esc = n > 0 ? memchr(buf, ESCAPE_CHAR, (size_t)n) : NULL;
			if (esc) {
				n = esc - buf; /* what came before the escape still goes */
				done = true;
			}
			if (n < 0 || (n > 0 && write_all(s, buf, (size_t)n) < 0))
				done = true;
		}
		if (fds[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(s, buf, sizeof(buf));
			if (n <= 0 || write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				done = true;
		}
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	fprintf(stderr, "\nDisconnected.\n");
	close(s);
	return CLI_EXIT_OK;
}

/* Copies what the log gained since the last call. */
static int drain(int fd)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			return -1;
	return 0;
}

/* The VM still runs the domain it ran when we started following. */
static bool same_run(struct cli_ctx *ctx, const char *vm, int64_t domid)
{
	struct json_object *d;
	if (xvm_object_get_field(ctx->conn, "VM", vm, "domid", &d) < 0)
		return false;
	bool same = json_object_get_int64(d) == domid;
	json_object_put(d);
	return same;
}

static int follow(struct cli_ctx *ctx, const char *vm, const char *log)
{
	if (!log)
		return cli_fail("this hypervisor keeps no console log to follow");
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cli_fail("cannot read the console log %s: %s", log, strerror(errno));
	struct json_object *d;
	int64_t domid = -1;
	if (xvm_object_get_field(ctx->conn, "VM", vm, "domid", &d) == 0) {
		domid = json_object_get_int64(d);
		json_object_put(d);
	}
	int r = CLI_EXIT_OK;
	for (;;) {
		if (drain(fd) < 0) {
			r = cli_fail("cannot write the console output");
			break;
		}
		fflush(stdout);
		if (!same_run(ctx, vm, domid)) {
			if (drain(fd) < 0)
				r = cli_fail("cannot write the console output");
			break;
		}
		struct timespec pause_ = { 0, 100 * 1000 * 1000 };
		nanosleep(&pause_, NULL);
	}
	close(fd);
	return r;
}

int cli_run_console(struct cli_ctx *ctx)
{
	struct json_object *refs;
	int r = cli_select(ctx, &refs);
	if (r)
		return r;
	const char *vm = json_object_get_string(json_object_array_get_idx(refs, 0));
	struct text_console con = { 0 };
	if ((r = find_text_console(ctx, vm, &con)) == CLI_EXIT_OK)
		r = isatty(STDIN_FILENO) ? interactive(con.location) : follow(ctx, vm, con.log);
	free(con.location);
	free(con.log);
	json_object_put(refs);
	return r;
}
