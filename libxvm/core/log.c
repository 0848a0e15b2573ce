/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Library code never prints: log lines go to the caller's handler. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static xvm_log_fn handler;
static void *handler_data;
static enum xvm_log_level handler_max = XVM_LOG_ERROR;

void xvm_set_log_handler(xvm_log_fn fn, enum xvm_log_level max_level, void *userdata)
{
	pthread_mutex_lock(&handler_lock);
	handler = fn;
	handler_data = userdata;
	handler_max = fn ? max_level : XVM_LOG_ERROR;
	pthread_mutex_unlock(&handler_lock);
}

void log_msg(enum xvm_log_level level, const char *fmt, ...)
{
	pthread_mutex_lock(&handler_lock);
	xvm_log_fn fn = handler;
	void *data = handler_data;
	bool wanted = fn && level <= handler_max;
	pthread_mutex_unlock(&handler_lock);
	if (!wanted)
		return;
	char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		fn(level, line, data);
		free(line);
	}
}
