/*
 * net.c: network devices, through the tender's shared net ring when it
 * offers one (riad_hvt_ring.h), through the NET_* hypercalls otherwise.
 *
 * With the ring a frame costs no VM exit: the kernel writes entries in
 * guest memory and the tender's I/O thread, which polls them, does the
 * host I/O. The kernel kicks (a port write the tender's KVM turns into an
 * eventfd signal; still a trap to ring 0 here) only when that thread has
 * said it is going to sleep.
 *
 * Transmit: frames are built in place in a transmit arena, a circular
 * byte buffer from which each entry takes a contiguous piece; a piece is
 * free again once the tender's ent_head has passed its entry. Nothing is
 * copied on the kernel's side.
 *
 * A lone frame while the tender's I/O thread sleeps goes by hypercall
 * instead (by_hypercall), so that an idle kernel answers as fast as
 * without the ring.
 *
 * Receive: reads are posted in batches, each into a buffer of the
 * device's receive queue, with one kick at most; the tender answers them
 * in order, a frame or "nothing waiting" each, and the queue then lends
 * the frames one by one. The batch grows while every read finds a frame
 * and shrinks to what the last one found, so an idle device costs one
 * read, a busy one a kick per 32 frames at most.
 */
#include <stdbool.h>

#include "libc.h"
#include "riad_elf_abi.h"
#include "riad_hvt_ring.h"
#include "runtime.h"

/*
 * Riad's FEAT note: this runtime understands NET_OFFLOAD (frames with a
 * virtio-net header, segments of up to 64 KiB) and reads TENDER_STATS, so
 * riad-hvt may offer them.
 */
__attribute__((section(".note.riad.features"), aligned(4), used))
const struct riad_feat_note riad_feat_note = {
    .h = {.n_namesz = 5, .n_descsz = 8, .n_type = RIAD_NOTE_TYPE_FEAT, .n_name = RIAD_NOTE_OWNER_RIAD},
    .features = RIAD_HVT_FEATURE_NET_OFFLOAD | RIAD_HVT_FEATURE_TENDER_STATS,
};

const struct riad_hvt_tender_stats *riad_hvt_tender_stats(void)
{
    const struct riad_hvt_boot_info *boot = riad_hvt_get_boot_info();
    if (boot == NULL || (boot->host_features & RIAD_HVT_FEATURE_TENDER_STATS) == 0)
        return NULL;
    return (const struct riad_hvt_tender_stats *)(uintptr_t)riad_hvt_tender_stats_address(boot->cmdline);
}

#define HANDLES 64
#define RECEIVE_BATCH 32
#define ALIGNMENT 64ULL

static struct riad_hvt_ring *ring;
static uint32_t next_id;
static bool offload;

/* The transmit arena: bytes [consumed, produced) are in flight. */
static uint8_t *arena;
static uint64_t arena_size, produced, consumed;
/* produced after each entry, by entry slot: consumed moves to it once
 * the tender has taken the entry. */
static uint64_t entry_end[RIAD_HVT_RING_SIZE];
/* The entries whose arena space is already reclaimed: up to this one. */
static uint32_t reclaimed;

/* Without a ring: the one transmit buffer. */
static uint8_t *single_buffer;
static size_t single_capacity;

struct receive_queue {
    uint8_t *buffers; /* `buffers` buffers of `capacity` bytes */
    size_t capacity;
    unsigned buffers_count;
    uint32_t lengths[RECEIVE_BATCH]; /* 0: that read found nothing */
    unsigned count, next, batch;
};
static struct receive_queue *queues[HANDLES];
static unsigned queues_in_use;

/*
 * While the tender's I/O thread sleeps and nothing waits in the ring, a
 * lone frame goes faster by hypercall than by kicking the thread and
 * waiting for it to wake. Past a few such hypercalls between two waits of
 * the kernel, traffic is a stream, and waking the thread pays.
 */
#define HYPERCALLS_BEFORE_WAKING 4
static unsigned hypercalls_since_wait;

static bool by_hypercall(void)
{
    if (ring == NULL)
        return true;
    if (hypercalls_since_wait >= HYPERCALLS_BEFORE_WAKING || !ring->needs_kick ||
        ring->ent_head != ring->ent_tail)
        return false;
    hypercalls_since_wait++;
    return true;
}

void riad_hvt_net_waited(void) { hypercalls_since_wait = 0; }

static uint64_t align_up(uint64_t value) { return (value + ALIGNMENT - 1) & ~(ALIGNMENT - 1); }

void riad_hvt_net_init(const struct riad_hvt_boot_info *boot_info)
{
    offload = (boot_info->host_features & RIAD_HVT_FEATURE_NET_OFFLOAD) != 0;
    if ((boot_info->host_features & RIAD_HVT_FEATURE_RING_IO) == 0 || boot_info->net_ring == 0)
        return;
    ring = (struct riad_hvt_ring *)(uintptr_t)boot_info->net_ring;
    /* The tender started it zeroed; a kernel that restarts in the same
     * guest is not a thing, so the indices are ours from 0. */
    next_id = 0;
}

int riad_hvt_net_offload(void) { return offload; }

static uint64_t heap_size(void)
{
    struct riad_heap_stats stats;
    riad_hvt_heap_stats(&stats);
    return stats.heap_size;
}

/* After ent_tail moved: kick if the I/O thread said it is going to sleep.
 * The full barrier orders our store of ent_tail before our load of
 * needs_kick, as the I/O thread orders its store of needs_kick before its
 * last look at ent_tail. */
static void publish(uint32_t tail)
{
    riad_hvt_ring_compiler_barrier();
    ring->ent_tail = tail;
    riad_hvt_ring_full_barrier();
    /* The kick is a write to the kick port, made from ring 0 as a
     * hypercall's is (the port is the hypercall base + 0x100). */
    if (ring->needs_kick)
        riad_hvt_hypercall(RIAD_HVT_RING_KICK_PIO - RIAD_HVT_HYPERCALL_PIO_BASE, NULL);
}

/* Frees the arena space of every entry the tender has taken. */
static void reclaim(void)
{
    uint32_t head = ring->ent_head;
    while (reclaimed != head) {
        consumed = entry_end[reclaimed & RIAD_HVT_RING_MASK];
        reclaimed++;
    }
}

/* Waits until the ring has room for the entry at `index` (ent_tail, or
 * past it for entries written before one publication). */
static void wait_for_entry_room(uint32_t index)
{
    while (index - ring->ent_head >= RIAD_HVT_RING_SIZE - 1)
        riad_hvt_ring_relax();
}

static bool ensure_arena(void)
{
    if (arena != NULL)
        return true;
    /* Room for a few hundred full frames, less in a small kernel; with
     * offload, for two 64 KiB segments at the very least. */
    uint64_t least = offload ? 256 * 1024 : 32 * 1024;
    arena_size = 512 * 1024;
    while (arena_size > least && arena_size > heap_size() / 16)
        arena_size /= 2;
    void *memory = NULL;
    if (posix_memalign(&memory, 4096, arena_size) != 0)
        return false;
    arena = memory;
    return true;
}

uint8_t *riad_hvt_net_transmit_buffer(size_t length)
{
    if (ring == NULL) {
        if (length > single_capacity) {
            free(single_buffer);
            single_capacity = length < 2048 ? 2048 : length;
            single_buffer = malloc(single_capacity);
            if (single_buffer == NULL) {
                single_capacity = 0;
                return NULL;
            }
        }
        return single_buffer;
    }
    if (!ensure_arena() || align_up(length) > arena_size / 2)
        return NULL;
    uint64_t needed = align_up(length);
    for (;;) {
        reclaim();
        uint64_t offset = produced % arena_size;
        /* A piece never wraps: skip to the start when it would. */
        uint64_t skip = offset + needed > arena_size ? arena_size - offset : 0;
        if (arena_size - (produced - consumed) >= skip + needed) {
            produced += skip;
            return arena + (produced % arena_size);
        }
        riad_hvt_ring_relax();
    }
}

int riad_hvt_net_send(uint64_t handle, uint8_t *buffer, size_t length)
{
    if (by_hypercall()) {
        volatile struct riad_hvt_hc_net_write hc = {
            .handle = handle, .data = (riad_gpa_t)(uintptr_t)buffer, .len = length, .ret = 0};
        riad_hvt_hypercall(RIAD_HVT_HYPERCALL_NET_WRITE, &hc);
        return hc.ret;
    }
    uint32_t tail = ring->ent_tail;
    wait_for_entry_room(tail);
    struct riad_hvt_ring_entry *entry = &ring->entries[tail & RIAD_HVT_RING_MASK];
    entry->operation = RIAD_HVT_RING_NET_WRITE;
    entry->handle = (uint32_t)handle;
    entry->data = (riad_gpa_t)(uintptr_t)buffer;
    entry->len = (uint32_t)length;
    entry->id = next_id++;
    produced += align_up(length);
    entry_end[tail & RIAD_HVT_RING_MASK] = produced;
    publish(tail + 1);
    return RIAD_HVT_R_OK;
}

static struct receive_queue *queue_for(uint64_t handle, size_t capacity)
{
    if (handle >= HANDLES)
        return NULL;
    struct receive_queue *queue = queues[handle];
    if (queue != NULL && queue->capacity >= capacity)
        return queue;
    if (queue == NULL) {
        queue = malloc(sizeof *queue);
        if (queue == NULL)
            return NULL;
        memset(queue, 0, sizeof *queue);
        queue->batch = 1;
        queues_in_use++;
    } else {
        free(queue->buffers);
    }
    queue->capacity = align_up(capacity);
    /* A batch of buffers in at most 1/32 of the heap: 32 frames of 1514
     * bytes in most kernels, a few 64 KiB ones with offload. */
    unsigned buffers = ring == NULL ? 1 : (unsigned)(heap_size() / 32 / queue->capacity);
    if (buffers > RECEIVE_BATCH)
        buffers = RECEIVE_BATCH;
    if (buffers < 1)
        buffers = 1;
    queue->buffers_count = buffers;
    queue->buffers = malloc(queue->capacity * buffers);
    queue->count = queue->next = 0;
    if (queue->buffers == NULL) {
        free(queue);
        queues[handle] = NULL;
        queues_in_use--;
        return NULL;
    }
    queues[handle] = queue;
    return queue;
}

/* Posts queue->batch reads and waits for their answers. */
static void refill_from_ring(uint64_t handle, struct receive_queue *queue)
{
    unsigned batch = queue->batch;
    uint32_t tail = ring->ent_tail;
    for (unsigned i = 0; i < batch; i++) {
        /* Room for each entry of the batch, not only the first: the
         * tender may still hold nearly a ring's worth of writes. */
        wait_for_entry_room(tail + i);
        struct riad_hvt_ring_entry *entry = &ring->entries[(tail + i) & RIAD_HVT_RING_MASK];
        entry->operation = RIAD_HVT_RING_NET_READ;
        entry->handle = (uint32_t)handle;
        entry->data = (riad_gpa_t)(uintptr_t)(queue->buffers + i * queue->capacity);
        entry->len = (uint32_t)queue->capacity;
        entry->id = next_id++;
        entry_end[(tail + i) & RIAD_HVT_RING_MASK] = produced;
    }
    publish(tail + batch);

    unsigned found = 0;
    uint32_t head = ring->com_head;
    for (unsigned i = 0; i < batch; i++) {
        while (ring->com_tail == head)
            riad_hvt_ring_relax();
        riad_hvt_ring_compiler_barrier();
        const struct riad_hvt_ring_commit *commit = &ring->commits[head & RIAD_HVT_RING_MASK];
        bool ok = commit->ret == RIAD_HVT_R_OK && commit->len <= queue->capacity;
        queue->lengths[i] = ok ? commit->len : 0;
        found += ok;
        head++;
        ring->com_head = head;
    }
    queue->count = batch;
    queue->next = 0;
    if (found == batch)
        queue->batch = batch * 2 > queue->buffers_count ? queue->buffers_count : batch * 2;
    else
        queue->batch = found + 1 > queue->buffers_count ? queue->buffers_count : found + 1;
}

static void refill_by_hypercall(uint64_t handle, struct receive_queue *queue)
{
    volatile struct riad_hvt_hc_net_read hc = {
        .handle = handle, .data = (riad_gpa_t)(uintptr_t)queue->buffers,
        .len = queue->capacity, .ret = 0};
    riad_hvt_hypercall(RIAD_HVT_HYPERCALL_NET_READ, &hc);
    queue->lengths[0] = hc.ret == RIAD_HVT_R_OK && hc.len <= queue->capacity ? (uint32_t)hc.len : 0;
    queue->count = 1;
    queue->next = 0;
}

const uint8_t *riad_hvt_net_receive(uint64_t handle, size_t capacity, size_t *length)
{
    struct receive_queue *queue = queue_for(handle, capacity);
    if (queue == NULL)
        return NULL;
    for (int refills = 0; refills < 2; refills++) {
        while (queue->next < queue->count) {
            unsigned index = queue->next++;
            if (queue->lengths[index] != 0) {
                *length = queue->lengths[index];
                return queue->buffers + index * queue->capacity;
            }
        }
        /* Empty: ask the host once; nothing there means nothing waits. */
        if (refills == 1)
            break;
        if (by_hypercall())
            refill_by_hypercall(handle, queue);
        else
            refill_from_ring(handle, queue);
    }
    return NULL;
}

/* Whether the queue still holds a frame not yet lent. */
static bool holds_frame(const struct receive_queue *queue)
{
    for (unsigned index = queue->next; index < queue->count; index++)
        if (queue->lengths[index] != 0)
            return true;
    return false;
}

bool riad_hvt_net_busy(void)
{
    /* Only while the tender's I/O thread is awake is a look free (no
     * kick), and only a device that receives has a queue to look into. */
    return ring != NULL && !ring->needs_kick && ring->ent_head == ring->ent_tail &&
           queues_in_use > 0;
}

uint64_t riad_hvt_net_poll(void)
{
    if (!riad_hvt_net_busy())
        return 0;
    uint64_t ready = 0;
    for (unsigned handle = 0; handle < HANDLES; handle++) {
        struct receive_queue *queue = queues[handle];
        if (queue == NULL)
            continue;
        if (!holds_frame(queue)) {
            /* One read: the frame, if any, waits in the queue. */
            unsigned batch = queue->batch;
            queue->batch = 1;
            refill_from_ring(handle, queue);
            queue->batch = batch;
        }
        if (holds_frame(queue))
            ready |= 1ULL << handle;
    }
    return ready;
}
