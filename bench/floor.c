// The kernel floor for scenario 1 (issue #4): what starting a container costs when nothing
// but the kernel's own work is done. Per iteration: clone into new pid, net, ipc, uts and
// mount namespaces, make the mounts private, bind the rootfs onto itself, mount /proc,
// pivot_root into it, remount it read-only, exec /bin/true, and wait for it.
// No cgroups, no /dev, no loopback, no state, no hooks: the lower bound a runtime cannot beat.
//
//   floor ROOTFS [-n ITERATIONS] [-w WARMUP] [--no-net]
// Prints {"unit":"ms","iterations":N,"times":[...]} on stdout (one time per iteration,
// clone to reaped exit, CLOCK_MONOTONIC).
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)

static const char *rootfs;

// Runs in the child on its own stack, sharing our memory (CLONE_VM|CLONE_VFORK) until the
// exec: only syscalls here, and _exit on any failure so the parent sees a non-zero status.
static int child(void *arg) {
  (void)arg;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) _exit(10);
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) != 0) _exit(11);
  if (chdir(rootfs) != 0) _exit(12);
  if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) _exit(13);
  // pivot_root(".", "."): the old root ends up stacked under the new one and is detached.
  if (syscall(SYS_pivot_root, ".", ".") != 0) _exit(14);
  if (umount2(".", MNT_DETACH) != 0) _exit(15);
  if (chdir("/") != 0) _exit(16);
  if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0) _exit(17);
  char *const argv[] = {"true", NULL};
  char *const envp[] = {"PATH=/bin", NULL};
  execve("/bin/true", argv, envp);
  _exit(127);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  long iterations = 10, warmup = 1;
  int flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) iterations = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) warmup = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--no-net") == 0) flags &= ~CLONE_NEWNET;
    else if (!rootfs) rootfs = argv[i];
    else {
      fprintf(stderr, "usage: floor ROOTFS [-n N] [-w WARMUP] [--no-net]\n");
      return 2;
    }
  }
  if (!rootfs || iterations < 1 || warmup < 0) {
    fprintf(stderr, "usage: floor ROOTFS [-n N] [-w WARMUP] [--no-net]\n");
    return 2;
  }
  char *stack = malloc(STACK_SIZE);
  if (!stack) return 1;
  double *times = calloc((size_t)iterations, sizeof *times);
  if (!times) return 1;
  for (long i = -warmup; i < iterations; i++) {
    double t0 = now_ms();
    pid_t pid = clone(child, stack + STACK_SIZE, flags | CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    if (pid < 0) {
      fprintf(stderr, "floor: clone: %s\n", strerror(errno));
      return 1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        fprintf(stderr, "floor: waitpid: %s\n", strerror(errno));
        return 1;
      }
    }
    double t1 = now_ms();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "floor: child failed (status %d: exit code 10-17 = set-up step, 127 = exec)\n", status);
      return 1;
    }
    if (i >= 0) times[i] = t1 - t0;
  }
  printf("{\"unit\":\"ms\",\"iterations\":%ld,\"times\":[", iterations);
  for (long i = 0; i < iterations; i++) printf("%s%.4f", i ? "," : "", times[i]);
  printf("]}\n");
  free(times);
  free(stack);
  return 0;
}
