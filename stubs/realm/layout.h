/* The realm IPA layout shared by the realm payloads and the host (stubs/host/host.c documents
 * it in full). Included by C and by assembly. */
#ifndef REALM_LAYOUT_H
#define REALM_LAYOUT_H

#define REALM_IPA_BASE      0x80000000      /* the image's first byte; REC 0 starts here */
#define REALM_RAM_SIZE      0x00200000      /* 2 MB of RIPAS RAM from the base (one L3 RTT) */
#define REALM_CONSOLE_OFF   0x01000000      /* console UART at this offset in the unprotected
                                               half: IPA = 2^(ipa_width-1) + this */
#define REALM_MAGIC_LO      0x4d4c5250      /* "PRLM" */
#define REALM_MAGIC_HI      0x3130474d      /* "MG01" */
#define REALM_MAX_RECS      4

#endif
