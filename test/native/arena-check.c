// Checks of the musl helper's malloc (addon/init/musl/arena.c), linked in its place:
// test/unit/init-native.test.ts builds this with musl-gcc and runs it. Prints the first
// failed check and exits 1, or exits 0.
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "arena-check:%d: failed: %s\n", __LINE__, #cond); \
      return 1;                                                         \
    }                                                                   \
  } while (0)

enum { BLOCKS = 3000 };

static unsigned char pattern(size_t block, size_t i) {
  return (unsigned char)(block * 31 + i * 7 + 1);
}

int main(void) {
  // Many live blocks of mixed sizes, small to own-mapping, each filled with its own pattern:
  // none may overlap another, whatever was freed and reused in between.
  static unsigned char *blocks[BLOCKS];
  static size_t sizes[BLOCKS];
  for (size_t b = 0; b < BLOCKS; b++) {
    sizes[b] = (b * 977) % (b % 50 == 0 ? 200000 : 3000);
    blocks[b] = malloc(sizes[b]);
    CHECK(blocks[b] != NULL);
    CHECK(((uintptr_t)blocks[b] & 15) == 0);
    CHECK(malloc_usable_size(blocks[b]) >= sizes[b]);
    for (size_t i = 0; i < sizes[b]; i++) blocks[b][i] = pattern(b, i);
    if (b % 3 == 0 && b > 0) {  // free an earlier one now and then, so later blocks reuse it
      free(blocks[b - 1]);
      blocks[b - 1] = NULL;
    }
  }
  for (size_t b = 0; b < BLOCKS; b++) {
    if (!blocks[b]) continue;
    for (size_t i = 0; i < sizes[b]; i++) CHECK(blocks[b][i] == pattern(b, i));
    free(blocks[b]);
  }

  // A freed block is reused for the next request of its class; calloc zeroes a reused one.
  unsigned char *a = malloc(100);
  memset(a, 0xAB, 100);
  free(a);
  unsigned char *z = calloc(10, 10);
  CHECK(z == a);
  for (int i = 0; i < 100; i++) CHECK(z[i] == 0);
  free(z);

  // realloc keeps the contents, growing within the block and out of it, and to a mapping.
  char *s = malloc(5);
  memcpy(s, "abcd", 5);
  s = realloc(s, 10);
  CHECK(s && strcmp(s, "abcd") == 0);
  s = realloc(s, 5000);
  CHECK(s && strcmp(s, "abcd") == 0);
  s = realloc(s, 300000);
  CHECK(s && strcmp(s, "abcd") == 0);
  memset(s + 4, 'x', 299995);
  s[299999] = 0;
  CHECK(strlen(s) == 299999);
  free(s);
  CHECK(realloc(NULL, 7) != NULL);

  // Distinct blocks for zero-byte requests; failure for impossible sizes, with ENOMEM.
  void *e1 = malloc(0), *e2 = malloc(0);
  CHECK(e1 && e2 && e1 != e2);
  errno = 0;
  CHECK(malloc(SIZE_MAX) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM);

  // Over-aligned blocks: aligned, usable, and free() of one leaves the rest intact.
  unsigned char *keep = malloc(64);
  memset(keep, 0x5A, 64);
  for (size_t align = 32; align <= 8192; align *= 2) {
    unsigned char *p = aligned_alloc(align, 1000);
    CHECK(p && ((uintptr_t)p % align) == 0);
    memset(p, 0xC3, 1000);
    free(p);
  }
  void *pm = NULL;
  CHECK(posix_memalign(&pm, 4096, 10) == 0 && ((uintptr_t)pm % 4096) == 0);
  CHECK(posix_memalign(&pm, 3, 10) == EINVAL);
  errno = 0;
  CHECK(aligned_alloc(48, 10) == NULL && errno == EINVAL);
  for (int i = 0; i < 64; i++) CHECK(keep[i] == 0x5A);
  return 0;
}
