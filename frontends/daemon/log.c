/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum xvm_log_level max_level = XVM_LOG_INFO;
static bool to_journal, use_syslog;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const names[] = { "error", "warning", "info", "debug" };
/* syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int priorities[] = { 3, 4, 6, 7 };

int xlog_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (name && strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

/* systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected: stderr is the journal only if they match. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;
	unsigned long long dev, ino;
	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       st.st_dev == dev && st.st_ino == ino;
}

static void vlog(enum xvm_log_level level, const char *fmt, va_list ap)
{
	if (level > max_level)
		return;
	char line[2048];
	vsnprintf(line, sizeof(line), fmt, ap);
	if (use_syslog) {
		syslog(priorities[level], "%s", line);
		return;
	}
	pthread_mutex_lock(&lock);
	if (to_journal) {
		fprintf(stderr, "<%d>%s\n", priorities[level], line);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ xvmd %s: %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[level], line);
	}
	fflush(stderr);
	pthread_mutex_unlock(&lock);
}

void xlog(enum xvm_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static void from_library(enum xvm_log_level level, const char *message, void *data)
{
	xlog(level, "%s", message);
}

void xlog_init(enum xvm_log_level level, bool to_syslog)
{
	max_level = level;
	use_syslog = to_syslog;
	if (to_syslog)
		openlog("xvmd", LOG_PID, LOG_DAEMON);
	to_journal = stderr_is_journal();
	xvm_set_log_handler(from_library, level, NULL);
}
