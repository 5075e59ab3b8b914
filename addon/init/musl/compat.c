// What the glibc-built libstdc++ and libgcc archives expect from a C library and musl does
// not provide, for the musl build of the init helper (scripts/build-init-musl.js).
#define _GNU_SOURCE
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

// libstdc++ skips atomic reference counts when this is set. The helper is single-threaded
// (it forks, but never starts a thread).
char __libc_single_threaded = 1;

// musl's open() follows an O_CLOEXEC open with fcntl(F_SETFD) for kernels older than 2.6.23;
// the helper opens about fifteen files per container, each with O_CLOEXEC. Its openat() does
// not, so open() is openat() from the working directory here.
int open(const char *path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return openat(AT_FDCWD, path, flags, mode);
}

// libstdc++'s random_device may use it; the helper does not, but the archive refers to it.
unsigned arc4random(void) {
  unsigned value = 0;
  (void)getrandom(&value, sizeof value, 0);
  return value;
}

// libgcc's unwinder finds a program counter's exception tables with glibc's _dl_find_object
// (glibc 2.35) and has no other way in this build. One static program: its loaded segments,
// and its PT_GNU_EH_FRAME (.eh_frame_hdr), found with dl_iterate_phdr. The layout is glibc's
// x86_64 struct dl_find_object (no eh_dbase or eh_count members on this architecture).
struct dl_find_object {
  unsigned long long dlfo_flags;
  void *dlfo_map_start;
  void *dlfo_map_end;
  void *dlfo_link_map;
  void *dlfo_eh_frame;
  unsigned long long reserved[7];
};

struct lookup {
  uintptr_t pc;
  struct dl_find_object *result;
  int found;
};

static int inspect(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct lookup *l = data;
  uintptr_t start = UINTPTR_MAX, end = 0, ehFrame = 0;
  int contains = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t at = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD) {
      if (at < start) start = at;
      if (at + ph->p_memsz > end) end = at + ph->p_memsz;
      if (l->pc >= at && l->pc < at + ph->p_memsz) contains = 1;
    } else if (ph->p_type == PT_GNU_EH_FRAME) {
      ehFrame = at;
    }
  }
  if (!contains) return 0;
  l->result->dlfo_flags = 0;
  l->result->dlfo_map_start = (void *)start;
  l->result->dlfo_map_end = (void *)end;
  l->result->dlfo_link_map = 0;
  l->result->dlfo_eh_frame = (void *)ehFrame;
  l->found = 1;
  return 1;
}

int _dl_find_object(void *pc, struct dl_find_object *result) {
  struct lookup l = {(uintptr_t)pc, result, 0};
  dl_iterate_phdr(inspect, &l);
  return l.found && result->dlfo_eh_frame ? 0 : -1;
}
