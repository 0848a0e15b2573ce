/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "auth.h"

#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN_PREFIX "xvmtok-"

struct conv_data {
	const char *user;
	const char *password;
};

static int conversation(int n, const struct pam_message **msgs, struct pam_response **out, void *data)
{
	struct conv_data *d = data;
	struct pam_response *rs = calloc((size_t)n, sizeof(*rs));
	if (!rs)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *answer = NULL;
		if (msgs[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			answer = d->password;
		else if (msgs[i]->msg_style == PAM_PROMPT_ECHO_ON)
			answer = d->user;
		if (answer && !(rs[i].resp = strdup(answer))) {
			for (int j = 0; j < i; j++)
				free(rs[j].resp);
			free(rs);
			return PAM_BUF_ERR;
		}
	}
	*out = rs;
	return PAM_SUCCESS;
}

static int pam_check(const struct auth_config *cfg, const char *user, const char *password, char *why,
		     size_t why_len)
{
	struct conv_data d = { user, password };
	struct pam_conv conv = { conversation, &d };
	pam_handle_t *pamh = NULL;
	const char *confdir = cfg->pam_confdir && *cfg->pam_confdir ? cfg->pam_confdir : NULL;
	int rc = pam_start_confdir(cfg->pam_service, user, &conv, confdir, &pamh);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc != PAM_SUCCESS)
		snprintf(why, why_len, "PAM (%s): %s", cfg->pam_service, pamh ? pam_strerror(pamh, rc) : "cannot start");
	if (pamh)
		pam_end(pamh, rc);
	return rc == PAM_SUCCESS ? 0 : -1;
}

bool auth_is_admin(const struct auth_config *cfg, const char *user)
{
	char buf[16384];
	struct passwd pw, *pwp = NULL;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp)
		return false;
	if (pwp->pw_uid == 0)
		return true;
	char gbuf[16384];
	struct group gr, *grp = NULL;
	if (!cfg->admin_group || !*cfg->admin_group || getgrnam_r(cfg->admin_group, &gr, gbuf, sizeof(gbuf), &grp) != 0 ||
	    !grp)
		return false;
	gid_t groups[256];
	int n = 256;
	if (getgrouplist(user, pwp->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == grp->gr_gid)
			return true;
	return false;
}

static int token_check(xvm_conn *conn, const char *user, const char *secret, char *user_out, size_t user_len,
		       char *why, size_t why_len)
{
	struct json_object *args = json_object_new_array(), *owner = NULL;
	json_object_array_add(args, json_object_new_string(secret));
	int r = xvm_call(conn, "token.check", args, &owner);
	json_object_put(args);
	if (r < 0) {
		snprintf(why, why_len, "token: %s", xvm_last_error() ? xvm_last_error()->message : "refused");
		return -1;
	}
	const char *name = json_object_get_string(owner);
	/* A client that names a user must name the token's. */
	if (*user && strcmp(user, name) != 0) {
		snprintf(why, why_len, "the token belongs to %s, not %s", name, user);
		r = -1;
	} else {
		snprintf(user_out, user_len, "%s", name);
	}
	json_object_put(owner);
	return r;
}

int auth_check_password(const struct auth_config *cfg, xvm_conn *conn, const char *user, const char *password,
			char *user_out, size_t user_len, const char **how, char *why, size_t why_len)
{
	if (strncmp(password, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0) {
		*how = "token";
		return token_check(conn, user, password, user_out, user_len, why, why_len);
	}
	*how = "password";
	if (!*user || !*password) {
		snprintf(why, why_len, "no user name or no password");
		return -1;
	}
	if (pam_check(cfg, user, password, why, why_len) < 0)
		return -1;
	if (!auth_is_admin(cfg, user)) {
		snprintf(why, why_len, "%s is neither root nor in the group %s", user, cfg->admin_group);
		return -1;
	}
	snprintf(user_out, user_len, "%s", user);
	return 0;
}
