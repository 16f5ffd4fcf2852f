/*
 * riad_elf_abi.h: the ELF notes a Riad (or Solo5) kernel carries.
 *
 * Every kernel has two notes, owner "Solo5":
 *  - ABI1 in section .note.solo5.abi: which target and ABI version it was
 *    built for, so a tender refuses a kernel built for another target;
 *  - MFT1 in section .note.solo5.manifest: the devices it needs (see
 *    riad_mft_abi.h), so a tender refuses to boot it with a device missing.
 *
 * Layouts match Solo5's include/elf_abi.h and include/mft_abi.h.
 */
#ifndef RIAD_ELF_ABI_H
#define RIAD_ELF_ABI_H

#include <stdint.h>

enum riad_abi_target {
    RIAD_ABI_TARGET_HVT = 1,
    RIAD_ABI_TARGET_SPT = 2,
    RIAD_ABI_TARGET_VIRTIO = 3
};

#define RIAD_NOTE_OWNER "Solo5"      /* n_namesz is 6, padded to 8 */
#define RIAD_NOTE_TYPE_ABI1 0x31494241 /* "ABI1" */
#define RIAD_NOTE_TYPE_MFT1 0x3154464d /* "MFT1" */

/* The header every Riad/Solo5 note starts with (an Elf64_Nhdr + its name). */
struct riad_note_header {
    uint32_t n_namesz;
    uint32_t n_descsz;
    uint32_t n_type;
    char n_name[8];
};

/* Descriptor of the ABI1 note. */
struct riad_abi1_info {
    uint32_t abi_target;  /* riad_abi_target */
    uint32_t abi_version; /* RIAD_HVT_ABI_VERSION for hvt */
    uint32_t reserved0;
    uint32_t reserved1;
};

struct riad_abi1_note {
    struct riad_note_header h;
    struct riad_abi1_info i;
};

/*
 * Riad's own note, owner "Riad" (n_namesz 5, padded to 8), type FEAT, in
 * section .note.riad.features: the host_features bits of Riad's own
 * (RIAD_HVT_FEATURE_NET_OFFLOAD) that the kernel understands. A tender
 * offers such a bit only to a kernel that asks, because the guest cannot
 * answer through the read-only boot info. Upstream tenders ignore the note.
 */
#define RIAD_NOTE_OWNER_RIAD "Riad"
#define RIAD_NOTE_TYPE_FEAT 0x54414546 /* "FEAT" */

struct riad_feat_note {
    struct riad_note_header h;
    uint32_t features;
    uint32_t reserved;
};

#endif /* RIAD_ELF_ABI_H */
