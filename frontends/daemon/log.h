/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvmd's log: lines with a level, to stderr; under systemd (stderr is the
 * journal's stream) each line carries its syslog priority as a "<N>"
 * prefix, which journald reads as the entry's level. libxvm's own lines
 * come through the same path.
 */
#pragma once

#include <stdbool.h>
#include <xvm/xvm.h>

/* Lines above max_level are dropped; to_syslog: a detached daemon's lines
 * go to syslog (and so to the journal) instead of stderr. */
void xlog_init(enum xvm_log_level max_level, bool to_syslog);
/* "error", "warning", "info", "debug" -> level; -1 if none of them. */
int xlog_level_parse(const char *name);

void xlog(enum xvm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define xlog_error(...) xlog(XVM_LOG_ERROR, __VA_ARGS__)
#define xlog_warning(...) xlog(XVM_LOG_WARNING, __VA_ARGS__)
#define xlog_info(...) xlog(XVM_LOG_INFO, __VA_ARGS__)
#define xlog_debug(...) xlog(XVM_LOG_DEBUG, __VA_ARGS__)
