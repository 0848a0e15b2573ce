/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libxvm: XenServer-style virtual machine management, library first. */
#pragma once

#include <xvm/error.h>
#include <xvm/connection.h>
#include <xvm/call.h>
#include <xvm/object.h>
#include <xvm/vm.h>
#include <xvm/storage.h>
#include <xvm/version.h>
