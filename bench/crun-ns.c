// crun 1.8 refuses to run on a hybrid cgroup host whose v2 tree has any controller listed in
// /sys/fs/cgroup/unified/cgroup.controllers. The benchmark hides that file from crun only:
//
//   crun-ns hold          unshare a mount namespace (slave, so nothing propagates back),
//                         bind /dev/null over the file, print "ready", then live until
//                         stdin reaches EOF (the benchmark closes it, or dies).
//   crun-ns PID PROG ARGS...   join PID's mount namespace and exec PROG: one setns and one
//                         exec per crun call, instead of a shell, an unshare and a mount.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static const char *const CONTROLLERS = "/sys/fs/cgroup/unified/cgroup.controllers";

static int hold(void) {
  if (unshare(CLONE_NEWNS) != 0) {
    fprintf(stderr, "crun-ns: unshare(CLONE_NEWNS): %s\n", strerror(errno));
    return 1;
  }
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) {
    fprintf(stderr, "crun-ns: making / a slave mount: %s\n", strerror(errno));
    return 1;
  }
  if (mount("/dev/null", CONTROLLERS, NULL, MS_BIND, NULL) != 0) {
    fprintf(stderr, "crun-ns: bind /dev/null over %s: %s\n", CONTROLLERS, strerror(errno));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  char buf[64];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) return 0;
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "hold") == 0) return hold();
  if (argc < 3) {
    fprintf(stderr, "usage: crun-ns hold | crun-ns PID PROG [ARGS...]\n");
    return 2;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/ns/mnt", argv[1]);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNS) != 0) {
    fprintf(stderr, "crun-ns: joining %s: %s\n", path, strerror(errno));
    return 125;
  }
  close(fd);
  execv(argv[2], argv + 2);
  fprintf(stderr, "crun-ns: exec %s: %s\n", argv[2], strerror(errno));
  return 127;
}
