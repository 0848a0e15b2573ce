/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

struct engine;

/* On first use of a state dir creates the pool, this host and its "Local
 * storage" SR; afterwards finds them. Fills e->pool_ref and e->host_ref. */
int bootstrap_host(struct engine *e);
