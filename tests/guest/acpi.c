/* Just enough ACPI to be switched off like a PC, without an AML interpreter:
 *   RSDP ("RSD PTR ", found by scanning the BIOS areas)
 *     -> RSDT (32-bit pointers) or XSDT (64-bit pointers)
 *       -> FADT ("FACP"): the I/O ports of the PM1 event and control blocks
 *         -> DSDT: the \_S5 package, whose first value is the SLP_TYP to
 *            write into PM1a_CNT to power off.
 * Paging is off, so every table's physical address is a pointer. QEMU has
 * no PM1b blocks, and SeaBIOS places every table below 4 GiB. */
#include "acpi.h"
#include "io.h"

#include <stddef.h>

struct rsdp {
	char signature[8];              /* "RSD PTR " */
	uint8_t checksum;               /* over the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;               /* 0: ACPI 1.0, RSDT only; >= 2: XSDT too */
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
} __attribute__((packed));

struct sdt {                            /* the header every table starts with */
	char signature[4];
	uint32_t length;                /* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum;               /* all bytes of the table sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

struct fadt {                           /* the fields we use, at their ACPI 1.0 offsets */
	struct sdt h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;          /* PM1a_STS (first half) then PM1a_EN */
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;          /* PM1a_CNT: SLP_TYP and SLP_EN */
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;            /* bytes of PM1a_STS + PM1a_EN */
} __attribute__((packed));

#define PWRBTN        (1u << 8)         /* PWRBTN_STS in PM1_STS, PWRBTN_EN in PM1_EN */
#define SLP_TYP_SHIFT 10                /* PM1_CNT bits 12:10 */
#define SLP_EN        (1u << 13)

static uint16_t pm1a_sts, pm1a_en, pm1a_cnt;
static uint8_t s5_slp_typ;

static bool checksum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum == 0;
}

static const struct sdt *table(uint32_t addr, const char sig[4])
{
	const struct sdt *t = (const struct sdt *)(uintptr_t)addr;

	if (!addr || t->signature[0] != sig[0] || t->signature[1] != sig[1] ||
	    t->signature[2] != sig[2] || t->signature[3] != sig[3] ||
	    !checksum_ok(t, t->length))
		return NULL;
	return t;
}

/* The RSDP sits on a 16-byte boundary in the first KiB of the EBDA or in
 * the BIOS ROM area 0xE0000-0xFFFFF (ACPI spec 5.2.5.1). */
static const struct rsdp *rsdp_scan(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end; a += 16) {
		const struct rsdp *r = (const struct rsdp *)a;
		const char *s = r->signature;

		if (s[0] == 'R' && s[1] == 'S' && s[2] == 'D' && s[3] == ' ' && s[4] == 'P' &&
		    s[5] == 'T' && s[6] == 'R' && s[7] == ' ' && checksum_ok(r, 20))
			return r;
	}
	return NULL;
}

static const struct fadt *fadt_find(void)
{
	uintptr_t ebda = (uintptr_t)*(const uint16_t *)0x40E << 4;  /* BDA word: EBDA segment */
	const struct rsdp *r = rsdp_scan(ebda, ebda + 1024);

	if (!r)
		r = rsdp_scan(0xE0000, 0x100000);
	if (!r)
		return NULL;

	/* The XSDT supersedes the RSDT when there is one (revision >= 2). */
	bool x = r->revision >= 2 && r->xsdt && !(r->xsdt >> 32);
	const struct sdt *root = x ? table((uint32_t)r->xsdt, "XSDT") : table(r->rsdt, "RSDT");
	if (!root)
		return NULL;
	const uint32_t *entry = (const uint32_t *)(root + 1);
	unsigned step = x ? 2 : 1;          /* XSDT entries: 64-bit, low half first */
	unsigned n = (root->length - sizeof(*root)) / 4;
	for (unsigned i = 0; i + step <= n; i += step) {
		if (x && entry[i + 1])
			continue;           /* above 4 GiB: unreachable without paging */
		const struct sdt *t = table(entry[i], "FACP");
		if (t)
			return (const struct fadt *)t;
	}
	return NULL;
}

/* SLP_TYPa for S5: the first element of the DSDT's package
 *   Name (_S5, Package () { SLP_TYPa, SLP_TYPb, ... })
 * found by matching its AML bytes: NameOp 0x08 ['\'] "_S5_" PackageOp 0x12
 * PkgLength NumElements, then the value as ZeroOp 0x00, OneOp 0x01 or
 * BytePrefix 0x0A nn. Without a match (no DSDT, _S5 built by a method...) it
 * falls back to 0, the value QEMU's pc and q35 DSDTs both declare. */
static uint8_t s5_sleep_type(uint32_t dsdt_addr)
{
	const struct sdt *dsdt = table(dsdt_addr, "DSDT");
	if (!dsdt)
		return 0;
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 10 <= end; p++) {
		if (p[0] != '_' || p[1] != 'S' || p[2] != '5' || p[3] != '_' || p[4] != 0x12)
			continue;
		if (p[-1] != 0x08 && !(p[-1] == '\\' && p[-2] == 0x08))
			continue;
		const uint8_t *q = p + 5;
		q += 1 + (*q >> 6);         /* PkgLength: bits 7:6 count the extra bytes */
		q += 1;                     /* NumElements */
		if (*q == 0x00 || *q == 0x01)
			return *q;
		if (*q == 0x0A)
			return q[1] & 7;
		return 0;
	}
	return 0;
}

bool acpi_init(void)
{
	const struct fadt *f = fadt_find();
	if (!f || !f->pm1a_evt_blk || !f->pm1a_cnt_blk)
		return false;
	pm1a_sts = (uint16_t)f->pm1a_evt_blk;
	pm1a_en = (uint16_t)(f->pm1a_evt_blk + f->pm1_evt_len / 2);
	pm1a_cnt = (uint16_t)f->pm1a_cnt_blk;
	s5_slp_typ = s5_sleep_type(f->dsdt);

	/* QEMU latches PWRBTN_STS on system_powerdown only while PWRBTN_EN is
	 * set; ACPI mode (SCI_EN) is not needed, and with interrupts off the SCI
	 * it may raise goes nowhere. Status bits are write-1-to-clear. */
	outw(pm1a_sts, PWRBTN);
	outw(pm1a_en, inw(pm1a_en) | PWRBTN);
	return true;
}

bool acpi_power_button_pressed(void)
{
	if (!pm1a_sts || !(inw(pm1a_sts) & PWRBTN))
		return false;
	outw(pm1a_sts, PWRBTN);
	return true;
}

void acpi_poweroff(void)
{
	if (!pm1a_cnt)
		return;
	uint16_t cnt = inw(pm1a_cnt) & ~(7u << SLP_TYP_SHIFT);
	outw(pm1a_cnt, cnt | (uint16_t)(s5_slp_typ << SLP_TYP_SHIFT) | SLP_EN);
}
