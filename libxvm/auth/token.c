/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * API tokens: long-lived secrets that stand for a user, created with
 * `xvm token-create` and passed by password-only clients (XenAPI's
 * session.login_with_password) in place of the password.
 *
 * A secret reads "xvmtok-UUID-HEX": the UUID finds the token, the HEX part
 * (32 random bytes) proves it. The store keeps only the SHA-256 of the
 * whole secret, so reading the database does not give the secrets away.
 *
 * Tokens are few and not a XenAPI class: each is one row of the store's
 * meta table, key "api_token:UUID", value a JSON object {user,
 * name_label, created, secret_hash}; no schema change is needed.
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/methods.h"
#include "core/util.h"
#include "store/store.h"

#define SECRET_PREFIX "xvmtok-"
#define SECRET_RANDOM_BYTES 32
#define SHA256_HEX_LEN 64
#define MAX_USER_LEN 256
#define KEY_PREFIX "api_token:"

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int secret_hash(const char *secret, char out[SHA256_HEX_LEN + 1])
{
	unsigned char digest[32];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, strlen(secret), digest) < 0)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "cannot hash the token");
	hex(digest, sizeof(digest), out);
	return 0;
}

/* Runs fn inside a write (or read) transaction, committing on success. */
static int in_transaction(struct engine *e, bool write, int (*fn)(struct engine *, struct json_object *,
								  struct json_object **),
			  struct json_object *args, struct json_object **result)
{
	int r = write ? store_begin_write(e->store) : store_begin_read(e->store);
	if (r < 0)
		return r;
	struct json_object *out = NULL;
	if ((r = fn(e, args, &out)) < 0 || !write) {
		store_rollback(e->store);
	} else if ((r = store_commit(e->store)) < 0) {
		json_object_put(out);
		out = NULL;
	}
	if (r == 0)
		*result = out;
	else
		json_object_put(out);
	return r;
}

static int create(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *user, *label;
	int r;
	if ((r = arg_string(args, 0, "user", &user)) < 0 || (r = arg_string(args, 1, "name_label", &label)) < 0)
		return r;
	if (!*user || strlen(user) > MAX_USER_LEN || strpbrk(user, ":/\n"))
		return ERR2(XVM_ERR_INVALID_VALUE, "user", user, "'%s' is not a user name", user);
	unsigned char rnd[SECRET_RANDOM_BYTES];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return ERR0(XVM_ERR_INTERNAL_ERROR, "no random bytes for the token");
	char uuid[XVM_UUID_BUFLEN], rnd_hex[2 * SECRET_RANDOM_BYTES + 1], hash[SHA256_HEX_LEN + 1];
	char secret[sizeof(SECRET_PREFIX) + XVM_UUID_BUFLEN + sizeof(rnd_hex)], now[XVM_DATETIME_BUFLEN];
	uuid_generate_str(uuid);
	hex(rnd, sizeof(rnd), rnd_hex);
	snprintf(secret, sizeof(secret), SECRET_PREFIX "%s-%s", uuid, rnd_hex);
	if ((r = secret_hash(secret, hash)) < 0)
		return r;
	datetime_format(time(NULL), now);
	char key[sizeof(KEY_PREFIX) + XVM_UUID_BUFLEN];
	snprintf(key, sizeof(key), KEY_PREFIX "%s", uuid);
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "user", json_object_new_string(user));
	json_object_object_add(rec, "name_label", json_object_new_string(label));
	json_object_object_add(rec, "created", json_object_new_string(now));
	json_object_object_add(rec, "secret_hash", json_object_new_string(hash));
	r = store_meta_set(e->store, key, json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN));
	json_object_put(rec);
	if (r < 0)
		return r;
	*result = json_object_new_string(secret);
	return 0;
}

static int get_all_records(struct engine *e, struct json_object *args, struct json_object **result)
{
	/* The prefix as a key range: ':' + 1 is ';'. */
	sqlite3_stmt *st = store_stmt(e->store, "SELECT substr(key, 11), value FROM meta "
						"WHERE key >= 'api_token:' AND key < 'api_token;'");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	struct json_object *all = json_object_new_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct json_object *rec = json_tokener_parse((const char *)sqlite3_column_text(st, 1));
		if (!rec)
			continue;
		json_object_object_del(rec, "secret_hash");
		json_object_object_add(rec, "uuid", json_object_new_string((const char *)sqlite3_column_text(st, 0)));
		json_object_object_add(all, (const char *)sqlite3_column_text(st, 0), rec);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_object_put(all);
		return store_error(e->store, "read the tokens");
	}
	*result = all;
	return 0;
}

static int destroy(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *uuid;
	int r = arg_string(args, 0, "uuid", &uuid);
	if (r < 0)
		return r;
	char key[sizeof(KEY_PREFIX) + 64];
	snprintf(key, sizeof(key), KEY_PREFIX "%.63s", uuid);
	sqlite3_stmt *st = store_stmt(e->store, "DELETE FROM meta WHERE key = ?");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_error(e->store, "delete a token");
	if (sqlite3_changes(store_db(e->store)) == 0)
		return ERR2(XVM_ERR_UUID_INVALID, "token", uuid, "there is no token with UUID %s", uuid);
	*result = NULL;
	return 0;
}

static int check(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *secret;
	int r = arg_string(args, 0, "secret", &secret);
	if (r < 0)
		return r;
	size_t plen = strlen(SECRET_PREFIX);
	char uuid[XVM_UUID_BUFLEN], hash[SHA256_HEX_LEN + 1];
	if (strncmp(secret, SECRET_PREFIX, plen) != 0 || strlen(secret) < plen + XVM_UUID_BUFLEN)
		goto refused;
	memcpy(uuid, secret + plen, XVM_UUID_BUFLEN - 1);
	uuid[XVM_UUID_BUFLEN - 1] = 0;
	if ((r = secret_hash(secret, hash)) < 0)
		return r;
	char key[sizeof(KEY_PREFIX) + XVM_UUID_BUFLEN], *text = NULL;
	snprintf(key, sizeof(key), KEY_PREFIX "%s", uuid);
	if ((r = store_meta_get(e->store, key, &text)) < 0)
		return r;
	struct json_object *rec = text ? json_tokener_parse(text) : NULL, *stored, *user;
	free(text);
	bool match = json_object_object_get_ex(rec, "secret_hash", &stored) &&
		     json_object_object_get_ex(rec, "user", &user) &&
		     json_object_get_string_len(stored) == SHA256_HEX_LEN &&
		     gnutls_memcmp(json_object_get_string(stored), hash, SHA256_HEX_LEN) == 0;
	if (match)
		*result = json_object_new_string(json_object_get_string(user));
	json_object_put(rec);
	if (match)
		return 0;
refused:
	return ERR0(XVM_ERR_SESSION_AUTHENTICATION_FAILED, "the token is not valid");
}

#define TOKEN_METHOD(name, write)                                                                   \
	static int m_##name(struct engine *e, struct json_object *args, struct json_object **result) \
	{                                                                                           \
		return in_transaction(e, write, name, args, result);                                \
	}
TOKEN_METHOD(create, true)
TOKEN_METHOD(get_all_records, false)
TOKEN_METHOD(destroy, true)
TOKEN_METHOD(check, false)

const struct method token_methods[] = {
	{ "token.create", m_create, 2, "xvm: a new API token for a user (user, name_label) -> its secret, shown once" },
	{ "token.get_all_records", m_get_all_records, 0, "xvm: every API token, uuid -> record (no secrets)" },
	{ "token.destroy", m_destroy, 1, "xvm: revokes an API token (uuid)" },
	{ "token.check", m_check, 1, "xvm: the user a token secret stands for (secret) -> user" },
	{ NULL },
};
