/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim backend, continued (test_sim.c has the rest): save/restore,
 * corrupt save and table files, rebuilding after a crash, growth and
 * concurrent use by threads, handles and a lock holder that dies.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HVT_SIM_FIXTURE
#include "hvtest.h"

TestSuite(sim, .init = hvt_sim_setup, .fini = hvt_sim_teardown);

static int save(uint32_t domid, const char *path)
{
	struct xvm_hc_domain_save a = { .head = XVM_HC_HEAD(0), .domid = domid };

	snprintf(a.path, sizeof a.path, "%s", path);
	return xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &a);
}

static int restore(const struct xvm_hc_domain_config *c, const char *path, uint32_t *domid)
{
	struct xvm_hc_domain_restore a = { .head = XVM_HC_HEAD(0), .config = c, .domid = 0xdead };
	int r;

	snprintf(a.path, sizeof a.path, "%s", path);
	r = xvm_hypercall(hv, XVM_HC_DOMAIN_RESTORE, &a);
	if (r < 0)
		cr_assert_eq(a.domid, 0xdead);
	if (domid)
		*domid = a.domid;
	return r;
}

Test(sim, save_restore_continues_the_same_run)
{
	char path[512];
	uint32_t d, r;

	snprintf(path, sizeof path, "%s/vm1.save", dir);
	hvt_config(&cfg, 1, 65536);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	struct xvm_hc_domain_vcpus v = { .head = XVM_HC_HEAD(0), .domid = d, .online = 2 };
	struct xvm_hc_domain_memory m = { .head = XVM_HC_HEAD(0), .domid = d, .target_kib = 40000 };
	xvm_hypercall(hv, XVM_HC_DOMAIN_SET_VCPUS, &v);
	xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m);
	hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d);
	usleep(3000);
	struct xvm_hc_domain_info before = hvt_info(hv, d);

	cr_assert_eq(save(d, path), 0, "%s", xvm_hv_last_error(hv));
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_GET_INFO, d), -ESRCH, "saved domain is gone");
	cr_assert_eq(hvt_host_info(hv).memory_free_kib, hvt_host_info(hv).memory_total_kib);

	cr_assert_eq(restore(&cfg, path, &r), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_neq(r, d);
	struct xvm_hc_domain_info after = hvt_info(hv, r);
	cr_assert_eq(after.state, XVM_HC_STATE_PAUSED);
	cr_assert_str_eq(after.uuid, before.uuid);
	cr_assert_eq(after.start_time, before.start_time);
	cr_assert_geq(after.cpu_time_ns, before.cpu_time_ns);
	cr_assert_eq(after.vcpus_online, 2, "run state comes from the image, not the config");
	cr_assert_eq(after.memory_target_kib, 40000);
	usleep(2000);
	cr_assert_eq(hvt_info(hv, r).cpu_time_ns, after.cpu_time_ns);

	/* The same uuid is live again; a differently shaped domain cannot take the image. */
	cr_assert_eq(restore(&cfg, path, NULL), -EEXIST);
	hvt_config(&cfg, 2, 65536);
	cfg.vcpus_max = 4;
	cr_assert_eq(restore(&cfg, path, NULL), -EINVAL);
	hvt_config(&cfg, 2, 131072);
	cr_assert_eq(restore(&cfg, path, NULL), -EINVAL);
	/* A copy of the VM under a new uuid restores fine. */
	hvt_config(&cfg, 2, 65536);
	cr_assert_eq(restore(&cfg, path, NULL), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(restore(&cfg, "/nonexistent/save", NULL), -ENOENT);
	cr_assert_eq(restore(NULL, path, NULL), -EFAULT);
}

/* A checkpoint: the image is written and the domain runs on, paused or not as it was. */
Test(sim, save_keep_leaves_the_domain_running)
{
	char path[512];
	uint32_t d, r;

	snprintf(path, sizeof path, "%s/vm1.save", dir);
	hvt_config(&cfg, 1, 65536);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	struct xvm_hc_domain_memory m = { .head = XVM_HC_HEAD(0), .domid = d, .target_kib = 40000 };
	xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m);
	hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d);
	struct xvm_hc_domain_save a = { .head = XVM_HC_HEAD(XVM_HC_F_SAVE_KEEP), .domid = d };
	snprintf(a.path, sizeof a.path, "%s", path);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &a), 0, "%s", xvm_hv_last_error(hv));
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(hvt_info(hv, d).state, XVM_HC_STATE_RUNNING, "the domain runs on");
	m.target_kib = 50000;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m), 0);
	cr_assert_eq(restore(&cfg, path, NULL), -EEXIST, "the domain is still there");

	/* Back to the checkpoint: the run state is the one saved. */
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
	cr_assert_eq(restore(&cfg, path, &r), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, r).memory_target_kib, 40000);

	/* A paused domain stays paused. */
	cr_assert_eq(hvt_info(hv, r).state, XVM_HC_STATE_PAUSED);
	a.domid = r;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &a), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, r).state, XVM_HC_STATE_PAUSED);
	a.head.flags = 1u << 31;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &a), -EINVAL, "unknown flags are refused");
}

Test(sim, save_keeps_a_pending_shutdown_and_refuses_dead_domains)
{
	char path[512];
	uint32_t d, r;

	snprintf(path, sizeof path, "%s/vm.save", dir);
	hvt_config(&cfg, 1, 65536);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	cr_assert_eq(hvt_shutdown_req(hv, d, XVM_HC_SHUTDOWN_POWEROFF), 0);
	cr_assert_eq(save(d, path), 0);
	cr_assert_eq(restore(&cfg, path, &r), 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, r), 0);
	cr_assert_eq(hvt_info(hv, r).state, XVM_HC_STATE_SHUTDOWN);
	cr_assert_eq(save(r, path), -EINVAL, "a powered-off guest has nothing to save");
	hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, r);

	/* A guest that suspended itself is saved, and resumes. */
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d);
	cr_assert_eq(hvt_shutdown_req(hv, d, XVM_HC_SHUTDOWN_SUSPEND), 0);
	cr_assert_eq(hvt_info(hv, d).shutdown_reason, XVM_HC_SHUTDOWN_SUSPEND);
	cr_assert_eq(save(d, path), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(restore(&cfg, path, &r), 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, r), 0);
	cr_assert_eq(hvt_info(hv, r).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(save(r, "/nonexistent/dir/x.save"), -ENOENT);
	cr_assert_eq(hvt_info(hv, r).state, XVM_HC_STATE_RUNNING, "a failed save keeps the domain");
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

Test(sim, corrupt_save_files_are_refused)
{
	char path[512], bad[512];
	unsigned char good[512];
	size_t n;
	uint32_t d;
	FILE *f;

	snprintf(path, sizeof path, "%s/vm.save", dir);
	snprintf(bad, sizeof bad, "%s/bad.save", dir);
	hvt_config(&cfg, 1, 65536);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	cr_assert_eq(save(d, path), 0);
	f = fopen(path, "r");
	n = fread(good, 1, sizeof good, f);
	fclose(f);
	cr_assert_gt(n, 16);
	cr_assert_lt(n, sizeof good);

	for (size_t len = 0; len < n; len++) {
		write_file(bad, good, len);
		cr_assert_eq(restore(&cfg, bad, NULL), -EINVAL, "truncated to %zu accepted", len);
	}
	cr_assert(strstr(xvm_hv_last_error(hv), "bad.save"), "%s", xvm_hv_last_error(hv));
	for (size_t k = 0; k < n; k++) {
		unsigned char copy[512];
		memcpy(copy, good, n);
		copy[k] ^= 0x20;
		write_file(bad, copy, n);
		cr_assert_eq(restore(&cfg, bad, NULL), -EINVAL, "flipped byte %zu accepted", k);
	}
	unsigned char longer[520];
	memcpy(longer, good, n);
	memset(longer + n, 0, 8);
	write_file(bad, longer, n + 8);
	cr_assert_eq(restore(&cfg, bad, NULL), -EINVAL, "trailing data accepted");
	cr_assert_eq(hvt_list_count(hv), 0, "a refused restore creates nothing");
	cr_assert_eq(restore(&cfg, path, NULL), 0, "%s", xvm_hv_last_error(hv));
}

static char *table_path(void)
{
	char *p;

	cr_assert(asprintf(&p, "%s/sim-hypervisor", dir) > 0);
	return p;
}

Test(sim, corrupt_table_file_is_refused_and_kept)
{
	char *p = table_path();
	struct xvm_hv *h = NULL;
	char buf[64], back[64];
	FILE *f;

	hvt_create(hv, 1);
	hv = xvm_hv_close(hv);

	/* A newer format version. */
	f = fopen(p, "r+");
	uint32_t v = 99;
	fseek(f, 8, SEEK_SET);
	fwrite(&v, sizeof v, 1, f);
	fclose(f);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), -EINVAL);
	cr_assert(strstr(xvm_hv_last_error(NULL), "version 99"), "%s", xvm_hv_last_error(NULL));
	cr_assert_null(h);

	/* Something else entirely. */
	memset(buf, 'Z', sizeof buf);
	write_file(p, buf, sizeof buf);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), -EINVAL);
	cr_assert(strstr(xvm_hv_last_error(NULL), "bad magic"), "%s", xvm_hv_last_error(NULL));
	f = fopen(p, "r");
	cr_assert_eq(fread(back, 1, sizeof back, f), sizeof back);
	fclose(f);
	cr_assert_arr_eq(back, buf, sizeof buf, "the file was overwritten");

	/* Too short for its header, and empty. */
	write_file(p, "XVMSIMHV", 8);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), -EINVAL);
	write_file(p, "", 0);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), -EINVAL);
	free(p);
	/* Let teardown find something to close. */
	unlink(p = table_path());
	free(p);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
}

Test(sim, truncated_table_file_is_refused)
{
	char *p = table_path();

	hv = xvm_hv_close(hv);
	cr_assert_eq(truncate(p, 8192), 0);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), -EINVAL);
	cr_assert(strstr(xvm_hv_last_error(NULL), "truncated"), "%s", xvm_hv_last_error(NULL));
	unlink(p);
	free(p);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
}

/* A process killed in the middle of a change leaves the dirty flag set and
 * the derived data (indexes, free list, sums) in any state: it is rebuilt. */
Test(sim, derived_data_is_rebuilt_after_a_crash)
{
	char *p = table_path();
	uint32_t d[3], dirty = 1;
	struct stat st;
	int fd;

	for (int k = 0; k < 3; k++)
		d[k] = hvt_create(hv, k + 1);
	hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d[1]);
	hv = xvm_hv_close(hv);

	fd = open(p, O_RDWR);
	cr_assert(fd >= 0 && fstat(fd, &st) == 0);
	size_t idx = 4096 + 64 * 704; /* header, 64 slots: the indexes follow */
	char *junk = malloc(st.st_size - idx);
	memset(junk, 0xff, st.st_size - idx);
	cr_assert_eq(pwrite(fd, junk, st.st_size - idx, idx), (ssize_t)(st.st_size - idx));
	cr_assert_eq(pwrite(fd, &dirty, sizeof dirty, 36), 4); /* offsetof(header, dirty) */
	free(junk);
	close(fd);
	free(p);

	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
	cr_assert_eq(hvt_list_count(hv), 2);
	hvt_info(hv, d[0]);
	hvt_info(hv, d[2]);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_GET_INFO, d[1]), -ESRCH);
	cr_assert_eq(hvt_create(hv, 2), 4);
	cr_assert_eq(hvt_host_info(hv).memory_free_kib, hvt_host_info(hv).memory_total_kib - 3 * 65536);
}

Test(sim, grows_past_its_initial_capacity, .timeout = 120)
{
	struct xvm_hv *other;
	enum { N = 5000 };
	static uint32_t d[N];

	/* Opened before the growth: must follow it. */
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &other), 0);
	for (unsigned k = 0; k < N; k++) {
		hvt_config(&cfg, k + 1, 16);
		cr_assert_eq(hvt_create_cfg(hv, &cfg, &d[k]), 0, "%u: %s", k, xvm_hv_last_error(hv));
		cr_assert_eq(d[k], k + 1);
	}
	cr_assert_eq(hvt_list_count(other), N);
	for (unsigned k = 0; k < N; k += 97) {
		struct xvm_hc_domain_info i = hvt_info(other, d[k]);
		hvt_config(&cfg, k + 1, 16);
		cr_assert_str_eq(i.uuid, cfg.uuid);
	}
	/* Destroy every other one; the indexes must still find the rest. */
	for (unsigned k = 0; k < N; k += 2)
		cr_assert_eq(hvt_dom(other, XVM_HC_DOMAIN_DESTROY, d[k]), 0);
	for (unsigned k = 0; k < N; k++) {
		struct xvm_hc_domain_info i = { .head = XVM_HC_HEAD(0), .domid = d[k] };
		cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), k % 2 ? 0 : -ESRCH, "%u", k);
	}
	hvt_config(&cfg, 1, 16); /* uuid of a destroyed domain is free again */
	cr_assert_eq(hvt_create_cfg(hv, &cfg, NULL), 0);
	hvt_config(&cfg, 2, 16);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, NULL), -EEXIST);
	xvm_hv_close(other);
	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
	cr_assert_eq(hvt_list_count(hv), N / 2 + 1);
	cr_assert_eq(hvt_host_info(hv).memory_free_kib,
		     hvt_host_info(hv).memory_total_kib - (N / 2 + 1) * 16);
}

struct worker {
	struct xvm_hv *h;
	unsigned id;
	int failures;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	static _Thread_local struct xvm_hc_domain_config c;

	for (unsigned k = 0; k < 500; k++) {
		struct xvm_hc_domain_create a = { .head = XVM_HC_HEAD(0), .config = &c };
		hvt_config(&c, w->id * 100000 + k, 16);
		if (xvm_hypercall(w->h, XVM_HC_DOMAIN_CREATE, &a) ||
		    hvt_dom(w->h, XVM_HC_DOMAIN_UNPAUSE, a.domid) ||
		    hvt_guest_action(w->h, a.domid, XVM_HC_SHUTDOWN_REBOOT) ||
		    hvt_dom(w->h, XVM_HC_DOMAIN_DESTROY, a.domid))
			w->failures++;
	}
	return NULL;
}

Test(sim, threads_and_handles_hammering, .timeout = 120)
{
	struct xvm_hv *other;
	struct worker w[4];
	pthread_t t[4];
	uint32_t ids[4], n;
	uint64_t seq = 0;

	cr_assert_eq(xvm_hv_open("sim", dir, 0, &other), 0);
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 4, &n), 0);
	for (unsigned k = 0; k < 4; k++) {
		w[k] = (struct worker){ .h = k < 2 ? hv : other, .id = k + 1 };
		pthread_create(&t[k], NULL, hammer, &w[k]);
	}
	for (unsigned k = 0; k < 4; k++) {
		pthread_join(t[k], NULL);
		cr_assert_eq(w[k].failures, 0, "thread %u failed %d times", k, w[k].failures);
	}
	cr_assert_eq(hvt_list_count(hv), 0);
	cr_assert_eq(xvm_hv_op_count(hv, XVM_HC_DOMAIN_CREATE), 1000);
	cr_assert_eq(xvm_hv_op_count(other, XVM_HC_DOMAIN_DESTROY), 1000);
	cr_assert_eq(hvt_create(hv, 1), 2001, "every domid was handed out once");
	/* Every reboot was one event. */
	uint64_t s0 = seq;
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(seq - s0, 2000);
	cr_assert_eq(hvt_host_info(hv).memory_free_kib, hvt_host_info(hv).memory_total_kib - 65536);
	xvm_hv_close(other);
}

/* A process killed while holding the table lock must not wedge the others.
 * White box: the child takes the header's robust mutex itself and dies. */
Test(sim, a_lock_holder_that_dies_does_not_wedge_the_hypervisor, .timeout = 20)
{
	uint32_t d = hvt_create(hv, 1);
	char *p = table_path();
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(p, O_RDWR);
		char *h = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (h == MAP_FAILED)
			_exit(2);
		/* offsetof(struct sim_header, lock): 8 + 8 * 4 + 2 * 8 + 40 */
		_exit(pthread_mutex_lock((pthread_mutex_t *)(h + 96)) == 0 ? 0 : 1);
	}
	free(p);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, d).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(hvt_create(hv, 2), 2);
}
