/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <xvm/connection.h>

void log_msg(enum xvm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(XVM_LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(XVM_LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(XVM_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(XVM_LOG_DEBUG, __VA_ARGS__)
