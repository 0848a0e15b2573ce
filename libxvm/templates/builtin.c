/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "templates/builtin.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/log.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"
#include "templates/yaml_loader.h"

/* The directory the environment names, else the installed one, else the
 * uninstalled tree's (a run from the build directory). */
static const char *data_dir(const char *env_name, const char *installed, const char *uninstalled)
{
	const char *env = getenv(env_name);
	if (env && *env)
		return env;
	struct stat st;
	return stat(installed, &st) == 0 && S_ISDIR(st.st_mode) ? installed : uninstalled;
}

const char *templates_dir(void)
{
	return data_dir("XVM_TEMPLATE_DIR", XVM_TEMPLATE_DIR, XVM_SOURCE_TEMPLATE_DIR);
}

const char *templates_image_dir(void)
{
	return data_dir("XVM_TEMPLATE_IMAGE_DIR", XVM_TEMPLATE_IMAGE_DIR, XVM_BUILD_TEMPLATE_IMAGE_DIR);
}

static int yaml_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

/* Names, sizes and times of the files: when they match the digest recorded
 * at the last load, nothing is parsed. */
static char *dir_digest(const char *dir, struct dirent **names, int n)
{
	unsigned long long h = 1469598103934665603ull;
	for (int i = 0; i < n; i++) {
		char *path;
		struct stat st;
		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
			return NULL;
		if (stat(path, &st) < 0)
			st = (struct stat){ 0 };
		free(path);
		for (const char *p = names[i]->d_name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		unsigned long long facts[] = { (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
					       (unsigned long long)st.st_mtim.tv_nsec };
		for (size_t k = 0; k < 3; k++)
			h = (h ^ facts[k]) * 1099511628211ull;
	}
	char *out;
	return asprintf(&out, "%s:%016llx", dir, h) < 0 ? NULL : out;
}

static int upsert_template(struct engine *e, struct json_object *rec)
{
	struct json_object *u;
	json_object_object_get_ex(rec, "uuid", &u);
	char *ref = NULL;
	int r = rec_find_one(e, &class_vm, "uuid", json_object_get_string(u), &ref);
	if (r < 0)
		return r;
	json_object_object_add(rec, "is_a_template", json_object_new_boolean(1));
	json_object_object_add(rec, "is_default_template", json_object_new_boolean(1));
	if (ref) {
		r = rec_update(e, &class_vm, ref, rec);
	} else {
		char new_ref[XVM_REF_BUFLEN];
		ref_generate(new_ref);
		r = rec_insert(e, &class_vm, new_ref, rec);
	}
	free(ref);
	return r;
}

/* Default templates whose file went away. */
static int delete_removed(struct engine *e, struct json_object *kept_uuids)
{
	sqlite3_stmt *st = store_stmt(e->store, "SELECT ref, uuid FROM VM WHERE is_default_template = 1");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	struct json_object *gone = json_object_new_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		if (!json_object_object_get_ex(kept_uuids, (const char *)sqlite3_column_text(st, 1), NULL))
			json_object_array_add(gone, json_object_new_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_reset(st);
	int r = 0;
	for (size_t i = 0; r == 0 && i < json_object_array_length(gone); i++)
		r = rec_delete(e, &class_vm, json_object_get_string(json_object_array_get_idx(gone, i)));
	json_object_put(gone);
	return r;
}

static int load_all(struct engine *e, const char *dir, struct dirent **names, int n)
{
	struct json_object *kept = json_object_new_object();
	int r = 0;
	for (int i = 0; r == 0 && i < n; i++) {
		char *path;
		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0) {
			r = error_oom();
			break;
		}
		struct json_object *rec;
		r = template_load_file(path, &rec);
		free(path);
		if (r < 0)
			break;
		struct json_object *u;
		json_object_object_get_ex(rec, "uuid", &u);
		json_object_object_add(kept, json_object_get_string(u), NULL);
		r = upsert_template(e, rec);
		json_object_put(rec);
	}
	if (r == 0)
		r = delete_removed(e, kept);
	json_object_put(kept);
	return r;
}

int templates_sync_builtin(struct engine *e)
{
	const char *dir = templates_dir();
	struct dirent **names = NULL;
	int n = scandir(dir, &names, yaml_name, alphasort);
	if (n < 0) {
		log_warning("no built-in templates: cannot read %s: %s", dir, strerror(errno));
		return 0;
	}
	char *digest = dir_digest(dir, names, n), *recorded = NULL;
	int r = digest ? store_begin_read(e->store) : error_oom();
	if (r == 0) {
		r = store_meta_get(e->store, "templates_digest", &recorded);
		store_rollback(e->store);
	}
	if (r == 0 && !(recorded && strcmp(recorded, digest) == 0)) {
		if ((r = store_begin_write(e->store)) == 0) {
			r = load_all(e, dir, names, n);
			if (r == 0)
				r = store_meta_set(e->store, "templates_digest", digest);
			if (r == 0)
				r = store_commit(e->store);
			else
				store_rollback(e->store);
		}
	}
	free(recorded);
	free(digest);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}
