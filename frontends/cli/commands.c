/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every command of `xvm`, in the order `help` lists them. */
#include "commands.h"
#include "params.h"

#include <string.h>

#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

#define SELECT_FLAGS (CLI_CMD_SELECT | CLI_CMD_FILTERS | CLI_CMD_MULTIPLE)
#define NOT_TEMPLATES "is-a-template=false"

/* The same six param commands for every class: param-list/get/set/add/remove/clear. */
#define PARAM_COMMANDS(prefix, cls, what)                                                         \
	{ prefix "-param-list", cls, P("uuid"), NONE, 0, NULL, NULL,                              \
	  "List every parameter of " what ".", NULL, cli_run_param_list, NULL },                  \
	{ prefix "-param-get", cls, P("uuid", "param-name"), P("param-key"), 0, NULL, NULL,       \
	  "Print one parameter of " what " (one key of a map with param-key).",                   \
	  cli_check_param_get, cli_run_param_get, NULL },                                         \
	{ prefix "-param-set", cls, P("uuid"), NONE, CLI_CMD_ASSIGN, NULL, NULL,                  \
	  "Set parameters of " what ": FIELD=VALUE or MAP:KEY=VALUE, several at once.",           \
	  cli_check_param_set, cli_run_param_set, NULL },                                         \
	{ prefix "-param-add", cls, P("uuid", "param-name"), P("param-key"), CLI_CMD_ANY_KEY,     \
	  NULL, NULL,                                                                             \
	  "Add KEY=VALUE pairs to a map parameter of " what ", or param-key=ELEMENT to a set.",   \
	  cli_check_param_add, cli_run_param_add, NULL },                                         \
	{ prefix "-param-remove", cls, P("uuid", "param-name", "param-key"), NONE, 0, NULL, NULL, \
	  "Remove a key from a map parameter, or an element from a set parameter, of " what ".",  \
	  cli_check_param_remove, cli_run_param_remove, NULL },                                   \
	{ prefix "-param-clear", cls, P("uuid", "param-name"), NONE, 0, NULL, NULL,               \
	  "Empty a map or set parameter of " what ", or set a text parameter to \"\".",           \
	  cli_check_param_clear, cli_run_param_clear, NULL }

#define LIST_COMMAND(name, cls, params, filter, what)                                      \
	{ name, cls, NONE, P("params"), CLI_CMD_FILTERS, params, filter,                   \
	  "List " what ", showing params=a,b (or all); FIELD=VALUE filters narrow the list.", \
	  cli_check_list, cli_run_list, NULL }

/* Calls one method on the object uuid= names. */
#define ON_UUID(name, cls, method, what) \
	{ name, cls, P("uuid"), NONE, 0, NULL, NULL, what, NULL, cli_run_on_uuid, method, NULL }

/* Acts on one VM: vm=NAME-or-UUID, uuid= or filters. */
#define ONE_VM (CLI_CMD_SELECT | CLI_CMD_FILTERS)

const struct cli_command cli_commands[] = {
	{ "help", NULL, NONE, NONE, CLI_CMD_WORDS | CLI_CMD_ALL | CLI_CMD_OFFLINE, NULL, NULL,
	  "List the commands; `help COMMAND` describes one, `help --all` every one.",
	  cli_check_help, cli_run_help, NULL },

	{ "vm-install", "VM", P("template", "new-name-label"), P("sr-uuid", "copy"), 0, NULL, NULL,
	  "Install a new VM from a template (name-label or UUID): its disks cloned copy-on-write, or copied in full "
	  "with copy=true or when they are not in sr-uuid (into it), and the disks it asks for made in sr-uuid or "
	  "the pool's default SR; prints the new VM's UUID.",
	  cli_check_vm_install, cli_run_vm_install, NULL },
	{ "vm-clone", "VM", P("new-name-label"), P("vm", "uuid"), ONE_VM, NULL, NULL,
	  "Copy the halted VM (or template) under new-name-label, its disks copy-on-write; prints the new VM's UUID.",
	  NULL, cli_run_vm_clone, NULL },
	{ "vm-copy", "VM", P("new-name-label"), P("vm", "uuid", "sr-uuid"), ONE_VM, NULL, NULL,
	  "Copy the halted VM (or template) under new-name-label, its disks in full into sr-uuid (or their own SR); "
	  "prints the new VM's UUID.",
	  NULL, cli_run_vm_clone, "copy" },
	{ "vm-uninstall", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS | CLI_CMD_FORCE, NULL, NOT_TEMPLATES,
	  "Destroy the selected VM(s) and the disks they own, shutting them down hard if needed. "
	  "Asks first when run from a terminal, unless --force.",
	  NULL, cli_run_vm_uninstall, NULL },
	{ "vm-export", "VM", P("filename"), P("vm", "uuid", "compress", "without-vtpm"), CLI_CMD_SELECT | CLI_CMD_FILTERS,
	  NULL, NULL,
	  "Write the halted VM (or snapshot) to an OVA file: OVF descriptor, VMDK disks, SHA256 manifest; "
	  "compress=true gzips the disks. An OVA cannot hold a vTPM: a VM with one needs without-vtpm=true, "
	  "and the VM imported from it has no TPM.",
	  cli_check_export, cli_run_vm_export, NULL },
	{ "template-export", "VM", P("template-uuid", "filename"), P("compress", "without-vtpm"), 0, NULL, NULL,
	  "Write the template to an OVA file, as vm-export does.",
	  cli_check_export, cli_run_template_export, NULL },
	{ "vm-import", "VM", P("filename"), P("sr-uuid", "preserve"), 0, NULL, NULL,
	  "Make a VM from an OVA, or an OVF with its files beside it, its disks in sr-uuid (the default SR "
	  "otherwise); preserve=true keeps the MAC addresses. Prints the new VM's UUID.",
	  cli_check_import, cli_run_vm_import, NULL },
	LIST_COMMAND("vm-list", "VM", "uuid,name-label,power-state", NOT_TEMPLATES, "the VMs (not templates)"),
	{ "vm-start", "VM", NONE, P("vm", "uuid", "paused"), SELECT_FLAGS | CLI_CMD_FORCE, NULL, NOT_TEMPLATES,
	  "Start the selected VM(s); paused=true leaves them Paused; --force skips soft checks.",
	  cli_check_vm_paused, cli_run_vm_power, &cli_vm_start },
	{ "vm-shutdown", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS | CLI_CMD_FORCE, NULL, NOT_TEMPLATES,
	  "Shut down the selected VM(s): ask the guest, or power off at once with --force.",
	  NULL, cli_run_vm_power, &cli_vm_shutdown },
	{ "vm-reboot", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS | CLI_CMD_FORCE, NULL, NOT_TEMPLATES,
	  "Reboot the selected VM(s): ask the guest, or reset at once with --force.",
	  NULL, cli_run_vm_power, &cli_vm_reboot },
	{ "vm-pause", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Pause the selected running VM(s).", NULL, cli_run_vm_power, &cli_vm_pause },
	{ "vm-unpause", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Unpause the selected paused VM(s).", NULL, cli_run_vm_power, &cli_vm_unpause },
	{ "vm-suspend", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Suspend the selected running VM(s) to disk.", NULL, cli_run_vm_power, &cli_vm_suspend },
	{ "vm-resume", "VM", NONE, P("vm", "uuid", "paused"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Resume the selected suspended VM(s); paused=true leaves them Paused.",
	  cli_check_vm_paused, cli_run_vm_power, &cli_vm_resume },
	{ "vm-simulate-guest", "VM", P("action"), P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Test hook: make the guest of the selected running VM(s) poweroff, reboot or crash "
	  "on its own; the VM then follows actions-after-shutdown/reboot/crash.",
	  NULL, cli_run_vm_power, &cli_vm_simulate_guest },
	{ "vm-vcpu-hotplug", "VM", P("new-vcpus"), P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Set the number of vCPUs of the selected running VM(s), up to VCPUs-max.",
	  cli_check_vm_vcpu_hotplug, cli_run_vm_power, &cli_vm_vcpu_hotplug },
	{ "vm-memory-target-set", "VM", P("target"), P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Set the memory of the selected running VM(s) through the balloon, e.g. target=512MiB.",
	  cli_check_vm_memory_target, cli_run_vm_power, &cli_vm_memory_target },
	{ "console", "VM", NONE, P("vm", "uuid"), CLI_CMD_SELECT | CLI_CMD_FILTERS, NULL, NOT_TEMPLATES,
	  "Attach to the text console of a running VM (Ctrl-] detaches). Without a terminal, "
	  "print the current boot's output and follow it until the VM stops.",
	  NULL, cli_run_console, NULL },
	PARAM_COMMANDS("vm", "VM", "a VM"),
	{ "vm-disk-add", "VM", P("disk-size"), P("vm", "uuid", "sr-uuid", "device", "name-label"), ONE_VM, NULL,
	  NOT_TEMPLATES,
	  "Add a new disk of disk-size (10GiB, 512MiB, bytes) to the VM, in sr-uuid or the pool's default SR, "
	  "at device (a position, or the first free one); a drive is added while the VM is halted (CD drives are IDE). Prints the disk's (VDI's) UUID.",
	  cli_check_param_values, cli_run_vm_disk_add, NULL, NULL },
	{ "vm-disk-list", "VM", NONE, P("vm", "uuid"), ONE_VM, NULL, NOT_TEMPLATES,
	  "List the VM's disks: each one's VBD and VDI (--minimal and --json: the VBDs).",
	  NULL, cli_run_vm_disk_list, NULL, NULL },
	{ "vm-disk-remove", "VM", P("device"), P("vm", "uuid"), ONE_VM, NULL, NOT_TEMPLATES,
	  "Remove the VM's disk at device and destroy it (its VDI too), unplugging it first if the VM runs.",
	  NULL, cli_run_vm_disk_remove, NULL, NULL },
	{ "vm-cd-add", "VM", NONE, P("vm", "uuid", "cd-name", "device"), ONE_VM, NULL, NOT_TEMPLATES,
	  "Add a CD drive to the VM at device (or the first free position) holding the disc cd-name "
	  "(an ISO's name-label or UUID), or empty without cd-name; while the VM is halted (CD drives are IDE).",
	  NULL, cli_run_vm_cd_add, NULL, NULL },
	{ "vm-cd-insert", "VM", P("cd-name"), P("vm", "uuid"), ONE_VM, NULL, NOT_TEMPLATES,
	  "Put the disc cd-name into the VM's empty CD drive; a running guest sees it at once.",
	  NULL, cli_run_vm_cd_insert, NULL, NULL },
	{ "vm-cd-eject", "VM", NONE, P("vm", "uuid"), ONE_VM, NULL, NOT_TEMPLATES,
	  "Take the disc out of the VM's CD drive; a running guest sees it at once.",
	  NULL, cli_run_vm_cd_eject, NULL, NULL },
	{ "vm-cd-remove", "VM", NONE, P("vm", "uuid", "cd-name", "device"), ONE_VM, NULL, NOT_TEMPLATES,
	  "Remove the VM's CD drive(s) holding cd-name, or the one at device.",
	  cli_check_vm_cd_remove, cli_run_vm_cd_remove, NULL, NULL },
	{ "vm-cd-list", "VM", NONE, P("vm", "uuid"), ONE_VM, NULL, NOT_TEMPLATES,
	  "List the VM's CD drives and their discs (--minimal and --json: the VBDs).",
	  NULL, cli_run_vm_cd_list, NULL, NULL },

	{ "vm-snapshot", "VM", P("new-name-label"), P("vm", "uuid"), ONE_VM, NULL, NULL,
	  "Snapshot the VM's disks, copy-on-write, also while it runs; prints the snapshot's UUID.",
	  NULL, cli_run_vm_snapshot, "VM.snapshot", NULL },
	{ "vm-checkpoint", "VM", P("new-name-label"), P("vm", "uuid"), ONE_VM, NULL, NULL,
	  "Snapshot a running VM's disks and memory; the VM runs on, and a revert resumes it from here. "
	  "Prints the checkpoint's UUID.",
	  NULL, cli_run_vm_snapshot, "VM.checkpoint", NULL },
	LIST_COMMAND("snapshot-list", "VM", "uuid,name-label,name-description,snapshot-of,snapshot-time",
		     "is-a-snapshot=true", "the snapshots (snapshot-of=VM-UUID: of one VM)"),
	PARAM_COMMANDS("snapshot", "VM", "a snapshot"),
	{ "snapshot-revert", "VM", P("snapshot-uuid"), NONE, 0, NULL, NULL,
	  "Take the snapshot's VM back to it: configuration, disks (the current ones are destroyed) and, "
	  "for a checkpoint, the running guest; otherwise the VM is halted.",
	  NULL, cli_run_snapshot_call, "VM.revert", NULL },
	{ "snapshot-destroy", "VM", NONE, P("snapshot-uuid", "uuid"), 0, NULL, NULL,
	  "Destroy the snapshot, its memory image and the disks nothing else uses.",
	  NULL, cli_run_snapshot_call, "VM.destroy", NULL },
	{ "snapshot-export-to-template", "VM", P("snapshot-uuid", "new-name-label"), NONE, 0, NULL, NULL,
	  "Make a template from the snapshot (its disks copied copy-on-write); prints the template's UUID.",
	  NULL, cli_run_snapshot_export_to_template, "VM.snapshot_export_to_template", NULL },

	LIST_COMMAND("template-list", "VM", "uuid,name-label,name-description", "is-a-template=true,is-a-snapshot=false",
		     "the templates (snapshots are templates too: snapshot-list)"),
	PARAM_COMMANDS("template", "VM", "a template"),
	{ "template-uninstall", "VM", P("template-uuid"), NONE, 0, NULL, NULL,
	  "Delete a template and the disks it owns; the built-in templates stay (VM_IS_TEMPLATE).",
	  NULL, cli_run_template_uninstall, NULL },
	{ "template-build", "VM", NONE, P("name-label", "sr-uuid", "image"), 0, NULL, NULL,
	  "Make the \"Debian 12 (ready to run)\" template (or name-label): build its disk image from Debian's "
	  "packages (debootstrap of bookworm, as root; cached after the first build) or take image=, import it "
	  "into sr-uuid or the pool's default SR and make a template booting it with xvm-boot. Prints its UUID.",
	  NULL, cli_run_template_build, NULL, NULL },
	LIST_COMMAND("host-list", "host", "uuid,name-label,name-description", NULL, "the hosts"),
	PARAM_COMMANDS("host", "host", "a host"),
	LIST_COMMAND("pool-list", "pool", "uuid,name-label,name-description,master", NULL, "the pools"),
	PARAM_COMMANDS("pool", "pool", "a pool"),
	LIST_COMMAND("sr-list", "SR", "uuid,name-label,name-description,type,content-type", NULL,
		     "the storage repositories"),
	PARAM_COMMANDS("sr", "SR", "a storage repository"),
	{ "sr-create", "SR", P("name-label", "type"),
	  P("name-description", "content-type", "shared", "host-uuid"), 0, NULL, NULL,
	  "Make a storage repository of type (file: device-config:location=DIR), with its PBD on this host, "
	  "plugged; prints its UUID.",
	  cli_check_param_values, cli_run_sr_create, NULL, P("device-config", "sm-config") },
	{ "sr-introduce", "SR", P("uuid", "name-label", "type"), P("name-description", "content-type", "shared"), 0,
	  NULL, NULL,
	  "Record existing storage as an SR of that UUID, without a PBD (add one with pbd-create); prints its UUID.",
	  cli_check_param_values, cli_run_sr_introduce, NULL, P("sm-config") },
	ON_UUID("sr-forget", "SR", "SR.forget", "Forget the SR's records (its VDIs and PBDs), keeping the storage."),
	ON_UUID("sr-destroy", "SR", "SR.destroy", "Destroy the SR's disks and storage, then forget it."),
	ON_UUID("sr-scan", "SR", "SR.scan", "Bring the SR's VDIs in line with its storage: new images appear, "
		"vanished ones are marked missing."),

	{ "pbd-create", "PBD", P("host-uuid", "sr-uuid"), NONE, 0, NULL, NULL,
	  "Record how a host reaches an SR (device-config:KEY=VALUE), unplugged; prints its UUID.",
	  NULL, cli_run_pbd_create, NULL, P("device-config") },
	ON_UUID("pbd-plug", "PBD", "PBD.plug", "Attach the SR on the PBD's host and scan it."),
	ON_UUID("pbd-unplug", "PBD", "PBD.unplug", "Detach the SR from the PBD's host."),
	ON_UUID("pbd-destroy", "PBD", "PBD.destroy", "Delete an unplugged PBD."),
	LIST_COMMAND("pbd-list", "PBD", "uuid,host,SR,device-config,currently-attached", NULL,
		     "the PBDs (how hosts reach SRs)"),
	PARAM_COMMANDS("pbd", "PBD", "a PBD"),

	{ "vdi-create", "VDI", P("sr-uuid", "name-label", "virtual-size"),
	  P("name-description", "type", "sharable"), 0, NULL, NULL,
	  "Make an empty disk of virtual-size (10GiB, 512MiB, bytes) in the SR; sm-config:type=raw for a raw "
	  "image (qcow2 by default). Prints its UUID.",
	  cli_check_param_values, cli_run_vdi_create, NULL, P("sm-config") },
	ON_UUID("vdi-destroy", "VDI", "VDI.destroy", "Destroy a disk no running VM uses, and its VBDs."),
	{ "vdi-resize", "VDI", P("uuid", "disk-size"), NONE, 0, NULL, NULL,
	  "Grow the disk to disk-size (10GiB, bytes), also while a running VM uses it.",
	  cli_check_param_values, cli_run_vdi_resize, NULL, NULL },
	{ "vdi-clone", "VDI", P("uuid"), P("new-name-label", "new-name-description"), 0, NULL, NULL,
	  "Make a copy-on-write copy of the disk (instant, whatever its size); prints the copy's UUID.",
	  NULL, cli_run_vdi_clone, "VDI.clone", NULL },
	{ "vdi-snapshot", "VDI", P("uuid"), NONE, 0, NULL, NULL,
	  "Make a copy-on-write snapshot of the disk; prints the snapshot's UUID.",
	  NULL, cli_run_vdi_clone, "VDI.snapshot", NULL },
	{ "vdi-copy", "VDI", P("uuid", "sr-uuid"), NONE, 0, NULL, NULL,
	  "Make a full, independent copy of the disk in the SR; prints the copy's UUID.",
	  NULL, cli_run_vdi_copy, NULL, NULL },
	{ "vdi-import", "VDI", P("filename"), P("uuid", "sr-uuid", "virtual-size", "name-label", "format"), 0, NULL,
	  NULL,
	  "Write an image file (format raw, qcow2, vhd or vmdk; raw by default) into the disk uuid, or into a new "
	  "disk in sr-uuid, as big as the image or virtual-size, whose UUID it prints.",
	  cli_check_vdi_import, cli_run_vdi_import, NULL, NULL },
	{ "vdi-export", "VDI", P("uuid", "filename"), P("format"), 0, NULL, NULL,
	  "Write the disk to an image file (format raw, qcow2, vhd or vmdk; raw by default).",
	  NULL, cli_run_vdi_export, NULL, NULL },
	LIST_COMMAND("vdi-list", "VDI", "uuid,name-label,name-description,SR,virtual-size,sharable,read-only", NULL,
		     "the virtual disks"),
	PARAM_COMMANDS("vdi", "VDI", "a virtual disk"),
	{ "cd-list", "VDI", NONE, P("params"), CLI_CMD_FILTERS, "uuid,name-label", NULL,
	  "List the CD images (the VDIs of the ISO SRs), showing params=a,b (or all).",
	  cli_check_list, cli_run_cd_list, NULL, NULL },

	{ "vbd-create", "VBD", P("vm-uuid"), P("vdi-uuid", "device", "type", "mode", "bootable"), 0, NULL, NULL,
	  "Make a drive of the VM at device (a position, or autodetect): type Disk or CD, mode RW or RO; "
	  "a CD drive without vdi-uuid is empty. Prints its UUID.",
	  cli_check_param_values, cli_run_vbd_create, NULL, NULL },
	ON_UUID("vbd-destroy", "VBD", "VBD.destroy", "Delete a drive that is not attached to a running VM."),
	ON_UUID("vbd-plug", "VBD", "VBD.plug", "Hot-plug the drive into its running VM."),
	ON_UUID("vbd-unplug", "VBD", "VBD.unplug", "Hot-unplug the drive from its running VM."),
	ON_UUID("vbd-eject", "VBD", "VBD.eject", "Take the disc out of a CD drive."),
	{ "vbd-insert", "VBD", P("uuid", "vdi-uuid"), NONE, 0, NULL, NULL, "Put a disc into an empty CD drive.",
	  NULL, cli_run_vbd_insert, NULL, NULL },
	LIST_COMMAND("vbd-list", "VBD", "uuid,VM,VDI,userdevice,device,type,empty", NULL,
		     "the drives of the VMs (VBDs)"),
	PARAM_COMMANDS("vbd", "VBD", "a drive (VBD)"),

	{ "vtpm-create", "VTPM", P("vm-uuid"), P("is-unique"), 0, NULL, NULL,
	  "Give the halted VM a TPM 2.0 (at most one; is-unique=true: clones of the VM get a new TPM, not a copy "
	  "of its contents). Prints its UUID.",
	  cli_check_param_values, cli_run_vtpm_create, NULL, NULL },
	ON_UUID("vtpm-destroy", "VTPM", "VTPM.destroy", "Delete the vTPM of a halted VM, and the TPM's contents."),
	LIST_COMMAND("vtpm-list", "VTPM", "uuid,VM,is-unique,is-protected", NULL, "the virtual TPMs"),
	PARAM_COMMANDS("vtpm", "VTPM", "a virtual TPM"),
	{ "network-create", "network", P("name-label"), P("name-description", "MTU", "bridge"), 0, NULL, NULL,
	  "Make a network: on bridge, an existing host bridge xvm uses and never changes; without, a private "
	  "bridge xvm makes when a VM first needs it and removes after the last. Prints its UUID.",
	  cli_check_param_values, cli_run_network_create, NULL, P("other-config") },
	ON_UUID("network-destroy", "network", "network.destroy", "Delete a network that no VIF is on."),
	LIST_COMMAND("network-list", "network", "uuid,name-label,name-description,bridge", NULL, "the networks"),
	PARAM_COMMANDS("network", "network", "a network"),
	{ "vif-create", "VIF", P("vm-uuid", "network-uuid", "device"), P("mac"), 0, NULL, NULL,
	  "Make a network interface of the VM at device (0..7) on the network, with mac (a random, locally "
	  "administered one without); vif-plug puts it into a running VM. Prints its UUID.",
	  cli_check_param_values, cli_run_vif_create, NULL, P("other-config") },
	ON_UUID("vif-destroy", "VIF", "VIF.destroy", "Delete an interface that is not attached to a running VM."),
	ON_UUID("vif-plug", "VIF", "VIF.plug", "Hot-plug the interface into its running VM."),
	ON_UUID("vif-unplug", "VIF", "VIF.unplug", "Hot-unplug the interface from its running VM."),
	LIST_COMMAND("vif-list", "VIF", "uuid,vm-uuid,device,network-uuid,MAC", NULL, "the network interfaces (VIFs)"),
	PARAM_COMMANDS("vif", "VIF", "a network interface (VIF)"),
	{ "vm-vif-list", "VM", NONE, P("vm", "uuid"), ONE_VM, NULL, NOT_TEMPLATES,
	  "List the VM's network interfaces (VIFs).",
	  NULL, cli_run_vm_vif_list, NULL, NULL },
	LIST_COMMAND("console-list", "console", "uuid,VM,protocol,location", NULL, "the consoles of running VMs"),
	PARAM_COMMANDS("console", "console", "a console"),
	LIST_COMMAND("task-list", "task", "uuid,name-label,name-description,status,progress", NULL,
		     "the tasks"),
	PARAM_COMMANDS("task", "task", "a task"),

	{ "token-create", NULL, P("user"), P("name-label"), 0, NULL, NULL,
	  "Create an API token for USER, to pass as the password when logging in to xvmd; "
	  "prints the secret, which is shown only once.",
	  NULL, cli_run_token_create, NULL },
	{ "token-list", NULL, NONE, NONE, 0, NULL, NULL, "List the API tokens (not their secrets).",
	  NULL, cli_run_token_list, NULL },
	{ "token-destroy", NULL, P("uuid"), NONE, 0, NULL, NULL, "Revoke an API token.",
	  NULL, cli_run_token_destroy, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL }
};

const struct cli_command *cli_command_lookup(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static bool in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

bool cli_command_has_param(const struct cli_command *cmd, const char *name)
{
	return in_list(cmd->reqd, name) || in_list(cmd->optional, name);
}

bool cli_command_has_map(const struct cli_command *cmd, const char *name)
{
	return in_list(cmd->maps, name);
}

const char *cli_command_selector(const struct cli_command *cmd)
{
	return cmd->optional[0];
}
