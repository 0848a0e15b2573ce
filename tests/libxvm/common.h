/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the libxvm unit tests: private state dirs, connections
 * on sim:///DIR, short field accessors and error checks that look at the
 * code AND the parameters.
 */
#pragma once

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdio.h>
#include <xvm/xvm.h>

/* A fresh state dir under /tmp; t_rmdir() removes it and all in it (and frees). */
char *t_tmpdir(void);
void t_rmdir(char *dir);

/* Writes `text` to path (asserting success). */
void t_write_file(const char *path, const char *text);
/* The file's whole content (free()), or NULL; *len its length (len may be NULL). */
char *t_read_file(const char *path, size_t *len);
/* What is left to read of f (free()); *len its length (len may be NULL). */
char *t_read_stream(FILE *f, size_t *len);

/* "sim://" DIR (static buffer per thread). */
const char *t_uri(const char *dir);
/* xvm_connect(sim:///dir), asserting success. */
xvm_conn *t_connect(const char *dir);

/* The last error's name / message, or "(none)". */
const char *t_errname(void);
const char *t_errmsg(void);

#define T_OK(expr)                                                                                 \
	do {                                                                                       \
		int t_r_ = (expr);                                                                 \
		cr_assert_eq(t_r_, 0, "%s failed: %d %s: %s", #expr, t_r_, t_errname(), t_errmsg()); \
	} while (0)

/*
 * Checks that `r` is -code and that the last error has that code and name,
 * nparams parameters (nparams < 0: any number) equal to the const char *
 * varargs that follow (a NULL vararg matches any value).
 */
void t_check_error(const char *what, int r, int code, int nparams, ...);
#define T_ERR(expr, code, nparams, ...) t_check_error(#expr, (expr), (code), (nparams), ##__VA_ARGS__)

/*
 * Checks VM_BAD_POWER_STATE [vm, expected, actual]. The states are compared
 * without regard to case (xapi sends "halted", the power_state field says
 * "Halted"); expected NULL matches any state.
 */
void t_check_bad_power(const char *what, int r, const char *vm, const char *expected, const char *actual);
#define T_BAD_POWER(expr, vm, expected, actual) t_check_bad_power(#expr, (expr), (vm), (expected), (actual))

/* Installs a VM from the "sim test" template; returns its reference (free()). */
char *t_install(xvm_conn *c, const char *name);

/* Field values, asserting the get succeeds. t_get: owned JSON. t_gets: a
 * string valid until 32 more t_gets calls of the thread. */
struct json_object *t_get(xvm_conn *c, const char *cls, const char *ref, const char *field);
const char *t_gets(xvm_conn *c, const char *cls, const char *ref, const char *field);
int64_t t_geti(xvm_conn *c, const char *cls, const char *ref, const char *field);
bool t_getb(xvm_conn *c, const char *cls, const char *ref, const char *field);
/* Sets a field, returning the call's result (no assertion). */
int t_set_str(xvm_conn *c, const char *cls, const char *ref, const char *field, const char *value);
int t_set_int(xvm_conn *c, const char *cls, const char *ref, const char *field, int64_t value);
int t_set_json(xvm_conn *c, const char *cls, const char *ref, const char *field, const char *json_text);

#define t_power(c, vm) t_gets((c), "VM", (vm), "power_state")
#define t_domid(c, vm) t_geti((c), "VM", (vm), "domid")

/* Whether a JSON array holds the string s. */
bool t_has(struct json_object *array, const char *s);
/* A JSON array's length (asserting it is one). */
size_t t_len(struct json_object *array);

/* Domains the sim hypervisor in dir runs: all (uuid NULL) or those with that
 * uuid. Opens its own handle, with XVM_HC_FAULT unset meanwhile. */
unsigned t_hv_domains(const char *dir, const char *uuid);

/* All refs of a class (asserting success; owned JSON array); its first one. */
struct json_object *t_all_refs(xvm_conn *c, const char *cls);
const char *t_first(struct json_object *refs);
/* How many objects of a class there are. */
size_t t_count(xvm_conn *c, const char *cls);
/* Calls method with a JSON-text argument array. */
int t_call(xvm_conn *c, const char *method, const char *args_json, struct json_object **res);

/*
 * The lifecycle fixture, shared by test_lifecycle.c and test_recovery.c
 * (define T_LIFECYCLE_FIXTURE before including this header): a state dir,
 * a connection on it and the VM "vm1" installed from "sim test".
 */
#ifdef T_LIFECYCLE_FIXTURE
#include "hypercall.h"

extern char *dir;
extern xvm_conn *conn;
extern char *vm;
extern char vm_uuid[64];
extern bool preserved_crash; /* the VM's domain crashed and is kept: Paused */

void t_lifecycle_setup(void);
void t_lifecycle_teardown(void);

/* The power operations. */
enum { OP_START, OP_PAUSE, OP_UNPAUSE, OP_CLEAN_SHUTDOWN, OP_CLEAN_REBOOT, OP_HARD_SHUTDOWN, OP_HARD_REBOOT,
       OP_SUSPEND, OP_RESUME, OP_DESTROY, NOPS };
extern const char *const op_names[NOPS];
int do_op(xvm_conn *c, const char *ref, int op);
/* XenAPI's rules: the power operations each state allows. */
bool allowed_in(int op, const char *state);
/* Domains the sim runs for uuid; *state of the last one found. */
unsigned hv_domains(const char *uuid, enum xvm_hc_domain_state *state, uint32_t *domid);
/* Checks the VM is in `state` as seen through c (see common.c). */
void check_state(xvm_conn *c, const char *ref, const char *state);
#endif
