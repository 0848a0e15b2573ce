/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real host as the qemu backend sees it: CPUs, memory, whether KVM
 * really works (the device opens read-write and a VM can be created, not
 * merely /dev/kvm exists), and where the QEMU and monitor binaries are.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "qemu.h"

#ifndef XVM_QEMU_MONITOR_PATH
#define XVM_QEMU_MONITOR_PATH "/usr/libexec/xvm-qemu-monitor"
#endif

static uint64_t meminfo(const char *key)
{
	char line[256];
	uint64_t v = 0, x;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%" SCNu64, &x) == 1) {
			v = x;
			break;
		}
	if (f)
		fclose(f);
	return v;
}

uint64_t qemu_host_memory_free_kib(void)
{
	return meminfo("MemAvailable");
}

/* KVM counts only if a VM can be made: a container may show a dead /dev/kvm. */
static uint32_t kvm_max_vcpus(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, n;

	if (fd < 0)
		return 0;
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		close(fd);
		return 0;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		close(fd);
		return 0;
	}
	n = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	close(vm);
	close(fd);
	return n > 0 ? (uint32_t)n : 1;
}

static void cpu_model(char out[128])
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "re");
	char *v;

	snprintf(out, 128, "unknown");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10) && (v = strchr(line, ':'))) {
			v += strspn(v + 1, " \t") + 1;
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, 128, "%s", v);
			break;
		}
	if (f)
		fclose(f);
}

int qemu_host_probe(struct qemu_host *ret)
{
	struct qemu_host h = { .accel = XVM_HC_ACCEL_TCG, .max_vcpus = QEMU_MAX_VCPUS };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *force = getenv("XVM_QEMU_ACCEL");
	uint32_t kvm = 0;

	if (gethostname(h.hostname, sizeof h.hostname - 1) < 0) {
		int r = -errno;
		xvm_hv_set_error("gethostname: %s", strerror(-r));
		return r;
	}
	h.cpu_count = cpus > 0 ? (uint32_t)cpus : 1;
	h.memory_total_kib = meminfo("MemTotal");
	if (!h.memory_total_kib) {
		xvm_hv_set_error("/proc/meminfo has no MemTotal line");
		return -ENODATA;
	}
	/* XVM_QEMU_ACCEL=tcg turns KVM off (a host whose KVM is broken); =kvm cannot force it on. */
	if (!force || strcmp(force, "tcg"))
		kvm = kvm_max_vcpus();
	if (kvm) {
		h.accel = XVM_HC_ACCEL_KVM;
		if (kvm < h.max_vcpus)
			h.max_vcpus = kvm;
	}
	cpu_model(h.cpu_model);
	*ret = h;
	return 0;
}

uint64_t qemu_host_cpumask(const struct qemu_host *h)
{
	return h->cpu_count >= 64 ? UINT64_MAX : (UINT64_C(1) << h->cpu_count) - 1;
}

static int executable(const char *what, const char *path)
{
	if (access(path, X_OK) < 0) {
		int r = -errno;
		xvm_hv_set_error("%s %s: %s", what, path, strerror(-r));
		return r == -EACCES ? -EACCES : -ENOENT;
	}
	return 0;
}

int qemu_binary(char path[PATH_MAX])
{
	const char *env = getenv("XVM_QEMU_BINARY");
	const char *dirs = getenv("PATH");
	char *copy, *dir, *save = NULL;

	if (env && *env) {
		snprintf(path, PATH_MAX, "%s", env);
		return executable("QEMU binary (XVM_QEMU_BINARY)", path);
	}
	copy = strdup(dirs && *dirs ? dirs : "/usr/bin:/bin");
	if (!copy) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, PATH_MAX, "%s/qemu-system-x86_64", dir);
		if (access(path, X_OK) == 0) {
			free(copy);
			return 0;
		}
	}
	free(copy);
	xvm_hv_set_error("qemu-system-x86_64 is not installed (not on PATH); install qemu-system-x86");
	return -ENOENT;
}

int qemu_monitor_binary(char path[PATH_MAX])
{
	const char *env = getenv("XVM_QEMU_MONITOR");

	if (env && *env) {
		snprintf(path, PATH_MAX, "%s", env);
		return executable("monitor helper (XVM_QEMU_MONITOR)", path);
	}
	snprintf(path, PATH_MAX, "%s", XVM_QEMU_MONITOR_PATH);
	if (access(path, X_OK) == 0)
		return 0;
#ifdef XVM_QEMU_MONITOR_BUILD_PATH
	/* Not installed: running from the build tree (tests). */
	snprintf(path, PATH_MAX, "%s", XVM_QEMU_MONITOR_BUILD_PATH);
	if (access(path, X_OK) == 0)
		return 0;
#endif
	return executable("monitor helper", XVM_QEMU_MONITOR_PATH);
}
