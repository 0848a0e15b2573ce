/* The test guest: announces itself, then ticks until told to stop.
 *
 * Serial protocol (COM1), one line each, which the tests match exactly:
 *   XVM-GUEST CMDLINE <multiboot command line, empty for the disk boot>
 *   XVM-GUEST READY vcpus=<N> memory=<M>MiB boot=<16 hex digits>
 *   XVM-GUEST TICK boot=<same id> n=<1, 2, 3, ...>     about every 100 ms
 *   XVM-GUEST POWEROFF | POWEROFF-FAILED | PANIC | REBOOT
 * The boot id is new on every boot and survives save/restore with the RAM,
 * so a test tells a resumed run (same id, n still growing) from a new boot.
 *
 * Command-line words (after the first, which is the image's path, as QEMU's
 * multiboot loader and GRUB both pass it) are test hooks, acted on after
 * READY: "panic", "reboot", "poweroff". */
#include "acpi.h"
#include "fwcfg.h"
#include "io.h"
#include "reset.h"
#include "serial.h"
#include "timer.h"

#include <stdbool.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002  /* in EAX when a multiboot loader started us */
#define MULTIBOOT_INFO_CMDLINE     (1u << 2)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;                      /* physical address of a C string */
};

void guest_main(uint32_t magic, const struct multiboot_info *mbi);

static bool has_hook(const char *cmdline, const char *word)
{
	const char *p = cmdline;

	while (*p && *p != ' ')                /* skip the image path */
		p++;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *w = word;
		while (*w && *p == *w)
			p++, w++;
		if (!*w && (*p == ' ' || !*p))
			return true;
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

/* splitmix64's finaliser: every input bit flips about half the output bits. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static __attribute__((noreturn)) void power_off(void)
{
	serial_puts("XVM-GUEST POWEROFF\n");
	acpi_poweroff();
	for (int i = 0; i < 100; i++)          /* 1 s to obey */
		timer_wait_10ms();
	serial_puts("XVM-GUEST POWEROFF-FAILED\n");
	halt_forever();
}

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	/* The TSC at boot varies with host timing even under TCG, whose TSC
	 * follows the host's clock; fw_cfg adds what QEMU was told (-uuid). */
	uint64_t boot_id = rdtsc();

	serial_init();
	const char *cmdline = "";
	if (magic == MULTIBOOT_BOOTLOADER_MAGIC && (mbi->flags & MULTIBOOT_INFO_CMDLINE))
		cmdline = (const char *)(uintptr_t)mbi->cmdline;

	bool fw = fwcfg_present();
	uint16_t cpus = 0;
	uint64_t ram = 0, uuid[2] = { 0, 0 };
	if (fw) {
		fwcfg_read(FW_CFG_NB_CPUS, &cpus, sizeof(cpus));
		fwcfg_read(FW_CFG_RAM_SIZE, &ram, sizeof(ram));
		fwcfg_read(FW_CFG_UUID, uuid, sizeof(uuid));
	}
	boot_id = mix64(boot_id ^ ram);
	boot_id = mix64(boot_id ^ cpus);
	boot_id = mix64(boot_id ^ uuid[0]);
	boot_id = mix64(boot_id ^ uuid[1]);
	boot_id = mix64(boot_id ^ rdtsc());

	acpi_init();

	serial_puts("XVM-GUEST CMDLINE ");
	serial_puts(cmdline);
	serial_puts("\nXVM-GUEST READY vcpus=");
	if (fw) {
		serial_put_dec(cpus);
		serial_puts(" memory=");
		serial_put_dec((uint32_t)(ram >> 20));
		serial_puts("MiB");
	} else {
		serial_puts("? memory=?");
	}
	serial_puts(" boot=");
	serial_put_hex64(boot_id);
	serial_puts("\n");

	if (has_hook(cmdline, "panic")) {
		serial_puts("XVM-GUEST PANIC\n");
		reset_panic();
	}
	if (has_hook(cmdline, "reboot")) {
		serial_puts("XVM-GUEST REBOOT\n");
		reset_reboot();
	}
	if (has_hook(cmdline, "poweroff"))
		power_off();

	for (uint32_t n = 1;; n++) {
		for (int i = 0; i < 10; i++) {
			timer_wait_10ms();
			if (acpi_power_button_pressed())
				power_off();
		}
		serial_puts("XVM-GUEST TICK boot=");
		serial_put_hex64(boot_id);
		serial_puts(" n=");
		serial_put_dec(n);
		serial_puts("\n");
	}
}
