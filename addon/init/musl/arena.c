// The musl build's malloc: power-of-two size classes with a free list each, carved from
// anonymous mappings, in place of musl's mallocng (scripts/build-init-musl.js links it before
// libc.a, so libc's is never pulled in).
//
// Why: the helper lives for milliseconds, is single-threaded, and allocates a few tens of KB
// (the plan, its strings and vectors). mallocng maps a fresh page for nearly every new size
// class and unmaps it again when the group empties: in scenario 5 of bench/ that was about 22
// mmap and 8 munmap calls per helper, and on each new page a read fault (the zero page) and
// then a write fault, two thirds of the helper's 60 page faults. Here blocks come from one
// chunk that the program is first to write to (one fault per page touched), and a freed block
// is reused for the next request of its class. Blocks above 32 KiB get a mapping of their
// own, unmapped when freed.
//
// calloc() goes through allocate(), never malloc(), and the file is built with -fno-builtin:
// GCC turns a malloc() followed by a memset() to zero into a call to calloc(), here itself.
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

enum {
  ALIGNMENT = 16,
  MIN_CLASS = 5,   // 32-byte blocks (16 usable)
  MAX_CLASS = 15,  // 32 KiB blocks
  CHUNK_BYTES = 256 * 1024,
  PAGE_BYTES = 4096,
};

// Just before every block; 16 bytes, so blocks stay 16-byte aligned.
struct header {
  size_t size;    // usable bytes
  size_t mapped;  // bytes of its own mapping (header included), or 0 for a block of a class
};

// A free block of a class, in place of its usable bytes.
struct freeBlock {
  struct freeBlock *next;
};

static char *cursor;
static char *limit;
static struct freeBlock *freeLists[MAX_CLASS + 1];

static size_t roundUp(size_t n, size_t to) {
  return (n + to - 1) & ~(to - 1);
}

static void *mapAnonymous(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

// The smallest class whose blocks hold blockBytes (at most 1 << MAX_CLASS here).
static int classOf(size_t blockBytes) {
  if (blockBytes <= ((size_t)1 << MIN_CLASS)) return MIN_CLASS;
  return (int)(sizeof(unsigned long) * 8) - __builtin_clzl((unsigned long)(blockBytes - 1));
}

// A block of at least n usable bytes; *zeroed says whether it is known to be all zero (a
// fresh mapping, not a reused block).
static void *allocate(size_t n, int *zeroed) {
  if (n > SIZE_MAX / 2) {
    errno = ENOMEM;
    return NULL;
  }
  size_t need = n + sizeof(struct header);
  if (need > ((size_t)1 << MAX_CLASS)) {
    size_t bytes = roundUp(need, PAGE_BYTES);
    struct header *h = mapAnonymous(bytes);
    if (!h) {
      errno = ENOMEM;
      return NULL;
    }
    h->size = bytes - sizeof *h;
    h->mapped = bytes;
    *zeroed = 1;
    return h + 1;
  }
  int k = classOf(need);
  size_t blockBytes = (size_t)1 << k;
  if (freeLists[k]) {
    struct freeBlock *b = freeLists[k];
    freeLists[k] = b->next;
    *zeroed = 0;
    return b;
  }
  if (!cursor || (size_t)(limit - cursor) < blockBytes) {
    char *chunk = mapAnonymous(CHUNK_BYTES);
    if (!chunk) {
      errno = ENOMEM;
      return NULL;
    }
    // What is left of the old chunk stays unused.
    cursor = chunk;
    limit = chunk + CHUNK_BYTES;
  }
  struct header *h = (struct header *)cursor;
  cursor += blockBytes;
  h->size = blockBytes - sizeof *h;
  h->mapped = 0;
  *zeroed = 1;
  return h + 1;
}

void *malloc(size_t n) {
  int zeroed;
  return allocate(n, &zeroed);
}

void free(void *p) {
  if (!p) return;
  struct header *h = (struct header *)p - 1;
  if (h->mapped) {
    munmap(h, h->mapped);
    return;
  }
  int k = classOf(h->size + sizeof *h);
  // Over-aligned blocks (aligned_alloc) are not of a class: kept until exit.
  if (((size_t)1 << k) != h->size + sizeof *h) return;
  struct freeBlock *b = p;
  b->next = freeLists[k];
  freeLists[k] = b;
}

void *calloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) {
    errno = ENOMEM;
    return NULL;
  }
  size_t n = count * size;
  int zeroed;
  void *p = allocate(n, &zeroed);
  if (p && !zeroed) memset(p, 0, n);
  return p;
}

void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  struct header *h = (struct header *)p - 1;
  if (n <= h->size) return p;
  void *q = malloc(n);
  if (!q) return NULL;
  memcpy(q, p, h->size);
  free(p);
  return q;
}

// Over-aligned blocks: carved from a larger block, behind a header of their own whose size
// is no class's, so that free() leaves them (their memory is kept until exit).
void *aligned_alloc(size_t alignment, size_t n) {
  if (alignment == 0 || (alignment & (alignment - 1))) {
    errno = EINVAL;
    return NULL;
  }
  if (alignment <= ALIGNMENT) return malloc(n);
  if (n > SIZE_MAX / 4) {
    errno = ENOMEM;
    return NULL;
  }
  // n | 1 keeps the inner size from being a class's usable size.
  char *raw = malloc((n | 1) + alignment + sizeof(struct header));
  if (!raw) return NULL;
  uintptr_t at = roundUp((uintptr_t)raw + sizeof(struct header), alignment);
  struct header *h = (struct header *)at - 1;
  h->size = n | 1;
  h->mapped = 0;
  return (void *)at;
}

int posix_memalign(void **out, size_t alignment, size_t n) {
  if (alignment < sizeof(void *)) return EINVAL;
  void *p = aligned_alloc(alignment, n);
  if (!p) return errno;
  *out = p;
  return 0;
}

void *memalign(size_t alignment, size_t n) {
  return aligned_alloc(alignment, n);
}

size_t malloc_usable_size(void *p) {
  return p ? ((struct header *)p - 1)->size : 0;
}
