/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sim fixture shared by test_sim.c and test_sim_save.c (see hvtest.h). */
#define HVT_SIM_FIXTURE
#include <criterion/criterion.h>
#include <stdlib.h>

#include "hvtest.h"

char *dir;
struct xvm_hv *hv;
struct xvm_hc_domain_config cfg;

void hvt_sim_setup(void)
{
	unsetenv("XVM_HC_FAULT");
	unsetenv("XVM_HC_TRACE");
	dir = hvt_tmpdir();
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
}

void hvt_sim_teardown(void)
{
	hv = xvm_hv_close(hv);
	hvt_rmdir(dir);
}
