/* QEMU's firmware configuration interface (fw_cfg): how the guest learns the
 * vCPU count and RAM size QEMU was started with. */
#ifndef XVM_GUEST_FWCFG_H
#define XVM_GUEST_FWCFG_H

#include <stdbool.h>

#define FW_CFG_SIGNATURE 0x0000  /* "QEMU" */
#define FW_CFG_UUID      0x0002  /* 16 bytes, the -uuid value */
#define FW_CFG_RAM_SIZE  0x0003  /* 64-bit little-endian, bytes */
#define FW_CFG_NB_CPUS   0x0005  /* 16-bit little-endian */

bool fwcfg_present(void);
/* Reads the first len bytes of item key into buf (x86 is little-endian, as
 * fw_cfg's integers are, so an integer item reads straight into a variable). */
void fwcfg_read(unsigned key, void *buf, unsigned len);

#endif
