/*
 * riad_mft_abi.h: the application manifest (Solo5 MFT version 1).
 *
 * The manifest lists the devices a kernel needs. It is built into the
 * kernel's .note.solo5.manifest note by `riad configure` from the devices the
 * unikernel declares; the tender validates it as untrusted data, attaches a
 * host resource to every entry, refuses to run if any entry is left
 * unattached, and copies the attached manifest into guest low memory where
 * the kernel finds its devices by name. A device's handle is its index.
 *
 * Layout (x86_64): struct riad_mft is 8 bytes followed by `entries`
 * struct riad_mft_entry of 104 bytes each. Entry 0 is always of type
 * RIAD_MFT_RESERVED_FIRST with an empty name.
 */
#ifndef RIAD_MFT_ABI_H
#define RIAD_MFT_ABI_H

#include <stdbool.h>
#include <stdint.h>

#define RIAD_MFT_VERSION 1

enum riad_mft_type {
    RIAD_MFT_DEV_BLOCK_BASIC = 1,
    RIAD_MFT_DEV_NET_BASIC = 2,
    RIAD_MFT_RESERVED_FIRST = (1U << 30)
};

struct riad_mft_block_basic {
    uint64_t capacity;   /* bytes */
    uint16_t block_size; /* bytes */
};

struct riad_mft_net_basic {
    uint8_t mac[6];
    uint16_t mtu;
};

#define RIAD_MFT_NAME_SIZE 68 /* including the NUL */
#define RIAD_MFT_NAME_MAX 67

struct riad_mft_entry {
    char name[RIAD_MFT_NAME_SIZE];
    uint32_t type; /* riad_mft_type */
    union {
        struct riad_mft_block_basic block_basic;
        struct riad_mft_net_basic net_basic;
    } u;
    union {
        int32_t hostfd; /* tender-private */
        uint64_t data;
    } b;
    bool attached; /* set by the tender */
};

/* At most 64 entries, one of them the reserved first: 63 user devices. */
#define RIAD_MFT_MAX_ENTRIES 64

struct riad_mft {
    uint32_t version;
    uint32_t entries;
    /* followed by `entries` struct riad_mft_entry */
};

/*
 * The MFT1 note: header, 4 bytes of padding so the manifest is 8-aligned,
 * then the manifest. n_descsz counts the padding, so the manifest's size is
 * n_descsz - RIAD_MFT1_NOTE_PAD.
 */
#define RIAD_MFT1_NOTE_PAD 4

#endif /* RIAD_MFT_ABI_H */
