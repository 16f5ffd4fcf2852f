/*
 * heap.c: a general-purpose allocator over one contiguous region.
 *
 * Design: boundary-tag blocks, segregated free lists, immediate coalescing.
 *
 *   - The region is cut into blocks that tile it exactly. Each block starts
 *     with a 16-byte header: its size (a multiple of 16, header included)
 *     with two flag bits (IN_USE, PREV_IN_USE), and a check word derived
 *     from the size, the block's address and a constant. The check word lets
 *     free() notice a pointer that is not a block, a header that a buffer
 *     overflow has overwritten, and (with IN_USE) a double free, and abort
 *     instead of corrupting the heap further.
 *   - A free block also keeps its size in its last 8 bytes (the footer) so
 *     that the block after it can find its start, and two free-list links
 *     after its header. Hence the minimum block of 48 bytes.
 *   - The region ends with a 16-byte sentinel header of size 0 that is
 *     always "in use", so the last block never tries to merge past the end.
 *     The first block always has PREV_IN_USE set for the same reason.
 *   - Freeing merges a block with free neighbours at once, so no two free
 *     blocks are ever adjacent: memory that is freed is reusable as one
 *     piece and fragmentation cannot build up from unmerged neighbours.
 *   - Free blocks sit in one of NBINS lists by size: exact 16-byte classes
 *     below 1 KiB, then four classes per power of two. A bitmap of
 *     non-empty lists finds the smallest list that can satisfy a request
 *     without scanning empty ones. Within the request's own list the first
 *     block that fits is taken; any block in a larger list fits.
 *   - Payloads follow the 16-byte header, so every result is 16-aligned;
 *     larger alignments are carved out of a larger block and the unused
 *     head and tail are freed again.
 *
 * Sizes from callers are checked against the heap's capacity before any
 * arithmetic, so no request can wrap around.
 */
#include "heap.h"

#include <stdbool.h>

#define HEADER_SIZE ((size_t)16)
#define ALIGN_MASK ((size_t)RIAD_HEAP_ALIGNMENT - 1)
/* Header, two free-list links and a footer, rounded up to 16. */
#define MIN_BLOCK ((size_t)48)

#define IN_USE ((size_t)1)
#define PREV_IN_USE ((size_t)2)
#define FLAG_MASK ((size_t)15)

/* Mixed into every header's check word. Any constant will do. */
#define CHECK_KEY ((uintptr_t)0x5269616448656170ULL) /* "RiadHeap" */

/* Exact classes for 48..1008 (index size/16), then 4 per power of two. */
#define SMALL_BINS 64
#define SMALL_LIMIT ((size_t)1024)
#define NBINS (SMALL_BINS + 4 * (64 - 10))
#define BITMAP_WORDS ((NBINS + 63) / 64)

struct block {
    size_t head;     /* size | flags */
    uintptr_t check; /* head ^ address ^ CHECK_KEY */
    /* Only in free blocks: */
    struct block *next;
    struct block *prev;
};

struct heap {
    uintptr_t start;    /* first block */
    uintptr_t sentinel; /* the end sentinel's header */
    size_t capacity;    /* largest possible block: sentinel - start */
    struct block *bins[NBINS];
    uint64_t bitmap[BITMAP_WORDS];
    struct riad_heap_stats stats;
};

static struct heap heap;

static const char msg_invalid[] = "heap: invalid pointer (not from the heap)";
static const char msg_corrupt[] =
    "heap: corrupted block header (buffer overflow or invalid pointer)";
static const char msg_double_free[] = "heap: double free (block not in use)";
static const char msg_list[] =
    "heap: corrupted free list (write after free?)";

static inline size_t block_size(const struct block *b)
{
    return b->head & ~FLAG_MASK;
}

static inline struct block *block_at(uintptr_t address)
{
    return (struct block *)address;
}

static inline struct block *next_block(const struct block *b)
{
    return block_at((uintptr_t)b + block_size(b));
}

static inline uintptr_t check_word(const struct block *b, size_t head)
{
    return head ^ (uintptr_t)b ^ CHECK_KEY;
}

static inline void set_head(struct block *b, size_t head)
{
    b->head = head;
    b->check = check_word(b, head);
}

static inline void set_footer(struct block *b, size_t size)
{
    *(size_t *)((uintptr_t)b + size - sizeof(size_t)) = size;
}

static inline void *payload(struct block *b)
{
    return (void *)((uintptr_t)b + HEADER_SIZE);
}

/* A header the heap itself reached (a neighbour): it must be intact. */
static void verify(const struct block *b)
{
    uintptr_t address = (uintptr_t)b;
    if (address < heap.start || address > heap.sentinel ||
        (address & ALIGN_MASK) != 0)
        riad_heap_abort(msg_corrupt);
    if (b->check != check_word(b, b->head))
        riad_heap_abort(msg_corrupt);
    size_t size = block_size(b);
    if (address == heap.sentinel ? size != 0
                                 : size < MIN_BLOCK ||
                                       size > heap.sentinel - address)
        riad_heap_abort(msg_corrupt);
}

/* The block behind a pointer from a caller: must be a live block. */
static struct block *user_block(const void *ptr)
{
    uintptr_t address = (uintptr_t)ptr;
    if ((address & ALIGN_MASK) != 0 || address < heap.start + HEADER_SIZE ||
        address >= heap.sentinel)
        riad_heap_abort(msg_invalid);
    struct block *b = block_at(address - HEADER_SIZE);
    verify(b);
    if ((b->head & IN_USE) == 0)
        riad_heap_abort(msg_double_free);
    return b;
}

static unsigned bin_index(size_t size)
{
    if (size < SMALL_LIMIT)
        return (unsigned)(size >> 4);
    unsigned log2 = 63u - (unsigned)__builtin_clzll((unsigned long long)size);
    unsigned sub = (unsigned)((size >> (log2 - 2)) & 3);
    return SMALL_BINS + (log2 - 10) * 4 + sub;
}

static void insert_free(struct block *b)
{
    unsigned i = bin_index(block_size(b));
    b->prev = NULL;
    b->next = heap.bins[i];
    if (b->next != NULL)
        b->next->prev = b;
    heap.bins[i] = b;
    heap.bitmap[i / 64] |= 1ULL << (i % 64);
}

static void remove_free(struct block *b)
{
    unsigned i = bin_index(block_size(b));
    /* Cheap link checks catch most writes into freed memory. */
    if ((b->next != NULL && b->next->prev != b) ||
        (b->prev != NULL && b->prev->next != b) ||
        (b->prev == NULL && heap.bins[i] != b))
        riad_heap_abort(msg_list);
    if (b->prev != NULL)
        b->prev->next = b->next;
    else
        heap.bins[i] = b->next;
    if (b->next != NULL)
        b->next->prev = b->prev;
    if (heap.bins[i] == NULL)
        heap.bitmap[i / 64] &= ~(1ULL << (i % 64));
}

/* A free block of at least `need` bytes, or NULL. Still on its list. */
static struct block *find_fit(size_t need)
{
    unsigned i = bin_index(need);
    if (i < SMALL_BINS) {
        /* Exact class: every block in it has exactly `need` bytes. */
        if (heap.bins[i] != NULL)
            return heap.bins[i];
    } else {
        for (struct block *b = heap.bins[i]; b != NULL; b = b->next)
            if (block_size(b) >= need)
                return b;
    }
    /* Every block in a larger class is large enough: take the first. */
    i++;
    for (unsigned w = i / 64; w < BITMAP_WORDS; w++) {
        uint64_t bits = heap.bitmap[w];
        if (w == i / 64 && i % 64 != 0)
            bits &= ~0ULL << (i % 64);
        if (bits != 0)
            return heap.bins[w * 64 + (unsigned)__builtin_ctzll(bits)];
    }
    return NULL;
}

/*
 * Give a block that is in no list back to the free lists, merging it with
 * free neighbours. Its header must hold its size and correct PREV_IN_USE;
 * IN_USE must already be clear.
 */
static void release(struct block *b)
{
    size_t size = block_size(b);
    if ((b->head & PREV_IN_USE) == 0) {
        size_t prev_size = *(const size_t *)((uintptr_t)b - sizeof(size_t));
        if ((prev_size & ALIGN_MASK) != 0 || prev_size < MIN_BLOCK ||
            prev_size > (uintptr_t)b - heap.start)
            riad_heap_abort(msg_corrupt);
        struct block *prev = block_at((uintptr_t)b - prev_size);
        verify(prev);
        /* Free blocks are never adjacent, so prev's own prev is in use. */
        if ((prev->head & (IN_USE | PREV_IN_USE)) != PREV_IN_USE ||
            block_size(prev) != prev_size)
            riad_heap_abort(msg_corrupt);
        remove_free(prev);
        b = prev;
        size += prev_size;
    }
    struct block *next = block_at((uintptr_t)b + size);
    verify(next);
    if ((next->head & IN_USE) == 0) {
        remove_free(next);
        size += block_size(next);
        next = block_at((uintptr_t)b + size);
        verify(next);
    }
    set_head(b, size | PREV_IN_USE);
    set_footer(b, size);
    insert_free(b);
    set_head(next, next->head & ~PREV_IN_USE);
}

/* Cut an in-use block down to `need` bytes, freeing the tail if it can
 * form a block of its own. */
static void split_tail(struct block *b, size_t need)
{
    size_t total = block_size(b);
    if (total - need < MIN_BLOCK)
        return;
    set_head(b, need | IN_USE | (b->head & PREV_IN_USE));
    struct block *rest = block_at((uintptr_t)b + need);
    set_head(rest, (total - need) | PREV_IN_USE);
    release(rest);
}

/* Take a free block of at least `need` bytes off the lists, trimmed to
 * `need` where the rest can stand alone. Statistics are the caller's. */
static struct block *take_block(size_t need)
{
    struct block *b = find_fit(need);
    if (b == NULL)
        return NULL;
    remove_free(b);
    size_t total = block_size(b);
    if (total - need >= MIN_BLOCK) {
        set_head(b, need | IN_USE | PREV_IN_USE);
        struct block *rest = block_at((uintptr_t)b + need);
        /* rest's successor already has PREV_IN_USE clear: b was free. */
        set_head(rest, (total - need) | PREV_IN_USE);
        set_footer(rest, total - need);
        insert_free(rest);
    } else {
        set_head(b, total | IN_USE | PREV_IN_USE);
        struct block *next = next_block(b);
        set_head(next, next->head | PREV_IN_USE);
    }
    return b;
}

/* Block size for a request already known to be <= heap.capacity. */
static size_t block_size_for(size_t size)
{
    size_t need = (size + HEADER_SIZE + ALIGN_MASK) & ~ALIGN_MASK;
    return need < MIN_BLOCK ? MIN_BLOCK : need;
}

static void count_allocation(struct block *b)
{
    heap.stats.allocations++;
    heap.stats.in_use += block_size(b);
    if (heap.stats.in_use > heap.stats.high_water)
        heap.stats.high_water = heap.stats.in_use;
}

static void *refuse(void)
{
    heap.stats.failures++;
    return NULL;
}

void riad_heap_init(void *base, size_t size)
{
    heap = (struct heap){0};
    uintptr_t start = ((uintptr_t)base + ALIGN_MASK) & ~(uintptr_t)ALIGN_MASK;
    uintptr_t end = (uintptr_t)base + size;
    if (end < (uintptr_t)base) /* wraps: clamp to the top of the space */
        end = UINTPTR_MAX;
    end &= ~(uintptr_t)ALIGN_MASK;
    if (end < start || end - start < MIN_BLOCK + HEADER_SIZE) {
        /* No room for one block: an empty heap that refuses everything. */
        heap.start = heap.sentinel = start;
        return;
    }
    heap.start = start;
    heap.sentinel = end - HEADER_SIZE;
    heap.capacity = heap.sentinel - heap.start;
    heap.stats.heap_size = end - start;

    struct block *first = block_at(start);
    set_head(first, heap.capacity | PREV_IN_USE);
    set_footer(first, heap.capacity);
    insert_free(first);
    set_head(block_at(heap.sentinel), 0 | IN_USE);
}

void *riad_heap_alloc(size_t size)
{
    if (size > heap.capacity)
        return refuse();
    struct block *b = take_block(block_size_for(size));
    if (b == NULL)
        return refuse();
    count_allocation(b);
    return payload(b);
}

void *riad_heap_aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return refuse();
    if (alignment <= RIAD_HEAP_ALIGNMENT)
        return riad_heap_alloc(size);
    if (size > heap.capacity || alignment > heap.capacity)
        return refuse();

    /*
     * Room for the block, for moving its start up to the next multiple of
     * alignment, and for the skipped head to be a free block of its own.
     * Cannot wrap: each term is at most the capacity, far below SIZE_MAX/4.
     */
    size_t need = block_size_for(size);
    struct block *b = take_block(need + alignment + MIN_BLOCK);
    if (b == NULL)
        return refuse();

    uintptr_t start = (uintptr_t)payload(b);
    uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t)(alignment - 1);
    if (aligned != start) {
        if (aligned - start < MIN_BLOCK)
            aligned += alignment; /* alignment >= 32 so now >= MIN_BLOCK */
        size_t head_size = aligned - start;
        struct block *rest = block_at(aligned - HEADER_SIZE);
        set_head(rest, (block_size(b) - head_size) | IN_USE);
        set_head(b, head_size | (b->head & PREV_IN_USE));
        release(b);
        b = rest;
    }
    split_tail(b, need);
    count_allocation(b);
    return payload(b);
}

void riad_heap_free(void *ptr)
{
    if (ptr == NULL)
        return;
    struct block *b = user_block(ptr);
    heap.stats.frees++;
    heap.stats.in_use -= block_size(b);
    set_head(b, b->head & ~IN_USE);
    release(b);
}

void *riad_heap_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return riad_heap_alloc(size);
    struct block *b = user_block(ptr);
    if (size > heap.capacity)
        return refuse();

    size_t need = block_size_for(size);
    size_t old = block_size(b);
    if (need <= old) {
        split_tail(b, need);
        heap.stats.in_use -= old - block_size(b);
        return ptr;
    }

    /* Grow into a free successor if it is big enough. */
    struct block *next = next_block(b);
    verify(next);
    if ((next->head & IN_USE) == 0 && old + block_size(next) >= need) {
        remove_free(next);
        size_t total = old + block_size(next);
        set_head(b, total | IN_USE | (b->head & PREV_IN_USE));
        struct block *after = next_block(b);
        verify(after);
        set_head(after, after->head | PREV_IN_USE);
        split_tail(b, need);
        heap.stats.in_use += block_size(b) - old;
        if (heap.stats.in_use > heap.stats.high_water)
            heap.stats.high_water = heap.stats.in_use;
        return ptr;
    }

    void *moved = riad_heap_alloc(size);
    if (moved == NULL)
        return NULL; /* counted by riad_heap_alloc; ptr untouched */
    __builtin_memcpy(moved, ptr, old - HEADER_SIZE);
    riad_heap_free(ptr);
    return moved;
}

size_t riad_heap_usable_size(const void *ptr)
{
    if (ptr == NULL)
        return 0;
    return block_size(user_block(ptr)) - HEADER_SIZE;
}

void riad_heap_get_stats(struct riad_heap_stats *out)
{
    *out = heap.stats;
}

void riad_heap_check(void)
{
    if (heap.capacity == 0)
        return;
    uint64_t free_blocks = 0;
    uint64_t in_use = 0;
    bool prev_free = false;
    struct block *b = block_at(heap.start);
    for (;;) {
        verify(b);
        if (((b->head & PREV_IN_USE) != 0) == prev_free)
            riad_heap_abort("heap: check: wrong PREV_IN_USE flag");
        if ((uintptr_t)b == heap.sentinel)
            break;
        size_t size = block_size(b);
        if ((b->head & IN_USE) != 0) {
            in_use += size;
            prev_free = false;
        } else {
            if (prev_free)
                riad_heap_abort("heap: check: adjacent free blocks");
            if (*(const size_t *)((uintptr_t)b + size - sizeof(size_t)) !=
                size)
                riad_heap_abort("heap: check: bad footer");
            free_blocks++;
            prev_free = true;
        }
        b = next_block(b);
    }
    if (in_use != heap.stats.in_use)
        riad_heap_abort("heap: check: in_use statistic is wrong");

    uint64_t listed = 0;
    for (unsigned i = 0; i < NBINS; i++) {
        bool marked = (heap.bitmap[i / 64] >> (i % 64)) & 1;
        if (marked != (heap.bins[i] != NULL))
            riad_heap_abort("heap: check: bitmap disagrees with lists");
        for (struct block *f = heap.bins[i]; f != NULL; f = f->next) {
            verify(f);
            if ((f->head & IN_USE) != 0 || bin_index(block_size(f)) != i ||
                (f->next != NULL && f->next->prev != f))
                riad_heap_abort("heap: check: bad free-list entry");
            if (++listed > free_blocks)
                riad_heap_abort("heap: check: free list too long (cycle?)");
        }
    }
    if (listed != free_blocks)
        riad_heap_abort("heap: check: free block missing from lists");
}
