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
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
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

/*
 * /dev/kvm may accept a VM and still fail every guest (nested
 * virtualisation missing an MSR, say: QEMU then aborts at start-up). So a
 * QEMU with -cpu host, as domains get, is started once and told to quit;
 * KVM is used only if it quits cleanly. The answer is kept per boot of the
 * host in run/qemu/kvm-probe: only the first start after a boot pays.
 */
static bool kvm_starts_guests(const char *state_dir)
{
	char cache[PATH_MAX], boot_id[64] = "", line[128];
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f) {
		if (fgets(boot_id, sizeof boot_id, f))
			boot_id[strcspn(boot_id, "\n")] = '\0';
		fclose(f);
	}
	snprintf(cache, sizeof cache, "%s/run/qemu/kvm-probe", state_dir);
	if ((f = fopen(cache, "re"))) {
		bool hit = fgets(line, sizeof line, f) && !strncmp(line, boot_id, strlen(boot_id)) && *boot_id;
		fclose(f);
		if (hit)
			return line[strlen(boot_id)] == ' ' && line[strlen(boot_id) + 1] == '1';
	}
	char bin[PATH_MAX];
	bool works = false;
	int in[2];
	if (qemu_binary(bin) == 0 && pipe2(in, O_CLOEXEC) == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);
			dup2(in[0], 0);
			dup2(null, 1);
			dup2(null, 2);
			execl(bin, bin, "-accel", "kvm", "-machine", "q35", "-cpu", "host", "-nodefaults",
			      "-no-user-config", "-display", "none", "-S", "-qmp", "stdio", (char *)NULL);
			_exit(127);
		}
		close(in[0]);
		static const char quit[] = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";
		if (pid > 0 && write(in[1], quit, sizeof quit - 1) < 0)
			kill(pid, SIGKILL);
		close(in[1]);
		/* Bounded: a QEMU that hangs counts as broken KVM. */
		for (int i = 0; pid > 0 && i < 1000; i++) {
			int status;
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				works = WIFEXITED(status) && WEXITSTATUS(status) == 0;
				pid = 0;
				break;
			}
			usleep(10000);
		}
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	if (*boot_id && (f = fopen(cache, "we"))) {
		fprintf(f, "%s %d\n", boot_id, works);
		fclose(f);
	}
	return works;
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

int qemu_host_probe(const char *state_dir, struct qemu_host *ret)
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
	if (kvm && !kvm_starts_guests(state_dir))
		kvm = 0;
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

/* $env, else `name` on PATH; `package` is what installs it. */
static int find_tool(const char *env, const char *name, const char *what, const char *package, char path[PATH_MAX])
{
	const char *set = getenv(env);
	const char *dirs = getenv("PATH");
	char *copy, *dir, *save = NULL;

	if (set && *set) {
		char w[64];
		snprintf(path, PATH_MAX, "%s", set);
		snprintf(w, sizeof w, "%s (%s)", what, env);
		return executable(w, path);
	}
	copy = strdup(dirs && *dirs ? dirs : "/usr/bin:/bin");
	if (!copy) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, PATH_MAX, "%s/%s", dir, name);
		if (access(path, X_OK) == 0) {
			free(copy);
			return 0;
		}
	}
	free(copy);
	xvm_hv_set_error("%s is not installed (not on PATH); install %s", name, package);
	return -ENOENT;
}

int qemu_binary(char path[PATH_MAX])
{
	return find_tool("XVM_QEMU_BINARY", "qemu-system-x86_64", "QEMU binary", "qemu-system-x86", path);
}

int qemu_swtpm_binary(char path[PATH_MAX])
{
	return find_tool("XVM_SWTPM_BINARY", "swtpm", "TPM emulator", "swtpm (a VM with a vTPM needs it)", path);
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
