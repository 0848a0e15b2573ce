/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform flags on the QEMU command line: secure boot (the SMM OVMF
 * build, its variables with Microsoft's keys, SMM on, the flash secure),
 * Hyper-V enlightenments on the CPU, the USB tablet. No QEMU runs: the
 * real guests that boot with them are the e2e tests'.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hvtest.h"
#include "qemu/qemu.h"

static struct qdom d;

static void setup(void)
{
	memset(&d, 0, sizeof d);
	hvt_config(&d.cfg, 1, 65536);
	d.lock_fd = -1;
	d.accel = XVM_HC_ACCEL_TCG;
	strcpy(d.dir, "/run/xvm-test/1");
	strcpy(d.cfg.machine, "q35");
	strcpy(d.cfg.firmware, "uefi");
}

TestSuite(cmdline, .init = setup);

/* argv joined by spaces (static); argv is freed. */
static const char *joined(char **argv)
{
	static char text[16384];
	text[0] = 0;
	for (int i = 0; argv[i]; i++) {
		strncat(text, argv[i], sizeof text - strlen(text) - 2);
		strcat(text, " ");
	}
	qemu_argv_free(argv);
	return text;
}

/* The command line joined by spaces (static). */
static const char *cmdline(void)
{
	char **argv = NULL;
	int r = qemu_cmdline(&d, "/usr/bin/qemu-system-x86_64", NULL, &argv);
	cr_assert_eq(r, 0, "%s", xvm_hv_last_error(NULL));
	return joined(argv);
}

static bool ovmf_secure(void)
{
	return access("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", R_OK) == 0 &&
	       access("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", R_OK) == 0;
}

Test(cmdline, none_of_the_flags_by_default)
{
	const char *c = cmdline();
	cr_assert(strstr(c, "-cpu qemu64 "), "%s", c);
	cr_assert_null(strstr(c, "smm=on"), "%s", c);
	cr_assert_null(strstr(c, "secboot"), "%s", c);
	cr_assert_null(strstr(c, "property=secure"), "%s", c);
	cr_assert_null(strstr(c, "usb-tablet"), "%s", c);
	cr_assert_null(strstr(c, "hv_"), "%s", c);
}

Test(cmdline, secure_boot)
{
	if (!ovmf_secure())
		cr_skip_test("OVMF's secboot build is not installed");
	d.cfg.secure_boot = true;
	const char *c = cmdline();
	cr_assert(strstr(c, "-machine q35,accel=tcg,smm=on "), "%s", c);
	cr_assert(strstr(c, "-global driver=cfi.pflash01,property=secure,value=on "), "%s", c);
	cr_assert(strstr(c, "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd "),
		  "%s", c);
	/* The domain's own variables, copied from the enrolled ones at start. */
	cr_assert(strstr(c, "if=pflash,format=raw,unit=1,file=/run/xvm-test/1/OVMF_VARS.fd "), "%s", c);
	char code[PATH_MAX], vars[PATH_MAX];
	cr_assert_eq(qemu_ovmf_paths(true, code, vars), 0);
	cr_assert_str_eq(vars, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
	cr_assert_eq(qemu_ovmf_paths(false, code, vars), 0);
	cr_assert_null(strstr(code, "secboot"));
}

Test(cmdline, viridian_and_usb_tablet)
{
	d.cfg.viridian = true;
	d.cfg.usb_tablet = true;
	const char *c = cmdline();
	cr_assert(strstr(c, "-cpu qemu64,hv_relaxed,hv_vapic,hv_spinlocks=0x1fff,hv_time "), "%s", c);
	cr_assert(strstr(c, "-device qemu-xhci,id=usb -device usb-tablet,bus=usb.0 "), "%s", c);
}

Test(cmdline, no_tpm_without_a_state_dir)
{
	const char *c = cmdline();
	cr_assert_null(strstr(c, "tpm"), "%s", c);
}

Test(cmdline, tpm_crb_on_q35_tis_on_pc)
{
	strcpy(d.cfg.vtpm_dir, "/var/lib/xvm/vtpm/x");
	const char *c = cmdline();
	cr_assert(strstr(c, "-chardev socket,id=chrtpm,path=/run/xvm-test/1/swtpm.sock,server=on,wait=off ") == NULL,
		  "QEMU is swtpm's client, not a server: %s", c);
	cr_assert(strstr(c, "-chardev socket,id=chrtpm,path=/run/xvm-test/1/swtpm.sock "), "%s", c);
	cr_assert(strstr(c, "-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0 "), "%s", c);
	strcpy(d.cfg.machine, "pc");
	strcpy(d.cfg.firmware, "bios");
	c = cmdline();
	cr_assert(strstr(c, "-device tpm-tis,tpmdev=tpm0 "), "%s", c);
	cr_assert_null(strstr(c, "tpm-crb"), "%s", c);
}

Test(cmdline, swtpm_on_the_state_dir_with_its_socket_and_log_in_the_rundir)
{
	char **argv = NULL;
	strcpy(d.cfg.vtpm_dir, "/var/lib/xvm/vtpm/x");
	cr_assert_eq(qemu_swtpm_cmdline(&d, "/usr/bin/swtpm", &argv), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_str_eq(joined(argv), "/usr/bin/swtpm socket --tpm2 --tpmstate dir=/var/lib/xvm/vtpm/x,mode=0600 "
				       "--ctrl type=unixio,path=/run/xvm-test/1/swtpm.sock,mode=0600 "
				       "--log file=/run/xvm-test/1/swtpm.log,level=1 --terminate ");
}

Test(cmdline, swtpm_refuses_a_rundir_with_a_comma)
{
	char **argv = NULL;
	strcpy(d.cfg.vtpm_dir, "/var/lib/xvm/vtpm/x");
	strcpy(d.dir, "/run/a,b/1");
	cr_assert_eq(qemu_swtpm_cmdline(&d, "/usr/bin/swtpm", &argv), -EINVAL);
	cr_assert_null(argv);
	cr_assert(strstr(xvm_hv_last_error(NULL), "comma"));
}
