/*
 * Compile-time checks that our layouts equal Solo5's on x86_64 (sizes and
 * offsets read from Solo5's headers). A mismatch is a build error.
 */
#include <stddef.h>
#include "riad_elf_abi.h"
#include "riad_hvt_abi.h"
#include "riad_hvt_ring.h"
#include "riad_mft_abi.h"

_Static_assert(sizeof(struct riad_hvt_boot_info) == 56, "boot info size");
_Static_assert(offsetof(struct riad_hvt_boot_info, host_features) == 40, "boot info features");
_Static_assert(sizeof(struct riad_hvt_hc_block_read) == 40, "block read size");
_Static_assert(offsetof(struct riad_hvt_hc_block_read, ret) == 32, "block read ret");
_Static_assert(offsetof(struct riad_hvt_hc_net_read, ret) == 24, "net read ret");
_Static_assert(offsetof(struct riad_hvt_hc_poll, ret) == 16, "poll ret");
_Static_assert(offsetof(struct riad_hvt_hc_halt, exit_status) == 8, "halt status");
_Static_assert(sizeof(struct riad_mft_entry) == 104, "manifest entry size");
_Static_assert(offsetof(struct riad_mft_entry, type) == 68, "manifest entry type");
_Static_assert(offsetof(struct riad_mft_entry, u) == 72, "manifest entry u");
_Static_assert(offsetof(struct riad_mft_entry, b) == 88, "manifest entry b");
_Static_assert(offsetof(struct riad_mft_entry, attached) == 96, "manifest entry attached");
_Static_assert(sizeof(struct riad_mft) == 8, "manifest header");
_Static_assert(sizeof(struct riad_note_header) == 20, "note header");
_Static_assert(sizeof(struct riad_abi1_note) == 36, "abi1 note");

/* The net ring (Solo5's include/hvt_ring.h). */
_Static_assert(offsetof(struct riad_hvt_boot_info, net_ring) == 48, "boot info net_ring");
_Static_assert(sizeof(struct riad_hvt_ring_entry) == 32, "ring entry size");
_Static_assert(offsetof(struct riad_hvt_ring_entry, data) == 8, "ring entry data");
_Static_assert(offsetof(struct riad_hvt_ring_entry, len) == 16, "ring entry len");
_Static_assert(offsetof(struct riad_hvt_ring_entry, id) == 20, "ring entry id");
_Static_assert(sizeof(struct riad_hvt_ring_commit) == 16, "ring commit size");
_Static_assert(offsetof(struct riad_hvt_ring_commit, len) == 8, "ring commit len");
_Static_assert(offsetof(struct riad_hvt_ring, com_head) == 4, "ring com_head");
_Static_assert(offsetof(struct riad_hvt_ring, ent_head) == 64, "ring ent_head");
_Static_assert(offsetof(struct riad_hvt_ring, com_tail) == 68, "ring com_tail");
_Static_assert(offsetof(struct riad_hvt_ring, needs_kick) == 72, "ring needs_kick");
_Static_assert(offsetof(struct riad_hvt_ring, entries) == 128, "ring entries");
_Static_assert(offsetof(struct riad_hvt_ring, commits) == 128 + 32 * 1024, "ring commits");
_Static_assert(sizeof(struct riad_hvt_ring) == 128 + 48 * 1024, "ring size");
_Static_assert(sizeof(struct riad_virtio_net_hdr) == 12, "virtio-net header (v1, with num_buffers)");
_Static_assert(sizeof(struct riad_feat_note) == 28, "FEAT note");
_Static_assert(sizeof(struct riad_hvt_tender_stats) == (12 + RIAD_HVT_HYPERCALL_MAX) * 8, "tender stats");
