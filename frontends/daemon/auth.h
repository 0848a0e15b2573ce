/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who may log in: root and the members of the admin group, proving it
 * with their password (checked by PAM) or with an API token (checked by
 * libxvm's token.check, since the CLI creates tokens in the state store).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <xvm/xvm.h>

struct auth_config {
	const char *pam_service;
	const char *pam_confdir;  /* "" or NULL: the system's */
	const char *admin_group;
};

/*
 * Checks user/password; on success copies the user the session is for
 * (the token's owner for a token) to user_out and "password" or "token"
 * to how. Returns 0, or -1 with a reason (for the log, never the client)
 * in why.
 */
int auth_check_password(const struct auth_config *cfg, xvm_conn *conn, const char *user, const char *password,
			char *user_out, size_t user_len, const char **how, char *why, size_t why_len);

/* Whether the user is root or in the admin group. */
bool auth_is_admin(const struct auth_config *cfg, const char *user);
