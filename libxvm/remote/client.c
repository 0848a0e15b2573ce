/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "remote/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"

#define MAX_RESPONSE (512u << 20) /* do not trust the far end either */
#define CONNECT_TIMEOUT_S 30
#define SPARE_HANDLES 8

struct remote {
	char *url;          /* .../jsonrpc */
	char *unix_path;    /* xvm+unix:// */
	char *ca;           /* ?ca= */
	bool no_verify;
	char *user, *password;
	pthread_mutex_t lock;
	char session[64];   /* under lock */
	CURL *spare[SPARE_HANDLES]; /* idle handles, keeping their connections */
	int nspare;
	unsigned long long next_id;
};

static const struct {
	const char *prefix;
	const char *http;
	unsigned default_port;
} schemes[] = {
	{ "xvm://", "https", 443 },
	{ "xvm+tcp://", "http", 80 },
	{ "xvm+unix://", NULL, 0 },
};

int remote_uri_scheme(const char *uri)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(uri, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
			return 1;
	return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int bad_uri(const char *uri, const char *why)
{
	return ERR1(XVM_ERR_URI_INVALID, uri, "'%s' is not a valid daemon URI: %s", uri, why);
}

/* ?ca=FILE&no_verify=1 */
static int parse_query(struct remote *r, const char *uri, const char *q)
{
	char *copy = strdup(q), *save = NULL;
	if (!copy)
		return error_oom();
	int ret = 0;
	for (char *kv = strtok_r(copy, "&", &save); kv && ret == 0; kv = strtok_r(NULL, "&", &save)) {
		if (strncmp(kv, "ca=", 3) == 0 && kv[3]) {
			free(r->ca);
			if (!(r->ca = strdup(kv + 3)))
				ret = error_oom();
		} else if (strcmp(kv, "no_verify=1") == 0) {
			r->no_verify = true;
		} else {
			ret = bad_uri(uri, "it takes only ?ca=FILE and ?no_verify=1");
		}
	}
	free(copy);
	return ret;
}

static int parse_uri(struct remote *r, const char *uri)
{
	size_t i = 0;
	while (strncmp(uri, schemes[i].prefix, strlen(schemes[i].prefix)) != 0)
		i++;
	const char *rest = uri + strlen(schemes[i].prefix);
	const char *query = strchr(rest, '?');
	size_t n = query ? (size_t)(query - rest) : strlen(rest);
	char *where = strndup(rest, n);
	if (!where)
		return error_oom();
	int ret = query ? parse_query(r, uri, query + 1) : 0;
	if (ret == 0 && !schemes[i].http) {
		/* xvm+unix:///PATH: no host, an absolute path */
		if (where[0] != '/' || !where[1])
			ret = bad_uri(uri, "write xvm+unix:///ABSOLUTE/PATH");
		else if (!(r->unix_path = strdup(where)) || asprintf(&r->url, "http://localhost/jsonrpc") < 0)
			ret = error_oom();
	} else if (ret == 0) {
		size_t len = strlen(where);
		if (len && where[len - 1] == '/')
			where[--len] = 0;
		const char *close = where[0] == '[' ? strchr(where, ']') : NULL;
		const char *colon = strrchr(close ? close : where, ':');
		bool has_port = colon && (!close || colon > close);
		if (!len || strpbrk(where, "/@ ") || (where[0] == '[' && !close))
			ret = bad_uri(uri, "write xvm://HOST[:PORT]");
		else if (has_port && (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
				      atoi(colon + 1) < 1 || atoi(colon + 1) > 65535))
			ret = bad_uri(uri, "the port must be a number from 1 to 65535");
		else if (has_port ? asprintf(&r->url, "%s://%s/jsonrpc", schemes[i].http, where) < 0
				  : asprintf(&r->url, "%s://%s:%u/jsonrpc", schemes[i].http, where, schemes[i].default_port) < 0)
			ret = error_oom();
	}
	free(where);
	return ret;
}

struct body {
	char *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata)
{
	struct body *b = userdata;
	size_t add = size * n;
	if (b->len + add > MAX_RESPONSE) {
		b->too_big = true;
		return 0;
	}
	char *grown = realloc(b->data, b->len + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, ptr, add);
	b->len += add;
	grown[b->len] = 0;
	b->data = grown;
	return add;
}

static CURL *take_handle(struct remote *r)
{
	pthread_mutex_lock(&r->lock);
	CURL *h = r->nspare ? r->spare[--r->nspare] : NULL;
	pthread_mutex_unlock(&r->lock);
	if (h)
		return h;
	if (!(h = curl_easy_init()))
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	if (r->unix_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, r->unix_path);
	if (r->ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->ca);
	if (r->no_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return h;
}

static void give_handle(struct remote *r, CURL *h)
{
	pthread_mutex_lock(&r->lock);
	if (r->nspare < SPARE_HANDLES) {
		r->spare[r->nspare++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	if (h)
		curl_easy_cleanup(h);
}

/* The error a JSON-RPC 2.0 error object carries: {message: CODE, data: [params], description}. */
static int wire_error(struct json_object *e)
{
	struct json_object *code, *data, *desc;
	const char *name = json_object_object_get_ex(e, "message", &code) ? json_object_get_string(code) : NULL;
	if (!name || !*name)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "the daemon answered an error without a code");
	const char *params[8];
	size_t n = 0;
	if (json_object_object_get_ex(e, "data", &data) && json_object_is_type(data, json_type_array))
		for (; n < json_object_array_length(data) && n < 8; n++)
			params[n] = json_object_get_string(json_object_array_get_idx(data, n));
	const char *message = json_object_object_get_ex(e, "description", &desc) ? json_object_get_string(desc) : name;
	return error_set_wire(name, n, params, message);
}

/* One JSON-RPC exchange: method(params) -> result. */
static int exchange(struct remote *r, const char *method, struct json_object *params, struct json_object **result)
{
	CURL *h = take_handle(r);
	if (!h)
		return error_oom();
	struct json_object *req = json_object_new_object();
	pthread_mutex_lock(&r->lock);
	unsigned long long id = ++r->next_id;
	pthread_mutex_unlock(&r->lock);
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "method", json_object_new_string(method));
	json_object_object_add(req, "params", json_object_get(params));
	json_object_object_add(req, "id", json_object_new_int64((int64_t)id));
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct body b = { 0 };
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	json_object_put(req);
	int ret;
	struct json_object *resp = NULL, *v;
	if (rc != CURLE_OK) {
		ret = ERR1(XVM_ERR_CONNECTION_FAILED, r->url, "cannot reach the daemon at %s: %s",
			   r->unix_path ? r->unix_path : r->url, b.too_big ? "the answer is too large" : curl_easy_strerror(rc));
	} else if (status != 200) {
		ret = ERR1(XVM_ERR_CONNECTION_FAILED, r->url, "the daemon at %s answered HTTP %ld", r->url, status);
	} else if (!(resp = json_tokener_parse(b.data ? b.data : "")) || !json_object_is_type(resp, json_type_object)) {
		ret = ERR1(XVM_ERR_CONNECTION_FAILED, r->url, "the daemon at %s answered something that is not JSON-RPC",
			   r->url);
	} else if (json_object_object_get_ex(resp, "error", &v) && !json_object_is_type(v, json_type_null)) {
		ret = wire_error(v);
	} else if (!json_object_object_get_ex(resp, "result", &v)) {
		ret = ERR1(XVM_ERR_CONNECTION_FAILED, r->url, "the daemon at %s answered without a result", r->url);
	} else {
		*result = json_object_get(v);
		ret = 0;
	}
	json_object_put(resp);
	free(b.data);
	give_handle(r, h);
	return ret;
}

static int login(struct remote *r)
{
	struct json_object *params = json_object_new_array(), *session = NULL;
	json_object_array_add(params, json_object_new_string(r->user));
	json_object_array_add(params, json_object_new_string(r->password));
	json_object_array_add(params, json_object_new_string("2.0"));
	json_object_array_add(params, json_object_new_string("libxvm"));
	int ret = exchange(r, "session.login_with_password", params, &session);
	json_object_put(params);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&r->lock);
	snprintf(r->session, sizeof(r->session), "%s", json_object_get_string(session));
	pthread_mutex_unlock(&r->lock);
	json_object_put(session);
	return 0;
}

/* method(session, args...); a session that expired is opened again once
 * (SESSION_INVALID means the call did not run, so running it again is safe). */
static int call_with_session(struct remote *r, const char *method, struct json_object *args,
			     struct json_object **result)
{
	size_t n = args ? json_object_array_length(args) : 0;
	for (int attempt = 0;; attempt++) {
		struct json_object *params = json_object_new_array_ext((int)n + 1);
		pthread_mutex_lock(&r->lock);
		json_object_array_add(params, json_object_new_string(r->session));
		pthread_mutex_unlock(&r->lock);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(params, json_object_get(json_object_array_get_idx(args, i)));
		struct json_object *out = NULL;
		int ret = exchange(r, method, params, &out);
		json_object_put(params);
		if (ret == -XVM_ERR_SESSION_INVALID && attempt == 0 && login(r) == 0)
			continue;
		if (ret == 0) {
			if (result)
				*result = out;
			else
				json_object_put(out);
		}
		return ret;
	}
}

static int remote_call(void *impl, const char *method, struct json_object *args, struct json_object **result)
{
	if (args && !json_object_is_type(args, json_type_array))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "args", "the arguments of %s must be a JSON array", method);
	return call_with_session(impl, method, args, result);
}

static int remote_list_methods(void *impl, struct json_object **ret)
{
	return call_with_session(impl, "system.listMethods", NULL, ret);
}

static void remote_close(void *impl)
{
	struct remote *r = impl;
	if (!r)
		return;
	if (r->session[0]) {
		/* Not call_with_session: an expired session needs no new one to end. */
		struct json_object *params = json_object_new_array(), *out = NULL;
		json_object_array_add(params, json_object_new_string(r->session));
		if (exchange(r, "session.logout", params, &out) == 0)
			json_object_put(out);
		json_object_put(params);
	}
	for (int i = 0; i < r->nspare; i++)
		curl_easy_cleanup(r->spare[i]);
	pthread_mutex_destroy(&r->lock);
	free(r->url);
	free(r->unix_path);
	free(r->ca);
	free(r->user);
	if (r->password)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r);
}

int remote_open(const char *uri, const char *user, const char *password, void **out)
{
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	struct remote *r = calloc(1, sizeof(*r));
	if (!r)
		return error_oom();
	pthread_mutex_init(&r->lock, NULL);
	int ret = parse_uri(r, uri);
	if (ret == 0 && (!(r->user = strdup(user ? user : "root")) || !(r->password = strdup(password ? password : ""))))
		ret = error_oom();
	if (ret == 0)
		ret = login(r);
	if (ret < 0) {
		r->session[0] = 0;
		remote_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

const struct conn_backend remote_backend = {
	.call = remote_call,
	.list_methods = remote_list_methods,
	.close = remote_close,
};
