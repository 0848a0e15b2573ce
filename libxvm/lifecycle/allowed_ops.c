/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/allowed_ops.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/error_internal.h"
#include "core/json_fields.h"

#define H (1u << VM_HALTED)
#define P (1u << VM_PAUSED)
#define R (1u << VM_RUNNING)
#define S (1u << VM_SUSPENDED)

static const char *const power_names[] = { "Halted", "Paused", "Running", "Suspended" };

static const struct {
	const char *op;
	unsigned states;
	bool for_templates; /* also allowed on a template */
} rules[] = {
	{ "start", H, false },
	{ "start_on", H, false },
	{ "pause", R, false },
	{ "unpause", P, false },
	{ "clean_shutdown", R, false },
	{ "clean_reboot", R, false },
	{ "hard_shutdown", R | P | S, false },
	{ "hard_reboot", R | P, false },
	{ "suspend", R, false },
	{ "resume", S, false },
	{ "resume_on", S, false },
	{ "power_state_reset", H | R | P | S, false },
	{ "changing_memory_live", R, false },
	{ "changing_VCPUs_live", R, false },
	{ "checkpoint", R, false },
	{ "snapshot", H | R | S, false },
	{ "clone", H | S, true },
	{ "copy", H | S, true },
	{ "export", H | S, true },
	{ "provision", H, true },
	{ "make_into_template", H, false },
	{ "destroy", H, true },
	{ "create_vtpm", H, true },
};

enum vm_power vm_power_parse(const char *s)
{
	for (int i = 0; i < VM_POWER_COUNT; i++)
		if (s && strcmp(s, power_names[i]) == 0)
			return (enum vm_power)i;
	return VM_HALTED;
}

const char *vm_power_name(enum vm_power p)
{
	return power_names[p];
}

bool vm_op_allowed_in(const char *op, enum vm_power p)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].op, op) == 0)
			return rules[i].states & (1u << p);
	return false;
}

const char *vm_op_expected_state(const char *op)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strcmp(rules[i].op, op) != 0)
			continue;
		for (int s = 0; s < VM_POWER_COUNT; s++)
			if (rules[i].states & (1u << s))
				return power_names[s];
	}
	return "Halted";
}

static size_t map_size(struct json_object *rec, const char *f)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, f, &v) && json_object_is_type(v, json_type_object)
		? (size_t)json_object_object_length(v)
		: 0;
}

void allowed_ops_fill_vm(struct json_object *rec)
{
	struct json_object *ops = json_object_new_array(), *ps, *blocked = NULL;
	enum vm_power p = json_object_object_get_ex(rec, "power_state", &ps)
		? vm_power_parse(json_object_get_string(ps)) : VM_HALTED;
	bool template = rec_bool(rec, "is_a_template"), builtin = rec_bool(rec, "is_default_template");
	bool busy = map_size(rec, "current_operations") > 0;
	json_object_object_get_ex(rec, "blocked_operations", &blocked);
	for (size_t i = 0; !busy && i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (!(rules[i].states & (1u << p)))
			continue;
		if (template && (!rules[i].for_templates || (builtin && strcmp(rules[i].op, "destroy") == 0)))
			continue;
		if (blocked && json_object_object_get_ex(blocked, rules[i].op, NULL))
			continue;
		json_object_array_add(ops, json_object_new_string(rules[i].op));
	}
	/* A snapshot can be reverted to and destroyed, a Suspended checkpoint too
	 * (a Halted one has destroy from the rules). */
	if (!busy && rec_bool(rec, "is_a_snapshot")) {
		if (!(blocked && json_object_object_get_ex(blocked, "revert", NULL)))
			json_object_array_add(ops, json_object_new_string("revert"));
		if (p != VM_HALTED && !(blocked && json_object_object_get_ex(blocked, "destroy", NULL)))
			json_object_array_add(ops, json_object_new_string("destroy"));
	}
	json_object_object_add(rec, "allowed_operations", ops);
}

int vm_bad_power_state(const char *ref, const char *label, const char *expected, const char *actual,
		       const char *doing)
{
	char exp[16], act[16];
	snprintf(exp, sizeof(exp), "%s", expected);
	snprintf(act, sizeof(act), "%s", actual);
	for (char *p = exp; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (char *p = act; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return ERR3(XVM_ERR_VM_BAD_POWER_STATE, ref, exp, act, "VM %s must be %s to %s; it is %s", label, exp,
		    doing, act);
}
