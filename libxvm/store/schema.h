/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's schema. Two mechanisms, each for its kind of change:
 * - numbered migration steps (PRAGMA user_version) for changes that move or
 *   transform data; a database newer than every step is refused;
 * - reconciliation of the class tables with the class definitions: a field
 *   added to a class gets its column (with the field's default) on the next
 *   open, so adding a field needs no hand-written migration.
 */
#pragma once

#include <stddef.h>

struct store;

struct schema_step {
	int version;                     /* user_version after the step */
	const char *sql;                 /* run as one script; or NULL */
	int (*apply)(struct store *s);   /* or a function; inside the step's transaction */
};

extern const struct schema_step schema_steps[];
extern const size_t schema_nsteps;

/* Runs each step above the database's version, each in its own transaction. */
int schema_migrate(struct store *s, const struct schema_step *steps, size_t nsteps);

/* Creates missing class tables and columns; cheap when nothing changed. */
int schema_reconcile_classes(struct store *s);

/* The SQLite column type for a field type. */
const char *schema_column_type(int xvm_type);
