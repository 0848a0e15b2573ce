/* fw_cfg over its legacy I/O ports, present on QEMU's pc and q35 machines:
 * a 16-bit write to 0x510 selects an item and rewinds it, then each byte read
 * from 0x511 returns the item's next byte. Nothing answers on a machine that
 * is not QEMU, so the signature is checked before anything is trusted. */
#include "fwcfg.h"
#include "io.h"

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511

void fwcfg_read(unsigned key, void *buf, unsigned len)
{
	uint8_t *p = buf;

	outw(FW_CFG_PORT_SEL, (uint16_t)key);
	while (len--)
		*p++ = inb(FW_CFG_PORT_DATA);
}

bool fwcfg_present(void)
{
	char sig[4];

	fwcfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}
