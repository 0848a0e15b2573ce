/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-thread last error, and setting it from anywhere in libxvm. */
#include "core/error_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 8

static const char *const code_names[] = {
	[XVM_OK] = "SUCCESS",
#define NAME_(name, desc) [XVM_ERR_##name] = #name,
	XVM_ERROR_CODES(NAME_)
#undef NAME_
};

struct thread_error {
	struct xvm_error pub;
	bool set;
	char *name;
	char *params[MAX_PARAMS];
	char *message;
};

static _Thread_local struct thread_error last;

static void thread_error_clear(struct thread_error *e)
{
	free(e->name);
	free(e->message);
	for (size_t i = 0; i < MAX_PARAMS; i++) {
		free(e->params[i]);
		e->params[i] = NULL;
	}
	e->name = e->message = NULL;
	e->set = false;
	memset(&e->pub, 0, sizeof(e->pub));
}

const struct xvm_error *xvm_last_error(void)
{
	return last.set ? &last.pub : NULL;
}

const char *xvm_error_code_name(int code)
{
	if (code < 0)
		code = -code;
	if (code <= XVM_OK || code >= XVM_ERR__MAX)
		return NULL;
	return code_names[code];
}

int xvm_error_code_from_name(const char *name)
{
	for (int i = 1; i < XVM_ERR__MAX; i++)
		if (name && strcmp(code_names[i], name) == 0)
			return i;
	return XVM_ERR_INTERNAL_ERROR;
}

void error_clear(void)
{
	thread_error_clear(&last);
}

int error_set_wire(const char *name, size_t nparams, const char *const *params, const char *message)
{
	thread_error_clear(&last);
	int code = xvm_error_code_from_name(name);
	if (nparams > MAX_PARAMS)
		nparams = MAX_PARAMS;
	last.name = strdup(name ? name : "INTERNAL_ERROR");
	last.message = strdup(message ? message : "");
	for (size_t i = 0; i < nparams; i++)
		last.params[i] = strdup(params[i] ? params[i] : "");
	last.pub.code = code;
	last.pub.name = last.name;
	last.pub.nparams = nparams;
	last.pub.params = (const char *const *)last.params;
	last.pub.message = last.message;
	last.set = true;
	return -code;
}

int error_setv(int code, const char *const *params, size_t nparams, const char *fmt, va_list ap)
{
	char *message = NULL;
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	int r = error_set_wire(xvm_error_code_name(code), nparams, params,
			       message ? message : "out of memory while reporting an error");
	free(message);
	return r;
}

int error_set(int code, const char *const *params, size_t nparams, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_setv(code, params, nparams, fmt, ap);
	va_end(ap);
	return r;
}

int error_oom(void)
{
	/* Avoids allocating: the name and message are static. */
	thread_error_clear(&last);
	last.pub.code = XVM_ERR_INTERNAL_ERROR;
	last.pub.name = code_names[XVM_ERR_INTERNAL_ERROR];
	last.pub.message = "out of memory";
	last.set = true;
	return -XVM_ERR_INTERNAL_ERROR;
}

void *error_stash(void)
{
	struct thread_error *saved = malloc(sizeof(*saved));
	if (!saved)
		return NULL;
	*saved = last;
	memset(&last, 0, sizeof(last));
	return saved;
}

int error_unstash(void *stash)
{
	struct thread_error *saved = stash;
	if (!saved)
		return error_oom();
	thread_error_clear(&last);
	last = *saved;
	free(saved);
	/* The public view pointed into the stash's copy of the parameters. */
	last.pub.params = (const char *const *)last.params;
	return last.set ? -last.pub.code : 0;
}
