/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Errors, XenAPI style: a code, parameters and a human message.
 *
 * Every call that can fail returns 0 (or a non-negative count) on success
 * and -code on failure, where code is one of enum xvm_error_code. The
 * details of the last failure are kept per thread: xvm_last_error() stays
 * valid until the same thread's next libxvm call.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, description). Names are XenAPI's wire codes, plus a few of xvm's own. */
#define XVM_ERROR_CODES(X) \
	X(INTERNAL_ERROR, "an unexpected internal failure") \
	X(HANDLE_INVALID, "a reference does not name an existing object of the class") \
	X(UUID_INVALID, "a UUID is malformed or names no object of the class") \
	X(MESSAGE_METHOD_UNKNOWN, "no such method") \
	X(MESSAGE_PARAMETER_COUNT_MISMATCH, "wrong number of method parameters") \
	X(FIELD_TYPE_ERROR, "a value does not have the field's type") \
	X(MAP_DUPLICATE_KEY, "the map already has that key") \
	X(INVALID_VALUE, "a value is outside what the field accepts") \
	X(VALUE_NOT_SUPPORTED, "the value is not supported here") \
	X(OPERATION_NOT_ALLOWED, "the operation is not allowed") \
	X(VM_BAD_POWER_STATE, "the VM is not in the power state the operation needs") \
	X(OTHER_OPERATION_IN_PROGRESS, "another operation on the object is in flight") \
	X(VM_IS_TEMPLATE, "the operation cannot be done on a template") \
	X(MEMORY_CONSTRAINT_VIOLATION, "static_min <= dynamic_min <= dynamic_max <= static_max does not hold") \
	X(HOST_NOT_ENOUGH_FREE_MEMORY, "the host lacks the memory to run the VM") \
	X(VM_TOO_MANY_VCPUS, "more vCPUs than the host or the VM allows") \
	X(VM_SHUTDOWN_TIMEOUT, "the guest did not shut down in time") \
	X(VM_CRASHED, "the guest crashed") \
	X(HYPERVISOR_ERROR, "the hypervisor refused or failed the operation") \
	X(OPERATION_NOT_SUPPORTED_BY_BACKEND, "this hypervisor backend cannot do that") \
	X(TEMPLATE_INVALID, "a template file is malformed") \
	X(UNKNOWN_TEMPLATE, "no template of that name or UUID") \
	X(STORE_INVALID, "the state file is not an xvm database") \
	X(STORE_VERSION_TOO_NEW, "the state was written by a newer xvm") \
	X(STORE_ERROR, "the state store failed") \
	X(URI_INVALID, "a connection URI is malformed or names an unknown scheme") \
	X(SR_FULL, "the storage repository has no room") \
	X(VDI_IN_USE, "the virtual disk is in use") \
	X(NOT_IMPLEMENTED, "not implemented by this connection") \
	X(SESSION_INVALID, "the session is not valid") \
	X(SESSION_AUTHENTICATION_FAILED, "the user name or password is wrong") \
	X(SR_BACKEND_FAILURE, "the storage driver or its tools failed") \
	X(SR_UNKNOWN_DRIVER, "no storage driver of that type") \
	X(SR_OPERATION_NOT_SUPPORTED, "the storage repository's type cannot do that") \
	X(SR_HAS_NO_PBDS, "no host is connected to the storage repository") \
	X(SR_DEVICE_IN_USE, "the device or directory already holds a storage repository or data") \
	X(PBD_EXISTS, "the host already has a connection to the storage repository") \
	X(VDI_MISSING, "the storage no longer has the virtual disk") \
	X(VDI_READ_ONLY, "the virtual disk is read-only") \
	X(VDI_TOO_SMALL, "the virtual disk is too small") \
	X(VDI_IS_NOT_ISO, "the virtual disk is not a CD image") \
	X(VBD_NOT_EMPTY, "the drive already holds a disc") \
	X(VBD_IS_EMPTY, "the drive holds no disc") \
	X(VBD_NOT_REMOVABLE_MEDIA, "only a CD drive takes discs") \
	X(VBD_NOT_UNPLUGGABLE, "the device cannot be unplugged while the VM runs") \
	X(DEVICE_ALREADY_ATTACHED, "the device is already attached") \
	X(DEVICE_ALREADY_DETACHED, "the device is already detached") \
	X(DEVICE_ALREADY_EXISTS, "the VM already has a device at that position") \
	X(IMPORT_ERROR, "the image cannot be imported") \
	X(CONNECTION_FAILED, "the daemon cannot be reached, or broke off the exchange") \
	X(TASK_CANCELLED, "the task was cancelled before it ran") \
	X(BOOTLOADER_FAILED, "the bootloader cannot boot the VM from its disk") \
	X(VTPM_MAX_AMOUNT_REACHED, "the VM has as many vTPMs as it may have") \
	X(VM_HAS_VTPM, "the operation cannot keep the VM's vTPM") \
	X(NETWORK_CONTAINS_VIF, "the network still has VIFs on it") \
	X(MAC_INVALID, "the MAC address is not one a NIC can have") \
	X(BRIDGE_NOT_AVAILABLE, "the host lacks the bridge a VIF's network is on")
/* New codes are appended: the numbers are ABI. */

enum xvm_error_code {
	XVM_OK = 0,
#define XVM_ERROR_ENUM_(name, desc) XVM_ERR_##name,
	XVM_ERROR_CODES(XVM_ERROR_ENUM_)
#undef XVM_ERROR_ENUM_
	XVM_ERR__MAX
};

struct xvm_error {
	int code;                   /* enum xvm_error_code; INTERNAL_ERROR for a wire code this build does not know */
	const char *name;           /* the wire code, e.g. "VM_BAD_POWER_STATE" */
	size_t nparams;
	const char *const *params;  /* XenAPI's error parameters, e.g. [vm, expected, actual] */
	const char *message;        /* one line for a human */
};

/* This thread's last failure; NULL after a success. */
const struct xvm_error *xvm_last_error(void);

/* "VM_BAD_POWER_STATE" for XVM_ERR_VM_BAD_POWER_STATE; NULL if out of range. */
const char *xvm_error_code_name(int code);

/* The code for a wire name; XVM_ERR_INTERNAL_ERROR if unknown. */
int xvm_error_code_from_name(const char *name);

#ifdef __cplusplus
}
#endif
