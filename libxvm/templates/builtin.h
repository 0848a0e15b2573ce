/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

struct engine;

/*
 * Loads the built-in templates (*.yaml in the template directory) into the
 * store when the directory changed since the last load: new ones are added,
 * changed ones updated, removed ones deleted. The directory is
 * $XVM_TEMPLATE_DIR, else the installed one, else the source tree's (for
 * runs from a build directory).
 */
int templates_sync_builtin(struct engine *e);

/* The directory in use (static storage). */
const char *templates_dir(void);

/* Where the images of template disks (`image:` in a template's disks) are:
 * $XVM_TEMPLATE_IMAGE_DIR, else the installed directory, else the build
 * tree's (static storage). */
const char *templates_image_dir(void);
