/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend-independent hypercall layer: opening, ABI checks, counting,
 * fault injection (API and XVM_HC_FAULT), tracing and the per-thread error
 * detail. The sim backend serves as the backend underneath.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvtest.h"

static char *dir;
static struct xvm_hv *hv;

static void setup(void)
{
	unsetenv("XVM_HC_FAULT");
	unsetenv("XVM_HC_TRACE");
	dir = hvt_tmpdir();
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
}

static void teardown(void)
{
	hv = xvm_hv_close(hv);
	hvt_rmdir(dir);
}

TestSuite(hypercall, .init = setup, .fini = teardown);

Test(hypercall, open_rejects_bad_arguments_and_leaves_ret_alone)
{
	struct xvm_hv *h = (struct xvm_hv *)0x1;

	cr_assert_eq(xvm_hv_open("nosuch", dir, 0, &h), -EPROTONOSUPPORT);
	cr_assert(strstr(xvm_hv_last_error(NULL), "nosuch"));
	cr_assert_eq(xvm_hv_open("xen", dir, 0, &h), -EPROTONOSUPPORT);
	cr_assert_eq(xvm_hv_open("sim", dir, 1u << 3, &h), -EINVAL);
	cr_assert(strstr(xvm_hv_last_error(NULL), "flags"));
	cr_assert_eq(xvm_hv_open(NULL, dir, 0, &h), -EINVAL);
	cr_assert_eq(xvm_hv_open("sim", NULL, 0, &h), -EINVAL);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, NULL), -EINVAL);
	cr_assert_eq(h, (struct xvm_hv *)0x1);
	cr_assert_null(xvm_hv_close(NULL));
}

Test(hypercall, op_names)
{
	cr_assert_str_eq(xvm_hc_op_name(XVM_HC_HOST_INFO), "host_info");
	cr_assert_str_eq(xvm_hc_op_name(XVM_HC_DOMAIN_UNPAUSE), "domain_unpause");
	cr_assert_str_eq(xvm_hc_op_name(XVM_HC_GUEST_ACTION), "guest_action");
	for (int op = 1; op < XVM_HC_OP_MAX; op++)
		cr_assert_not_null(xvm_hc_op_name(op), "op %d has no name", op);
	cr_assert_null(xvm_hc_op_name(0));
	cr_assert_null(xvm_hc_op_name(XVM_HC_OP_MAX));
}

Test(hypercall, abi_checks)
{
	struct xvm_hc_host_info hi = { .head = XVM_HC_HEAD(0) };
	struct xvm_hc_domain d = { .head = XVM_HC_HEAD(0), .domid = 1 };
	struct xvm_hc_domain_config c;
	struct xvm_hc_domain_create cr = { .head = XVM_HC_HEAD(0), .config = &c };

	cr_assert_eq(xvm_hypercall(hv, 0, &hi), -ENOSYS);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_OP_MAX, &hi), -ENOSYS);
	cr_assert_eq(xvm_hypercall(hv, 999, &hi), -ENOSYS);
	cr_assert(strstr(xvm_hv_last_error(hv), "999"));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_HOST_INFO, NULL), -EFAULT);

	hi.head.version = XVM_HC_ABI_VERSION + 1;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_HOST_INFO, &hi), -EPROTO);
	cr_assert(strstr(xvm_hv_last_error(hv), "version"));
	cr_assert_str_empty(hi.backend, "outputs must be untouched on failure");

	/* KEEP_ON_FAILURE belongs to DOMAIN_CREATE only. */
	d.head.flags = XVM_HC_F_CREATE_KEEP_ON_FAILURE;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_PAUSE, &d), -EINVAL);
	cr_assert(strstr(xvm_hv_last_error(hv), "flags"));
	hvt_config(&c, 1, 4096);
	cr.head.flags = 1u << 7;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_CREATE, &cr), -EINVAL);
	cr.head.flags = XVM_HC_F_CREATE_KEEP_ON_FAILURE;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_CREATE, &cr), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(cr.domid, 1);
}

Test(hypercall, unsupported_ops_say_why)
{
	struct xvm_hc_console con = { .head = XVM_HC_HEAD(0), .domid = hvt_create(hv, 1) };
	struct xvm_hc_migrate m = { .head = XVM_HC_HEAD(0), .domid = con.domid };

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_CONSOLE_OPEN, &con), -EOPNOTSUPP);
	cr_assert(strstr(xvm_hv_last_error(hv), "console_open"));
	cr_assert(strstr(xvm_hv_last_error(hv), "sim"));
	cr_assert_str_empty(con.location);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_MIGRATE_SEND, &m), -EOPNOTSUPP);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_MIGRATE_RECEIVE, &m), -EOPNOTSUPP);
}

Test(hypercall, counts_every_call_per_op)
{
	struct xvm_hc_domain_info bad = { .head = { .version = 99 } };
	uint32_t d = hvt_create(hv, 1);

	cr_assert_eq(xvm_hv_op_count(hv, XVM_HC_DOMAIN_CREATE), 1);
	for (int i = 0; i < 5; i++)
		hvt_info(hv, d);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_PAUSE, 4242), -ESRCH);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &bad), -EPROTO);
	cr_assert_eq(xvm_hv_op_count(hv, XVM_HC_DOMAIN_GET_INFO), 6);
	cr_assert_eq(xvm_hv_op_count(hv, XVM_HC_DOMAIN_PAUSE), 1);
	cr_assert_eq(xvm_hv_op_count(hv, XVM_HC_DOMAIN_UNPAUSE), 0);
	cr_assert_eq(xvm_hv_op_count(hv, 0), 0);
	cr_assert_eq(xvm_hv_op_count(hv, XVM_HC_OP_MAX), 0);
}

Test(hypercall, injected_fault_hits_the_nth_call_only)
{
	uint32_t d = hvt_create(hv, 1);
	struct xvm_hc_domain_info i = { .head = XVM_HC_HEAD(0), .domid = d };

	xvm_hv_inject_fault(hv, XVM_HC_DOMAIN_GET_INFO, 2, EIO);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), 0);
	memset(i.uuid, 'x', sizeof i.uuid);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), -EIO);
	cr_assert(strstr(xvm_hv_last_error(hv), "injected"));
	cr_assert_eq(i.uuid[0], 'x', "a faulted call must not reach the backend");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), 0);
	cr_assert_eq(xvm_hv_op_count(hv, XVM_HC_DOMAIN_GET_INFO), 3);
}

Test(hypercall, injected_fault_does_not_reach_the_backend)
{
	uint32_t d = hvt_create(hv, 1);

	xvm_hv_inject_fault(hv, XVM_HC_DOMAIN_UNPAUSE, 1, ENOSPC);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), -ENOSPC);
	cr_assert_eq(hvt_info(hv, d).state, XVM_HC_STATE_PAUSED);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), 0);
	cr_assert_eq(hvt_info(hv, d).state, XVM_HC_STATE_RUNNING);

	/* nth = 0 clears a pending fault. */
	xvm_hv_inject_fault(hv, XVM_HC_DOMAIN_PAUSE, 1, EBUSY);
	xvm_hv_inject_fault(hv, XVM_HC_DOMAIN_PAUSE, 0, 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_PAUSE, d), 0);
}

Test(hypercall, fault_from_environment)
{
	struct xvm_hv *h;
	uint32_t d = hvt_create(hv, 1);

	setenv("XVM_HC_FAULT", "domain_unpause:1:EIO,domain_get_info:2:ETIMEDOUT", 1);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(hvt_dom(h, XVM_HC_DOMAIN_UNPAUSE, d), -EIO);
	cr_assert_eq(hvt_dom(h, XVM_HC_DOMAIN_UNPAUSE, d), 0);
	hvt_info(h, d);
	struct xvm_hc_domain_info i = { .head = XVM_HC_HEAD(0), .domid = d };
	cr_assert_eq(xvm_hypercall(h, XVM_HC_DOMAIN_GET_INFO, &i), -ETIMEDOUT);
	xvm_hv_close(h);
}

Test(hypercall, malformed_fault_environment_fails_open)
{
	static const char *const bad[] = {
		"bogus_op:1:EIO", "domain_unpause:0:EIO", "domain_unpause:1:EWHATEVER",
		"domain_unpause:1", "domain_unpause:x:EIO", "domain_unpause:1:EIO:more",
		"domain_unpause:1:EIO,", "domain_unpause:-1:EIO", ":1:EIO",
		"domain_unpause:1:EIO,domain_unpause:2:ENOMEM", "domain_unpause:1:eio",
	};

	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		struct xvm_hv *h = NULL;

		setenv("XVM_HC_FAULT", bad[k], 1);
		cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), -EINVAL, "'%s' accepted", bad[k]);
		cr_assert_null(h);
		cr_assert(strstr(xvm_hv_last_error(NULL), "XVM_HC_FAULT"), "%s",
			  xvm_hv_last_error(NULL));
	}
	/* Every errno name the brief lists is understood. */
	setenv("XVM_HC_FAULT", "host_info:1:EIO,domain_create:1:ENOMEM,domain_pause:1:ENOSPC,"
	       "domain_unpause:1:EBUSY,domain_destroy:1:EINVAL,domain_get_info:1:ETIMEDOUT,"
	       "domain_list:1:EPERM,event_poll:1:ENOENT", 1);
	struct xvm_hv *h;
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), 0, "%s", xvm_hv_last_error(NULL));
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0) };
	cr_assert_eq(xvm_hypercall(h, XVM_HC_DOMAIN_LIST, &l), -EPERM);
	xvm_hv_close(h);
}

struct lines {
	char buf[8][512];
	int n;
};

static void collect(void *userdata, const char *line)
{
	struct lines *l = userdata;

	if (l->n < 8)
		snprintf(l->buf[l->n++], sizeof l->buf[0], "%s", line);
}

Test(hypercall, trace_callback)
{
	struct lines l = { .n = 0 };
	uint32_t d = hvt_create(hv, 1);

	xvm_hv_set_trace(hv, collect, &l);
	hvt_info(hv, d);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, 77), -ESRCH);
	hvt_create(hv, 2);
	xvm_hv_set_trace(hv, NULL, NULL);
	hvt_info(hv, d);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.buf[0], "domain_get_info domid=1 -> 0");
	cr_assert(strstr(l.buf[1], "domain_destroy domid=77 -> -ESRCH"), "%s", l.buf[1]);
	cr_assert(strstr(l.buf[1], "domain 77 does not exist"), "%s", l.buf[1]);
	cr_assert_str_eq(l.buf[2], "domain_create domid=2 -> 0");
}

Test(hypercall, trace_to_stderr_from_environment)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	struct xvm_hv *h;
	char out[1024] = "";

	cr_assert(f && saved >= 0);
	setenv("XVM_HC_TRACE", "1", 1);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), 0);
	fflush(stderr);
	dup2(fileno(f), 2);
	cr_assert_eq(hvt_dom(h, XVM_HC_DOMAIN_PAUSE, 5), -ESRCH);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	fread(out, 1, sizeof out - 1, f);
	fclose(f);
	xvm_hv_close(h);
	cr_assert(strstr(out, "domain_pause domid=5 -> -ESRCH"), "stderr: '%s'", out);
}

static void *fail_in_thread(void *arg)
{
	struct xvm_hv *h = arg;
	static _Thread_local char mine[256];

	hvt_dom(h, XVM_HC_DOMAIN_PAUSE, 31337);
	usleep(20000); /* let the main thread fail in between */
	snprintf(mine, sizeof mine, "%s", xvm_hv_last_error(h));
	return strdup(mine);
}

Test(hypercall, last_error_is_per_thread)
{
	pthread_t t;
	char *theirs;

	pthread_create(&t, NULL, fail_in_thread, hv);
	usleep(5000);
	cr_assert_eq(xvm_hypercall(hv, 999, NULL), -ENOSYS);
	pthread_join(t, (void **)&theirs);
	cr_assert(strstr(theirs, "domain 31337 does not exist"), "%s", theirs);
	cr_assert(strstr(xvm_hv_last_error(hv), "999"), "%s", xvm_hv_last_error(hv));
	free(theirs);
}
