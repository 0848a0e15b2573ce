/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvmd's configuration file (YAML), e.g. /etc/xvm/xvmd.yaml:
 *
 *   address: 0.0.0.0          # where the HTTP(S) API listens
 *   port: 443                 # 0: any free port (logged at start)
 *   tls: true
 *   certificate: /etc/xvm/xvmd-cert.pem   # a self-signed pair is made
 *   key: /etc/xvm/xvmd-key.pem            # on first start when missing
 *   unix_socket: /run/xvm/xvmd.sock       # "" for none
 *   state_dir: /var/lib/xvm
 *   backend: qemu             # or sim
 *   workers: 16               # calls served at once (waits in event.from aside)
 *   max_body: 4194304         # bytes; larger requests are refused
 *   log_level: info           # error, warning, info, debug
 *   auth:
 *     pam_service: xvmd
 *     pam_confdir: ""         # "": the system's PAM configuration
 *     admin_group: xvm-admin  # root and its members may log in
 *     session_idle_timeout: 86400   # seconds
 *     max_sessions_per_user: 500
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct xvmd_config {
	char *address;
	unsigned port;
	bool tls;
	char *certificate;
	char *key;
	char *unix_socket;
	char *state_dir;
	char *backend;
	unsigned workers;
	size_t max_body;
	int log_level;
	char *pam_service;
	char *pam_confdir;
	char *admin_group;
	unsigned session_idle_timeout;
	unsigned max_sessions_per_user;
};

/* The defaults, then what the file at path says (path NULL: defaults only).
 * On failure returns -1 with a message in err. */
int config_load(const char *path, struct xvmd_config *cfg, char *err, size_t errlen);
void config_clear(struct xvmd_config *cfg);
/* The libxvm URI the configuration names: local:///STATE or sim:///STATE. */
char *config_uri(const struct xvmd_config *cfg);
