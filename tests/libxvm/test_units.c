/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/units.c and core/util.c: sizes, integers, datetimes, UUIDs, references. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "core/units.h"
#include "core/util.h"

/* --- parse_size ----------------------------------------------------------- */

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 12345;
	int r = parse_size(s, &v);
	cr_assert_eq(r, 0, "parse_size(\"%s\") = %d", s, r);
	cr_assert_eq(v, want, "parse_size(\"%s\") = %llu, expected %llu", s, (unsigned long long)v,
		     (unsigned long long)want);
}

static void size_bad(const char *s, int err)
{
	uint64_t v = 12345;
	int r = parse_size(s, &v);
	cr_assert_eq(r, -err, "parse_size(\"%s\") = %d, expected %d", s ? s : "(null)", r, -err);
	cr_assert_eq(v, 12345, "parse_size(\"%s\") wrote its output on failure", s ? s : "(null)");
}

Test(units, parse_size_plain_and_binary)
{
	size_ok("0", 0);
	size_ok("4096", 4096);
	size_ok("4096B", 4096);
	size_ok("1KiB", 1024);
	size_ok("1024KiB", 1024 * 1024);
	size_ok("512MiB", 512ull << 20);
	size_ok("2GiB", 2ull << 30);
	size_ok("1TiB", 1ull << 40);
	size_ok("1K", 1024);
	size_ok("3M", 3ull << 20);
	size_ok("2G", 2ull << 30);
	size_ok("1T", 1ull << 40);
}

Test(units, parse_size_decimal_units)
{
	size_ok("1KB", 1000);
	size_ok("5MB", 5000000);
	size_ok("2GB", 2000000000ull);
	size_ok("1TB", 1000000000000ull);
}

Test(units, parse_size_units_ignore_case)
{
	size_ok("2gib", 2ull << 30);
	size_ok("2GIB", 2ull << 30);
	size_ok("64mib", 64ull << 20);
	size_ok("1kb", 1000);
}

Test(units, parse_size_rejects_malformed)
{
	size_bad(NULL, EINVAL);
	size_bad("", EINVAL);
	size_bad("GiB", EINVAL);
	size_bad("abc", EINVAL);
	size_bad("-1", EINVAL);
	size_bad("-1GiB", EINVAL);
	size_bad(" 1GiB", EINVAL);
	size_bad("1 GiB", EINVAL);
	size_bad("1GiB ", EINVAL);
	size_bad("1.5GiB", EINVAL);
	size_bad("12XB", EINVAL);
	size_bad("1PiB", EINVAL);
	size_bad("1GiBB", EINVAL);
	size_bad("+1", EINVAL);
}

Test(units, parse_size_range)
{
	size_ok("9223372036854775807", INT64_MAX);
	size_bad("9223372036854775808", ERANGE);
	size_bad("18446744073709551616", ERANGE);
	size_bad("99999999999999999999999", ERANGE);
	/* 2^33 GiB = 2^63: one past INT64_MAX */
	size_bad("8589934592GiB", ERANGE);
	size_ok("8589934591GiB", (8589934591ull) << 30);
	size_bad("8388608TiB", ERANGE);
	size_bad("18446744073709551615KiB", ERANGE);
}

/* --- parse_int64 ---------------------------------------------------------- */

static void int_ok(const char *s, int64_t want)
{
	int64_t v = 777;
	int r = parse_int64(s, &v);
	cr_assert_eq(r, 0, "parse_int64(\"%s\") = %d", s, r);
	cr_assert_eq(v, want, "parse_int64(\"%s\") = %lld", s, (long long)v);
}

static void int_bad(const char *s, int err)
{
	int64_t v = 777;
	int r = parse_int64(s, &v);
	cr_assert_eq(r, -err, "parse_int64(\"%s\") = %d, expected %d", s ? s : "(null)", r, -err);
	cr_assert_eq(v, 777, "parse_int64(\"%s\") wrote its output on failure", s ? s : "(null)");
}

Test(units, parse_int64_values)
{
	int_ok("0", 0);
	int_ok("42", 42);
	int_ok("-5", -5);
	int_ok("268435456", 268435456);
	int_ok("9223372036854775807", INT64_MAX);
	int_ok("-9223372036854775808", INT64_MIN);
}

Test(units, parse_int64_rejects)
{
	int_bad(NULL, EINVAL);
	int_bad("", EINVAL);
	int_bad(" 1", EINVAL);
	int_bad("1 ", EINVAL);
	int_bad("1x", EINVAL);
	int_bad("1.0", EINVAL);
	int_bad("0x10", EINVAL);
	int_bad("many", EINVAL);
	int_bad("-", EINVAL);
	int_bad("9223372036854775808", ERANGE);
	int_bad("-9223372036854775809", ERANGE);
	int_bad("123456789012345678901234567890", ERANGE);
}

/* --- datetimes ------------------------------------------------------------ */

Test(units, datetime_format_known_instants)
{
	char buf[XVM_DATETIME_BUFLEN];
	datetime_format(0, buf);
	cr_assert_str_eq(buf, "19700101T00:00:00Z");
	cr_assert_str_eq(buf, XVM_DATETIME_ZERO);
	datetime_format(1764091458, buf);
	cr_assert_str_eq(buf, "20251125T17:24:18Z");
	datetime_format(951782400, buf); /* a leap day */
	cr_assert_str_eq(buf, "20000229T00:00:00Z");
	cr_assert_eq(strlen(buf), XVM_DATETIME_BUFLEN - 1);
}

Test(units, datetime_format_is_valid)
{
	char buf[XVM_DATETIME_BUFLEN];
	datetime_format(time(NULL), buf);
	cr_assert(datetime_valid(buf), "%s", buf);
	datetime_format(4102444799, buf); /* 2099-12-31 23:59:59 */
	cr_assert_str_eq(buf, "20991231T23:59:59Z");
	cr_assert(datetime_valid(buf));
}

Test(units, datetime_valid_shape)
{
	cr_assert(datetime_valid("20261125T17:24:18Z"));
	cr_assert(datetime_valid("19700101T00:00:00Z"));
	cr_assert_not(datetime_valid(NULL));
	cr_assert_not(datetime_valid(""));
	cr_assert_not(datetime_valid("2026-11-25T17:24:18Z"));
	cr_assert_not(datetime_valid("20261125T17:24:18"));
	cr_assert_not(datetime_valid("20261125T17:24:18Z "));
	cr_assert_not(datetime_valid(" 20261125T17:24:18Z"));
	cr_assert_not(datetime_valid("20261125t17:24:18Z"));
	cr_assert_not(datetime_valid("20261125T17:24:18z"));
	cr_assert_not(datetime_valid("20261125 17:24:18Z"));
	cr_assert_not(datetime_valid("2026112xT17:24:18Z"));
	cr_assert_not(datetime_valid("20261125T17-24-18Z"));
	cr_assert_not(datetime_valid("20261125T1724:18Z"));
}

/* A datetime is an instant: a month 13 or an hour 99 is not one. */
Test(units, datetime_valid_rejects_impossible_dates)
{
	cr_expect_not(datetime_valid("20261325T17:24:18Z"), "month 13 accepted");
	cr_expect_not(datetime_valid("20260000T00:00:00Z"), "month 0 / day 0 accepted");
	cr_expect_not(datetime_valid("20261132T00:00:00Z"), "November 32 accepted");
	cr_expect_not(datetime_valid("20261125T24:00:00Z"), "hour 24 accepted");
	cr_expect_not(datetime_valid("20261125T99:99:99Z"), "99:99:99 accepted");
}

/* --- UUIDs and references --------------------------------------------------- */

Test(units, uuid_valid_cases)
{
	cr_assert(uuid_valid("3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8a14"));
	cr_assert(uuid_valid("00000000-0000-0000-0000-000000000000"));
	cr_assert_not(uuid_valid(NULL));
	cr_assert_not(uuid_valid(""));
	cr_assert_not(uuid_valid("not-a-uuid"));
	cr_assert_not(uuid_valid("3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8a1"));   /* 35 */
	cr_assert_not(uuid_valid("3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8a145")); /* 37 */
	cr_assert_not(uuid_valid("3e7b9d10x2c4f-4a8e-9f61-0b5d7c2e8a14"));
	cr_assert_not(uuid_valid("3e7b9d102c4f4a8e9f610b5d7c2e8a14"));
	cr_assert_not(uuid_valid("3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8g14"));
	cr_assert_not(uuid_valid("OpaqueRef:3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8a14"));
}

Test(units, uuid_generate_is_v4_and_unique)
{
	enum { N = 2000 };
	static char ids[N][XVM_UUID_BUFLEN];
	for (int i = 0; i < N; i++) {
		uuid_generate_str(ids[i]);
		cr_assert(uuid_valid(ids[i]), "%s", ids[i]);
		cr_assert_eq(ids[i][14], '4', "not version 4: %s", ids[i]);
		cr_assert(strchr("89ab", ids[i][19]), "not the RFC 4122 variant: %s", ids[i]);
		for (const char *p = ids[i]; *p; p++)
			cr_assert(*p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'),
				  "not lower-case hex: %s", ids[i]);
	}
	qsort(ids, N, XVM_UUID_BUFLEN, (int (*)(const void *, const void *))strcmp);
	for (int i = 1; i < N; i++)
		cr_assert_str_neq(ids[i - 1], ids[i], "duplicate UUID");
}

/* A forked child must not hand out the UUIDs its parent will. */
Test(units, uuid_generate_differs_after_fork)
{
	char warm[XVM_UUID_BUFLEN], mine[XVM_UUID_BUFLEN];
	uuid_generate_str(warm); /* fills the parent's pool */
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char child[XVM_UUID_BUFLEN];
		uuid_generate_str(child);
		ssize_t w = write(fds[1], child, sizeof(child));
		_exit(w == (ssize_t)sizeof(child) ? 0 : 1);
	}
	char child[XVM_UUID_BUFLEN] = { 0 };
	cr_assert_eq(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
	int status;
	waitpid(pid, &status, 0);
	uuid_generate_str(mine);
	cr_assert(uuid_valid(child));
	cr_assert_str_neq(child, mine, "parent and child generated the same UUID %s", mine);
	close(fds[0]);
	close(fds[1]);
}

Test(units, ref_valid_cases)
{
	cr_assert(ref_valid("OpaqueRef:3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8a14"));
	cr_assert(ref_valid("OpaqueRef:x"));
	cr_assert(ref_valid("OpaqueRef:NULL"));
	cr_assert(ref_valid(XVM_NULL_REF));
	cr_assert_not(ref_valid(NULL));
	cr_assert_not(ref_valid(""));
	cr_assert_not(ref_valid("OpaqueRef:"));
	cr_assert_not(ref_valid("OpaqueRef"));
	cr_assert_not(ref_valid("opaqueref:abc"));
	cr_assert_not(ref_valid("3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8a14"));
	char long_ref[200];
	memset(long_ref, 'a', sizeof(long_ref) - 1);
	long_ref[sizeof(long_ref) - 1] = 0;
	memcpy(long_ref, "OpaqueRef:", 10);
	cr_assert_not(ref_valid(long_ref), "a 199-character reference is accepted");
}

Test(units, ref_generate_and_null)
{
	char a[XVM_REF_BUFLEN], b[XVM_REF_BUFLEN];
	ref_generate(a);
	ref_generate(b);
	cr_assert(ref_valid(a));
	cr_assert_eq(strncmp(a, XVM_REF_PREFIX, 10), 0);
	cr_assert(uuid_valid(a + 10), "%s", a);
	cr_assert_str_neq(a, b);
	cr_assert_not(ref_is_null(a));
	cr_assert(ref_is_null(NULL));
	cr_assert(ref_is_null(""));
	cr_assert(ref_is_null("OpaqueRef:NULL"));
	cr_assert_not(ref_is_null("OpaqueRef:NULLX"));
}

Test(units, parse_double_values)
{
	double d = -1;
	cr_assert_eq(parse_double("1.5", &d), 0);
	cr_assert_float_eq(d, 1.5, 1e-12);
	cr_assert_eq(parse_double("2", &d), 0);
	cr_assert_float_eq(d, 2.0, 1e-12);
	d = 7;
	cr_assert_eq(parse_double("", &d), -EINVAL);
	cr_assert_eq(parse_double("1.5x", &d), -EINVAL);
	cr_assert_eq(parse_double(" 1.5", &d), -EINVAL);
	cr_assert_eq(parse_double("nan", &d), -EINVAL);
	cr_assert_eq(parse_double("inf", &d), -EINVAL);
	cr_assert_eq(parse_double(NULL, &d), -EINVAL);
	cr_assert_float_eq(d, 7.0, 1e-12);
}

/* --- error code table ------------------------------------------------------- */

Test(units, error_code_names_round_trip)
{
	cr_assert_str_eq(xvm_error_code_name(XVM_ERR_VM_BAD_POWER_STATE), "VM_BAD_POWER_STATE");
	cr_assert_str_eq(xvm_error_code_name(-XVM_ERR_HANDLE_INVALID), "HANDLE_INVALID");
	cr_assert_null(xvm_error_code_name(0));
	cr_assert_null(xvm_error_code_name(XVM_ERR__MAX));
	for (int i = 1; i < XVM_ERR__MAX; i++)
		cr_assert_eq(xvm_error_code_from_name(xvm_error_code_name(i)), i);
	cr_assert_eq(xvm_error_code_from_name("NO_SUCH_CODE"), XVM_ERR_INTERNAL_ERROR);
	cr_assert_eq(xvm_error_code_from_name(NULL), XVM_ERR_INTERNAL_ERROR);
}
