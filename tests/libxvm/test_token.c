/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* API tokens (auth/token.c): create, check, list, revoke. */
#include <stdlib.h>
#include <string.h>

#include "common.h"

static struct json_object *strings(const char *a, const char *b)
{
	struct json_object *args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(a));
	if (b)
		json_object_array_add(args, json_object_new_string(b));
	return args;
}

static int call(xvm_conn *c, const char *method, const char *a, const char *b, struct json_object **result)
{
	struct json_object *args = a ? strings(a, b) : NULL;
	int r = xvm_call(c, method, args, result);
	json_object_put(args);
	return r;
}

Test(token, create_check_list_destroy)
{
	char *dir = t_tmpdir();
	xvm_conn *c = t_connect(dir);
	struct json_object *secret, *user, *all;
	T_OK(call(c, "token.create", "alice", "ci", &secret));
	const char *s = json_object_get_string(secret);
	cr_assert(strncmp(s, "xvmtok-", 7) == 0, "%s", s);
	T_OK(call(c, "token.check", s, NULL, &user));
	cr_assert_str_eq(json_object_get_string(user), "alice");
	json_object_put(user);

	T_OK(call(c, "token.get_all_records", NULL, NULL, &all));
	cr_assert_eq(json_object_object_length(all), 1);
	json_object_object_foreach(all, listed, rec) {
		cr_assert(strncmp(s + 7, listed, 36) == 0);
		cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "name_label")), "ci");
		cr_assert_not(json_object_object_get_ex(rec, "secret_hash", NULL), "the list must not show hashes");
	}
	char uuid[37];
	memcpy(uuid, s + 7, 36);
	uuid[36] = 0;
	json_object_put(all);

	/* The store holds a hash, never the secret itself. */
	xvm_conn *again = t_connect(dir);
	char *forged = strdup(s);
	forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == 'a' ? 'b' : 'a';
	T_ERR(call(again, "token.check", forged, NULL, &user), XVM_ERR_SESSION_AUTHENTICATION_FAILED, 0);
	T_ERR(call(again, "token.check", "xvmtok-short", NULL, &user), XVM_ERR_SESSION_AUTHENTICATION_FAILED, 0);
	T_ERR(call(again, "token.check", "password", NULL, &user), XVM_ERR_SESSION_AUTHENTICATION_FAILED, 0);
	free(forged);

	T_OK(call(again, "token.destroy", uuid, NULL, NULL));
	T_ERR(call(again, "token.check", s, NULL, &user), XVM_ERR_SESSION_AUTHENTICATION_FAILED, 0);
	T_ERR(call(again, "token.destroy", uuid, NULL, NULL), XVM_ERR_UUID_INVALID, 2, "token", uuid);
	json_object_put(secret);
	xvm_disconnect(again);
	xvm_disconnect(c);
	t_rmdir(dir);
}

Test(token, bad_users_are_refused)
{
	char *dir = t_tmpdir();
	xvm_conn *c = t_connect(dir);
	struct json_object *secret = NULL;
	T_ERR(call(c, "token.create", "", "x", &secret), XVM_ERR_INVALID_VALUE, 2, "user", "");
	T_ERR(call(c, "token.create", "a:b", "x", &secret), XVM_ERR_INVALID_VALUE, 2, "user", "a:b");
	T_ERR(call(c, "token.create", "alice", NULL, &secret), XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, 3, "token.create", "2", "1");
	cr_assert_null(secret);
	xvm_disconnect(c);
	t_rmdir(dir);
}
