/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checks of a domain config that do not depend on the backend, so that
 * the sim and QEMU reject the same configs with the same errno and detail.
 * Each sets xvm_hv_set_error() and returns a negative errno on failure.
 * What a backend checks on top (memory rules, files, firmware) is its own.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hypercall.h"

/* A fixed-size string field of the ABI holds its NUL. */
#define HV_TERMINATED(field) (strnlen((field), sizeof(field)) < sizeof(field))

/* 8-4-4-4-12 hex digits, NUL-terminated. */
bool hv_uuid_valid(const char *u);

/* Whether s is one of the NULL-terminated set. */
bool hv_one_of(const char *s, const char *const *set);

/* uuid, name and vcpu counts; max_vcpus is the backend's limit. */
int hv_config_check(const struct xvm_hc_domain_config *c, uint32_t max_vcpus);

/* Every vcpu's affinity names only CPUs in the host's cpumask. */
int hv_affinity_check(const struct xvm_hc_domain_config *c, uint64_t cpumask, uint32_t cpu_count);

/* Firmware, machine, boot order, boot method and its strings. */
int hv_boot_check(const struct xvm_hc_domain_config *c);

int hv_disk_check(const struct xvm_hc_disk_config *d);
int hv_nic_check(const struct xvm_hc_nic_config *n);

/* Device counts and unique positions, each device checked by the backend's own check. */
int hv_devices_check(const struct xvm_hc_domain_config *c,
		     int (*disk_check)(const struct xvm_hc_disk_config *d),
		     int (*nic_check)(const struct xvm_hc_nic_config *n));
