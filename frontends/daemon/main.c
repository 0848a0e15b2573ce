/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xvmd: serves libxvm over the network, XenAPI-compatible. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xvm/xvm.h>

#include "config.h"
#include "log.h"
#include "notify.h"
#include "rpc.h"
#include "server.h"

#define DEFAULT_CONFIG "/etc/xvm/xvmd.yaml"

static void usage(FILE *out)
{
	fprintf(out, "Usage: xvmd [--config FILE] [--foreground] [--log-level LEVEL]\n"
		     "  -c, --config FILE     settings (default " DEFAULT_CONFIG " when it exists)\n"
		     "  -f, --foreground      stay attached; log to stderr (the journal under systemd)\n"
		     "  -l, --log-level LEVEL error, warning, info or debug (overrides the file)\n"
		     "  -h, --help\n");
}

/* Detaches; the parent exits once the child reports (through the pipe)
 * that it listens, with its status, so `xvmd && next` works. */
static int detach(int *ready_fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		char status = 1;
		if (read(p[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(p[0]);
	setsid();
	if (fork() > 0)
		_exit(0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	if (chdir("/") < 0)
		return -1;
	*ready_fd = p[1];
	return 0;
}

static void report_ready(int *fd, char status)
{
	if (*fd < 0)
		return;
	if (write(*fd, &status, 1) != 1)
		xlog_warning("cannot tell the starting process that xvmd is ready");
	close(*fd);
	*fd = -1;
}

static int ensure_parent_dir(const char *path)
{
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	int r = 0;
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = -1;
	}
	free(dir);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config_path = NULL, *level_name = NULL;
	bool foreground = false;
	for (int c; (c = getopt_long(argc, argv, "c:fl:h", opts, NULL)) != -1;) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'f': foreground = true; break;
		case 'l': level_name = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!config_path && access(DEFAULT_CONFIG, F_OK) == 0)
		config_path = DEFAULT_CONFIG;
	struct xvmd_config cfg;
	char err[512];
	if (config_load(config_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "xvmd: %s: %s\n", config_path, err);
		return 2;
	}
	if (level_name && (cfg.log_level = xlog_level_parse(level_name)) < 0) {
		fprintf(stderr, "xvmd: --log-level takes error, warning, info or debug\n");
		return 2;
	}
	/* A glibc arena per worker thread would each keep the peak of its
	 * largest call; two serve two cores. Large buffers (answers of
	 * megabytes) are mapped and so go back to the system when freed. */
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	int ready_fd = -1;
	if (!foreground && detach(&ready_fd) < 0) {
		fprintf(stderr, "xvmd: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	xlog_init((enum xvm_log_level)cfg.log_level, !foreground);

	/* Signals are taken by sigwait below, not by handlers. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = 1;
	char *uri = config_uri(&cfg);
	struct rpc rpc = {
		.auth = { cfg.pam_service, cfg.pam_confdir, cfg.admin_group },
	};
	struct server *srv = NULL;
	if (!uri || xvm_connect(uri, XVM_CONNECT_MONITOR, &rpc.conn) < 0) {
		xlog_error("cannot open %s: %s", uri ? uri : "the state", xvm_last_error() ? xvm_last_error()->message : "out of memory");
		goto out;
	}
	if (!(rpc.sessions = sessions_new(cfg.session_idle_timeout, cfg.max_sessions_per_user)))
		goto out;
	if (*cfg.unix_socket && ensure_parent_dir(cfg.unix_socket) < 0)
		xlog_warning("cannot create the directory of %s: %s", cfg.unix_socket, strerror(errno));
	if (server_start(&cfg, &rpc, &srv) < 0)
		goto out;
	xlog_info("serving %s (libxvm %s)", uri, xvm_version());
	report_ready(&ready_fd, 0);
	notify_systemd("READY=1");
	int sig;
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		xlog_info("SIGHUP: nothing to reload; restart xvmd to apply a new configuration");
	xlog_info("stopping on signal %d", sig);
	notify_systemd("STOPPING=1");
	/* Clients waiting in event.from get their answer now, not at their timeout. */
	xvm_interrupt(rpc.conn);
	status = 0;
out:
	report_ready(&ready_fd, 1);
	server_stop(srv);
	sessions_free(rpc.sessions);
	xvm_disconnect(rpc.conn);
	free(uri);
	config_clear(&cfg);
	return status;
}
