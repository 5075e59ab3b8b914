// The kernel floor for scenario 1 (issue #4): what starting a container costs when nothing
// but the kernel's own work is done. Per iteration: clone into new pid, net, ipc, uts and
// mount namespaces, make the mounts private, bind the rootfs onto itself, mount /proc,
// pivot_root into it, remount it read-only, exec /bin/true, and wait for it.
// No cgroups, no /dev, no loopback, no state, no hooks: the lower bound a runtime cannot beat.
//
// --spec ("floor+spec"): the same loop, doing the kernel work that node-libcontainer does for
// the benchmark's container (bench/lib/env.js baseConfig: runc's default spec), in its order,
// with nothing else (no Node, no state, no sync protocol, no JSON, no second exec). Per
// iteration, in the loop: make DIR/floor-<pid>-<n> under every --cgroup-parent DIR (v1 cpuset:
// cpus and mems copied from the parent; v1 devices: the spec's rules, deny all then runc's
// default allow list; v2: opened for CLONE_INTO_CGROUP). In the child (clone3 with the same
// namespaces, into the v2 cgroup): join each v1 cgroup (write "0" to tasks), bring up lo,
// make / rslave and the rootfs's parent mount private, bind the rootfs onto itself, the spec's
// mounts (proc, /dev tmpfs, devpts, /dev/shm, mqueue, read-only sysfs: each target resolved
// with openat2 RESOLVE_IN_ROOT and mounted through /proc/self/fd), the default device nodes
// and /dev symlinks, pivot_root, stdio onto the container's /dev/null, the read-only root,
// the hostname, the read-only paths (bind onto itself, remount read-only) and masked paths
// (read-only tmpfs over directories, /dev/null bound over files), RLIMIT_NOFILE, the CPU
// affinity reset, no_new_privs, the capability sets, exec /bin/true. After the reap: rmdir
// the cgroups. The spec is built in (spec_* below); bench/lib/contenders.js checks that it
// still matches the bench's config.
//
//   floor ROOTFS [-n ITERATIONS] [-w WARMUP] [--no-net]
//         [--spec --cgroup-parent DIR [--cgroup-parent DIR ...]] [-j JOBS]
// Prints {"unit":"ms","iterations":N,"times":[...]} on stdout (one time per iteration,
// clone to reaped exit, CLOCK_MONOTONIC; with --spec from the first mkdir to the last rmdir).
// -j JOBS (throughput): JOBS worker processes run the N iterations between them, JOBS in
// flight; adds "jobs", "seconds" and "containersPerSecond" (over the whole run) to the output.
// Any failed step ends the run: a message naming the step on stderr, exit status 1, and the
// cgroup directories made so far removed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
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

// ---------------------------------------------------------------------------------------
// --spec: the benchmark container's spec, built in (bench/lib/env.js baseConfig, runc's
// default spec). bench/lib/contenders.js (SPEC_FLOOR) refuses to run when the config differs.

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

struct spec_mount {
  const char *dest, *parent, *name, *source, *type;
  unsigned long flags;
  const char *data;
};
static const struct spec_mount spec_mounts[] = {
    {"/proc", "/", "proc", "proc", "proc", 0, NULL},
    {"/dev", "/", "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
    {"/dev/pts", "/dev", "pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"/dev/shm", "/dev", "shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k"},
    {"/dev/mqueue", "/dev", "mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"/sys", "/", "sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
};
// The nodes every container gets (runc's default devices with a path), in /dev.
static const struct {
  const char *name;
  unsigned major, minor;
} spec_devices[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"tty", 5, 0}, {"random", 1, 8}, {"urandom", 1, 9}};
static const char *const spec_readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
static const char *const spec_masked[] = {"/proc/acpi",        "/proc/asound",     "/proc/kcore",
                                          "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                                          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                          "/proc/scsi"};
// linux.resources.devices [{allow:false, access:rwm}] plus runc's default allowed devices.
static const char *const spec_device_deny[] = {"a *:* rwm"};
static const char *const spec_device_allow[] = {"b *:* m",   "c *:* m",   "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
                                                "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 10:200 rwm", "c 136:* rwm"};
static const char spec_hostname[] = "bench";
static const int spec_caps[] = {CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE};
static const unsigned long spec_nofile = 1024;

#define MAX_CGROUPS 32
#define MAX_CLIMB 64
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum cg_kind { CG_V1, CG_V1_CPUSET, CG_V1_DEVICES, CG_V2 };

static struct {
  int on, loopback;
  int ncg;
  const char *parent[MAX_CGROUPS];
  enum cg_kind kind[MAX_CGROUPS];
  char leaf[MAX_CGROUPS][PATH_MAX];
  char tasks[MAX_CGROUPS][PATH_MAX];  // v1 leaves' tasks files, for the child
  int made[MAX_CGROUPS];
  int cgfd;                          // the v2 leaf, for CLONE_INTO_CGROUP (-1: none)
  char climb[MAX_CLIMB][PATH_MAX];   // the rootfs and its ancestors, for the private parent mount
  int nclimb;
  int host_null;                     // the host's /dev/null: the container's stdio (stdio 'ignore')
  int cap_last;
  long seq;                          // names the cgroups: floor-<pid>-<seq>
} spec = {.cgfd = -1, .host_null = -1};

// Set by the child (it shares our memory) before _exit(1): the step that failed.
static const char *volatile fail_step;
static volatile int fail_errno;

static void child_fail(const char *step) {
  fail_errno = errno;
  fail_step = step;
  _exit(1);
}

// "/proc/self/fd/<fd>" without stdio in the child.
static const char *fd_path(char *buf, int fd) {
  char digits[16];
  int n = 0;
  do digits[n++] = (char)('0' + fd % 10);
  while ((fd /= 10) > 0);
  memcpy(buf, "/proc/self/fd/", 14);
  for (int i = 0; i < n; i++) buf[14 + i] = digits[n - 1 - i];
  buf[14 + n] = '\0';
  return buf;
}

static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  for (int attempt = 0; attempt < 128; attempt++) {
    long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    if (fd >= 0) return (int)fd;
    if (errno != EAGAIN) break;
  }
  return -1;
}

// The mount target inside the rootfs, made (mode 0755) when missing; never a symlink.
static int mount_target(int rootfd, const struct spec_mount *m) {
  int fd = open_in_root(rootfd, m->dest, O_PATH | O_DIRECTORY | O_NOFOLLOW);
  if (fd >= 0) return fd;
  if (errno != ENOENT) child_fail(m->dest);
  int parent = open_in_root(rootfd, m->parent, O_PATH | O_DIRECTORY);
  if (parent < 0) child_fail(m->dest);
  if (mkdirat(parent, m->name, 0755) != 0 && errno != EEXIST) child_fail(m->dest);
  close(parent);
  fd = open_in_root(rootfd, m->dest, O_PATH | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) child_fail(m->dest);
  return fd;
}

static int bind_fd(int source, int target, int recursive) {
  long tree = syscall(SYS_open_tree, source, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) return -1;
  long r = syscall(SYS_move_mount, (int)tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int saved = errno;
  close((int)tree);
  errno = saved;
  return r == 0 ? 0 : -1;
}

static unsigned long locked_flags(int fd) {
  struct statvfs st;
  if (fstatvfs(fd, &st) != 0) return 0;
  unsigned long f = 0;
  if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  return f;
}

// The container's init, --spec: runs in the child on its own stack (CLONE_VM|CLONE_VFORK).
static int spec_child(void *arg) {
  (void)arg;
  char procfd[32];
  // Stdio is the host's /dev/null, as for a container run with stdio 'ignore'.
  for (int fd = 0; fd < 3; fd++)
    if (dup2(spec.host_null, fd) < 0) child_fail("stdio");

  // cgroups: the v2 one came with the clone (CLONE_INTO_CGROUP); join the v1 ones.
  for (int i = 0; i < spec.ncg; i++) {
    if (spec.kind[i] == CG_V2) continue;
    int fd = open(spec.tasks[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) child_fail(spec.tasks[i]);
    close(fd);
  }

  if (spec.loopback) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) child_fail("loopback: socket");
    struct ifreq req;
    memset(&req, 0, sizeof req);
    memcpy(req.ifr_name, "lo", 3);
    if (ioctl(sock, SIOCGIFFLAGS, &req) < 0) child_fail("loopback: SIOCGIFFLAGS");
    if (!(req.ifr_flags & IFF_UP)) {
      req.ifr_flags |= IFF_UP;
      if (ioctl(sock, SIOCSIFFLAGS, &req) < 0) child_fail("loopback: SIOCSIFFLAGS");
    }
    close(sock);
  }

  // Root propagation (rslave), the rootfs's parent mount private, the rootfs bound on itself.
  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) != 0) child_fail("mount / rslave");
  int i = 0;
  for (; i < spec.nclimb; i++) {
    if (mount(NULL, spec.climb[i], NULL, MS_PRIVATE, NULL) == 0) break;
    if (errno != EINVAL) child_fail("make the rootfs's parent mount private");
  }
  if (i == spec.nclimb) child_fail("make the rootfs's parent mount private");
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) != 0) child_fail("bind the rootfs onto itself");
  int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) child_fail("open the rootfs");

  for (size_t k = 0; k < NELEM(spec_mounts); k++) {
    const struct spec_mount *m = &spec_mounts[k];
    int target = mount_target(rootfd, m);
    if (mount(m->source, fd_path(procfd, target), m->type, m->flags, m->data) != 0) child_fail(m->dest);
    close(target);
  }

  // Default device nodes (mode exactly 0666: umask 0 meanwhile) and the /dev symlinks.
  int devfd = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
  if (devfd < 0) child_fail("devices: open /dev");
  umask(0);
  for (size_t k = 0; k < NELEM(spec_devices); k++) {
    const char *name = spec_devices[k].name;
    if (unlinkat(devfd, name, 0) != 0 && errno != ENOENT) child_fail("devices: unlinkat");
    if (mknodat(devfd, name, S_IFCHR | 0666, makedev(spec_devices[k].major, spec_devices[k].minor)) != 0) child_fail("devices: mknodat");
    if (fchownat(devfd, name, 0, 0, AT_SYMLINK_NOFOLLOW) != 0) child_fail("devices: fchownat");
  }
  umask(022);
  static const char *const links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  for (size_t k = 0; k < NELEM(links); k++)
    if (symlinkat(links[k][0], devfd, links[k][1]) != 0 && errno != EEXIST) child_fail("devices: symlinkat");
  if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", devfd, "core") != 0 && errno != EEXIST) child_fail("devices: symlinkat core");
  if (unlinkat(devfd, "ptmx", 0) != 0 && errno != ENOENT) child_fail("devices: unlinkat ptmx");
  if (symlinkat("pts/ptmx", devfd, "ptmx") != 0) child_fail("devices: symlinkat ptmx");
  close(devfd);
  close(rootfd);

  // pivot_root(".", "."), then the old root (stacked on top) made rslave and detached.
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0) child_fail("pivot_root: open");
  if (fchdir(newroot) != 0) child_fail("pivot_root: fchdir");
  if (syscall(SYS_pivot_root, ".", ".") != 0) child_fail("pivot_root");
  if (fchdir(oldroot) != 0) child_fail("pivot_root: fchdir old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) != 0) child_fail("pivot_root: old root rslave");
  if (umount2(".", MNT_DETACH) != 0) child_fail("pivot_root: detach the old root");
  if (chdir("/") != 0) child_fail("pivot_root: chdir /");
  close(oldroot);
  close(newroot);

  // Stdio from the host's /dev/null onto the container's.
  int null = open("/dev/null", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  struct stat nst, st;
  if (null < 0 || fstat(null, &nst) != 0 || !S_ISCHR(nst.st_mode) || nst.st_rdev != makedev(1, 3)) child_fail("open the container's /dev/null");
  for (int fd = 0; fd < 3; fd++)
    if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == nst.st_rdev && dup3(null, fd, 0) < 0) child_fail("stdio onto /dev/null");
  close(null);

  if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0) child_fail("remount the root read-only");
  umask(022);
  if (sethostname(spec_hostname, sizeof spec_hostname - 1) != 0) child_fail("sethostname");

  // Read-only paths: bound onto themselves, the new mount remounted read-only.
  rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) child_fail("open /");
  for (size_t k = 0; k < NELEM(spec_readonly); k++) {
    int target = open_in_root(rootfd, spec_readonly[k], O_PATH);
    if (target < 0) {
      if (errno == ENOENT) continue;
      child_fail(spec_readonly[k]);
    }
    if (bind_fd(target, target, 1) != 0) child_fail(spec_readonly[k]);
    int mounted = open_in_root(rootfd, spec_readonly[k], O_PATH);
    if (mounted < 0) child_fail(spec_readonly[k]);
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked_flags(mounted);
    if (mount(NULL, fd_path(procfd, mounted), NULL, flags, NULL) != 0) child_fail(spec_readonly[k]);
    close(mounted);
    close(target);
  }
  // Masked paths: a read-only tmpfs over a directory, the (verified) /dev/null over a file.
  null = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (null < 0 || fstat(null, &nst) != 0 || !S_ISCHR(nst.st_mode) || nst.st_rdev != makedev(1, 3)) child_fail("masked paths: /dev/null");
  for (size_t k = 0; k < NELEM(spec_masked); k++) {
    int target = open_in_root(rootfd, spec_masked[k], O_PATH);
    if (target < 0) {
      if (errno == ENOENT) continue;
      child_fail(spec_masked[k]);
    }
    if (fstat(target, &st) != 0) child_fail(spec_masked[k]);
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", fd_path(procfd, target), "tmpfs", MS_RDONLY, NULL) != 0) child_fail(spec_masked[k]);
    } else if (bind_fd(null, target, 0) != 0) {
      child_fail(spec_masked[k]);
    }
    close(target);
  }
  close(null);
  close(rootfd);

  // The process: rlimits, the affinity reset (a v1 cpuset join narrows it; best effort, as
  // runc), no_new_privs, cwd, the bounding set, uid/gid 0, the capability sets.
  struct rlimit lim = {spec_nofile, spec_nofile};
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) child_fail("setrlimit RLIMIT_NOFILE");
  cpu_set_t all;
  memset(&all, 0xff, sizeof all);
  (void)sched_setaffinity(0, sizeof all, &all);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail("no_new_privs");
  if (chdir("/") != 0) child_fail("chdir cwd");
  uint64_t keep = 0;
  for (size_t k = 0; k < NELEM(spec_caps); k++) keep |= 1ULL << spec_caps[k];
  for (int c = 0; c <= spec.cap_last; c++)
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) child_fail("capabilities: bounding set");
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) child_fail("capabilities: keepcaps");
  // Raw syscalls: glibc's set*id/setgroups would broadcast to "all threads" of our memory.
  if (syscall(SYS_setgroups, 0, NULL) != 0) child_fail("setgroups");
  if (syscall(SYS_setresgid, 0, 0, 0) != 0) child_fail("setresgid");
  if (syscall(SYS_setresuid, 0, 0, 0) != 0) child_fail("setresuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) child_fail("capabilities: keepcaps");
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {{(uint32_t)keep, (uint32_t)keep, 0}, {(uint32_t)(keep >> 32), (uint32_t)(keep >> 32), 0}};
  if (syscall(SYS_capset, &hdr, data) != 0) child_fail("capset");
  // Ambient: failures are warnings in our helper (and runc); here they are ignored.
  (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (size_t k = 0; k < NELEM(spec_caps); k++) (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, spec_caps[k], 0, 0);

  char *const argv[] = {"/bin/true", NULL};
  char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL};
  execve("/bin/true", argv, envp);
  child_fail("execve /bin/true");
  return 1;
}

// clone3 with CLONE_VM has no glibc wrapper that runs a function on a new stack: this
// trampoline (as addon/spawn.cc's) makes the syscall and, in the child, calls fn(arg) on the
// new stack and exits with its result. Returns the child's pid or -errno in the parent.
struct clone3_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
long floor_clone3_vm(struct clone3_args *args, size_t size, int (*fn)(void *), void *arg);
#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl floor_clone3_vm\n"
    ".type floor_clone3_vm, @function\n"
    "floor_clone3_vm:\n"
    "  mov %rdx, %r8\n"
    "  mov %rcx, %r9\n"
    "  mov $435, %eax\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 1f\n"
    "  ret\n"
    "1:\n"
    "  xor %ebp, %ebp\n"
    "  mov %r9, %rdi\n"
    "  call *%r8\n"
    "  mov %eax, %edi\n"
    "  mov $60, %eax\n"
    "  syscall\n"
    "  hlt\n"
    ".size floor_clone3_vm, .-floor_clone3_vm\n");
#else
#error "floor --spec: the clone3 trampoline is written for x86_64 only"
#endif

// ---------------------------------------------------------------------------------------
// the cgroups of one iteration, made and removed in the loop (the runtime's side)

static int fail_parent(long iter, const char *step, const char *path, int err) {
  fprintf(stderr, "floor: iteration %ld: %s%s%s: %s\n", iter, step, path ? " " : "", path ? path : "", strerror(err));
  return -1;
}

static int copy_file(const char *from, const char *to) {
  char buf[4096];
  int fd = open(from, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf);
  int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    return -1;
  }
  fd = open(to, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t w = write(fd, buf, (size_t)n);
  saved = errno;
  close(fd);
  errno = saved;
  return w == n ? 0 : -1;
}

static int write_rules(const char *dir, const char *file, const char *const *rules, size_t n) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return -1;
  for (size_t k = 0; k < n; k++) {
    if (write(fd, rules[k], strlen(rules[k])) != (ssize_t)strlen(rules[k])) {
      int saved = errno;
      close(fd);
      errno = saved;
      return -1;
    }
  }
  close(fd);
  return 0;
}

// rmdir every leaf made; a leaf that cannot be removed is a failure (it would be left behind).
static int cgroups_remove(long iter) {
  int rc = 0;
  if (spec.cgfd >= 0) close(spec.cgfd);
  spec.cgfd = -1;
  for (int i = 0; i < spec.ncg; i++) {
    if (!spec.made[i]) continue;
    int r;
    // The reaped init's cgroup may still be settling: retry EBUSY briefly.
    for (int attempt = 0; (r = rmdir(spec.leaf[i])) != 0 && errno == EBUSY && attempt < 200; attempt++) usleep(500);
    if (r != 0 && errno != ENOENT) rc = fail_parent(iter, "rmdir", spec.leaf[i], errno);
    else spec.made[i] = 0;
  }
  return rc;
}

// The v2 leaf first (the clone lands in it), then the v1 ones with their set-up.
static int cgroups_make(long iter) {
  long n = spec.seq++;
  int self = (int)getpid();
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < spec.ncg; i++) {
      if ((spec.kind[i] == CG_V2) != (pass == 0)) continue;
      snprintf(spec.leaf[i], sizeof spec.leaf[i], "%s/floor-%d-%ld", spec.parent[i], self, n);
      if (mkdir(spec.leaf[i], 0755) != 0) return fail_parent(iter, "mkdir", spec.leaf[i], errno);
      spec.made[i] = 1;
      char from[PATH_MAX], to[PATH_MAX];
      switch (spec.kind[i]) {
        case CG_V2:
          spec.cgfd = open(spec.leaf[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (spec.cgfd < 0) return fail_parent(iter, "open (for CLONE_INTO_CGROUP)", spec.leaf[i], errno);
          break;
        case CG_V1_CPUSET:
          for (int f = 0; f < 2; f++) {
            const char *file = f ? "cpuset.mems" : "cpuset.cpus";
            snprintf(from, sizeof from, "%s/%s", spec.parent[i], file);
            snprintf(to, sizeof to, "%s/%s", spec.leaf[i], file);
            if (copy_file(from, to) != 0) return fail_parent(iter, "copy the parent's", to, errno);
          }
          break;
        case CG_V1_DEVICES:
          if (write_rules(spec.leaf[i], "devices.deny", spec_device_deny, NELEM(spec_device_deny)) != 0)
            return fail_parent(iter, "write devices.deny in", spec.leaf[i], errno);
          if (write_rules(spec.leaf[i], "devices.allow", spec_device_allow, NELEM(spec_device_allow)) != 0)
            return fail_parent(iter, "write devices.allow in", spec.leaf[i], errno);
          break;
        case CG_V1:
          break;
      }
      if (spec.kind[i] != CG_V2) snprintf(spec.tasks[i], sizeof spec.tasks[i], "%s/tasks", spec.leaf[i]);
    }
  }
  return 0;
}

// Classify the parents, compute the rootfs's ancestors, open the host's /dev/null.
static int spec_prepare(void) {
  static char real[PATH_MAX];
  if (!realpath(rootfs, real)) {
    fprintf(stderr, "floor: realpath %s: %s\n", rootfs, strerror(errno));
    return -1;
  }
  rootfs = real;
  for (char path[PATH_MAX], *slash;;) {
    if (spec.nclimb == 0) snprintf(path, sizeof path, "%s", real);
    if (spec.nclimb >= MAX_CLIMB) return -1;
    snprintf(spec.climb[spec.nclimb++], PATH_MAX, "%s", path);
    if (strcmp(path, "/") == 0) break;
    slash = strrchr(path, '/');
    if (slash == path) path[1] = '\0';
    else *slash = '\0';
  }
  int v2 = 0;
  for (int i = 0; i < spec.ncg; i++) {
    struct statfs sfs;
    char probe[PATH_MAX];
    if (statfs(spec.parent[i], &sfs) != 0) {
      fprintf(stderr, "floor: --cgroup-parent %s: %s\n", spec.parent[i], strerror(errno));
      return -1;
    }
    if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
      spec.kind[i] = CG_V2;
      if (v2++) {
        fprintf(stderr, "floor: more than one cgroup v2 parent given\n");
        return -1;
      }
    } else if (sfs.f_type == CGROUP_SUPER_MAGIC) {
      snprintf(probe, sizeof probe, "%s/cpuset.cpus", spec.parent[i]);
      if (access(probe, F_OK) == 0) {
        spec.kind[i] = CG_V1_CPUSET;
      } else {
        snprintf(probe, sizeof probe, "%s/devices.allow", spec.parent[i]);
        spec.kind[i] = access(probe, F_OK) == 0 ? CG_V1_DEVICES : CG_V1;
      }
    } else {
      fprintf(stderr, "floor: --cgroup-parent %s is not in a cgroup filesystem\n", spec.parent[i]);
      return -1;
    }
  }
  spec.host_null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (spec.host_null < 0) return -1;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
  if (!f || fscanf(f, "%d", &spec.cap_last) != 1 || spec.cap_last < 0 || spec.cap_last > 63) {
    fprintf(stderr, "floor: cannot read /proc/sys/kernel/cap_last_cap\n");
    return -1;
  }
  fclose(f);
  return 0;
}

// ---------------------------------------------------------------------------------------
// the loop

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static char *stack;
static int clone_flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS;

// One container, clone (with --spec: first mkdir) to reaped exit (last rmdir). Returns the
// time in ms, or -1 after printing what failed.
static double iterate(long iter) {
  double t0 = now_ms();
  pid_t pid;
  if (!spec.on) {
    pid = clone(child, stack + STACK_SIZE, clone_flags | CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    if (pid < 0) {
      fprintf(stderr, "floor: clone: %s\n", strerror(errno));
      return -1;
    }
  } else {
    if (cgroups_make(iter) != 0) {
      cgroups_remove(iter);
      return -1;
    }
    fail_step = NULL;
    struct clone3_args args = {0};
    args.flags = (uint64_t)clone_flags | CLONE_VM | CLONE_VFORK;
    if (spec.cgfd >= 0) {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t)spec.cgfd;
    }
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = STACK_SIZE;
    long r = floor_clone3_vm(&args, sizeof args, spec_child, NULL);
    if (r < 0) {
      fail_parent(iter, "clone3", NULL, (int)-r);
      cgroups_remove(iter);
      return -1;
    }
    pid = (pid_t)r;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "floor: waitpid: %s\n", strerror(errno));
      if (spec.on) cgroups_remove(iter);
      return -1;
    }
  }
  if (spec.on) {
    int rc = cgroups_remove(iter);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      if (fail_step) fail_parent(iter, "container set-up failed at", fail_step, fail_errno);
      else fprintf(stderr, "floor: iteration %ld: child failed (status %d)\n", iter, status);
      return -1;
    }
    if (rc != 0) return -1;
    return now_ms() - t0;
  }
  double t1 = now_ms();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "floor: child failed (status %d: exit code 10-17 = set-up step, 127 = exec)\n", status);
    return -1;
  }
  return t1 - t0;
}

#define USAGE "usage: floor ROOTFS [-n N] [-w WARMUP] [--no-net] [--spec --cgroup-parent DIR ...] [-j JOBS]\n"

int main(int argc, char **argv) {
  long iterations = 10, warmup = 1, jobs = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) iterations = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) warmup = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "-j") == 0 && i + 1 < argc) jobs = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--no-net") == 0) clone_flags &= ~CLONE_NEWNET;
    else if (strcmp(argv[i], "--spec") == 0) spec.on = 1;
    else if (strcmp(argv[i], "--cgroup-parent") == 0 && i + 1 < argc && spec.ncg < MAX_CGROUPS) spec.parent[spec.ncg++] = argv[++i];
    else if (!rootfs && argv[i][0] != '-') rootfs = argv[i];
    else {
      fprintf(stderr, USAGE);
      return 2;
    }
  }
  if (!rootfs || iterations < 1 || warmup < 0 || jobs < 1 || jobs > 256 || (spec.ncg && !spec.on)) {
    fprintf(stderr, USAGE);
    return 2;
  }
  spec.loopback = (clone_flags & CLONE_NEWNET) != 0;
  if (spec.on && spec_prepare() != 0) return 1;
  stack = malloc(STACK_SIZE);
  if (!stack) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  // Results in shared memory: with -j the workers write their times here.
  struct shared {
    long next;
    int stop;
    double times[];
  } *sh = mmap(NULL, sizeof *sh + (size_t)iterations * sizeof(double), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) return 1;

  for (long i = -warmup; i < 0; i++) {
    if (interrupted || iterate(i) < 0) return 1;
  }
  double t0 = now_ms();
  if (jobs == 1) {
    for (long i = 0; i < iterations; i++) {
      if (interrupted) {
        fprintf(stderr, "floor: interrupted\n");
        return 1;
      }
      double t = iterate(i);
      if (t < 0) return 1;
      sh->times[i] = t;
    }
  } else {
    // JOBS workers take iterations from a shared counter until all are done: JOBS in flight.
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) != 0) return 1;
    pid_t workers[256];
    long started = 0;
    for (; started < jobs; started++) {
      pid_t w = fork();
      if (w < 0) break;
      if (w == 0) {
        char go;
        close(gate[1]);
        while (read(gate[0], &go, 1) < 0 && errno == EINTR) {
        }
        for (;;) {
          if (interrupted || __atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST)) _exit(1);
          long i = __atomic_fetch_add(&sh->next, 1, __ATOMIC_SEQ_CST);
          if (i >= iterations) _exit(0);
          double t = iterate(i);
          if (t < 0) {
            __atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
            _exit(1);
          }
          sh->times[i] = t;
        }
      }
      workers[started] = w;
    }
    if (started < jobs) __atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
    t0 = now_ms();
    close(gate[1]);  // EOF: go
    close(gate[0]);
    int failed = started < jobs;
    for (long k = 0; k < started; k++) {
      int status;
      while (waitpid(workers[k], &status, 0) < 0) {
        if (errno != EINTR) return 1;
        if (interrupted) {
          __atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
          for (long m = 0; m < started; m++) kill(workers[m], SIGTERM);
        }
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    }
    if (failed || interrupted) {
      fprintf(stderr, "floor: %s\n", interrupted ? "interrupted" : "a worker failed");
      return 1;
    }
  }
  double seconds = (now_ms() - t0) / 1e3;
  printf("{\"unit\":\"ms\",\"iterations\":%ld,", iterations);
  if (spec.on) printf("\"spec\":true,");
  if (jobs > 1) printf("\"jobs\":%ld,\"seconds\":%.4f,\"containersPerSecond\":%.3f,", jobs, seconds, iterations / seconds);
  printf("\"times\":[");
  for (long i = 0; i < iterations; i++) printf("%s%.4f", i ? "," : "", sh->times[i]);
  printf("]}\n");
  free(stack);
  return 0;
}
