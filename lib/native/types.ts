/**
 * The native binding (addon/). Injected into everything that needs it so unit tests can
 * pass a fake (see `loadBinding` in ./binding.ts). All fds returned are O_CLOEXEC.
 * Failures throw a `SystemError`-shaped Error with `code` (errno name), `errno` (number)
 * and `syscall`.
 */
export interface SpawnOptions {
  /** Read-only fd of the sealed executable (from `sealExecutable`), exec'd with execveat(AT_EMPTY_PATH). */
  execFd: number;
  argv: string[];
  env: string[];
  /** CLONE_NEW* bits added to CLONE_VM|CLONE_VFORK|CLONE_PIDFD. */
  cloneFlags: number;
  /** fds[i] becomes fd i in the child (-1: /dev/null opened O_RDWR). Every fd above is made close-on-exec. */
  fds: number[];
  /** cgroup v2 directory fd for CLONE_INTO_CGROUP (uses clone3), or undefined. */
  cgroupFd?: number;
  /** CPUs to pin the child to before exec (sched_setaffinity in the child). */
  cpuAffinity?: number[];
  /**
   * A new file (O_EXCL) the spawn writes `{"initPid":N,"initStartTime":"T"}` to right after the
   * clone, off the JS thread: see SpawnResult.recorded.
   */
  recordPath?: string;
}

export interface SpawnResult {
  pid: number;
  pidfd: number;
  /** Field 22 of /proc/<pid>/stat, read right after the clone (absent if it could not be read). */
  startTime?: string;
  /** Whether options.recordPath was written (absent from an older or fake binding: not written). */
  recorded?: boolean;
}

export interface ExitStatus {
  /** Exit code when the process exited, else null. */
  exitCode: number | null;
  /** Signal number when the process was killed by a signal, else null. */
  signal: number | null;
}

/** A SOCK_SEQPACKET socket watched on the libuv loop: one datagram per message, fds via SCM_RIGHTS. */
/** A watcher on the libuv loop; unref() lets Node exit while it is still watching. */
export interface WatchHandle {
  cancel(): void;
  ref(): void;
  unref(): void;
}

export interface NativeChannel {
  ref(): void;
  unref(): void;
  /** Send one datagram with optional fds attached (the fds stay open in the caller). */
  send(data: Buffer, fds?: number[]): void;
  /** Stop watching and close the fd. Idempotent. */
  close(): void;
}

export type SealKind = 'tmpfs' | 'memfd';

export interface SealedExecutable {
  fd: number;
  kind: SealKind;
}

export interface NativeBinding {
  /**
   * A read-only copy of the file to exec, returned as an O_RDONLY fd. `tmpfs`: on a tmpfs of its
   * own, mounted nowhere and read-only once filled (its mode and writability cannot change
   * either: EROFS). `memfd`: a sealed memfd (F_SEAL_SEAL|SHRINK|GROW|WRITE), re-opened read-only.
   * Without `kind`, tmpfs, or a memfd where the mount API is refused.
   */
  sealExecutable(path: string, kind?: SealKind): SealedExecutable;
  spawn(options: SpawnOptions): SpawnResult;
  /**
   * `spawn` with the clone and exec on a libuv threadpool thread, so creating namespaces and
   * the exec (1-2 ms) do not block the event loop. Options are validated synchronously and
   * throw exactly as `spawn`'s do. The callback gets the same SystemError-shaped error
   * `spawn` throws (a child that failed before exec is already reaped), or the result.
   * The fds in options (execFd, fds, cgroupFd) stay the caller's and must stay open until
   * the callback runs. The child's parent for PR_SET_PDEATHSIG is the threadpool thread,
   * which lives as long as the process.
   */
  spawnAsync(options: SpawnOptions, callback: (err: Error | null, result?: SpawnResult) => void): void;
  /** socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC). */
  socketpair(): [number, number];
  /** pipe2(O_CLOEXEC): [readEnd, writeEnd]. */
  pipe(): [number, number];
  close(fd: number): void;
  /** open(path, O_RDWR|O_CLOEXEC) of e.g. /dev/null; generic open with flags. */
  open(path: string, flags: number, mode?: number): number;
  mkfifo(path: string, mode: number): void;
  /**
   * Watch a SOCK_SEQPACKET fd. onMessage(data, fds) per datagram; onMessage(null, []) once on
   * EOF or error (then the channel is closed). The channel takes ownership of fd.
   */
  openChannel(fd: number, onMessage: (data: Buffer | null, fds: number[]) => void): NativeChannel;
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal. Throws ESRCH when the process is gone. */
  pidfdSendSignal(pidfd: number, signal: number): void;
  /**
   * Poll the pidfd on the libuv loop; when it becomes readable call cb once. With reap=true
   * the status comes from waitid(P_PIDFD, WEXITED) (the process must be our child); with
   * reap=false (not our child) cb gets {exitCode: null, signal: null}. Does not close the pidfd.
   * Returns a handle whose cancel() stops watching (no callback).
   */
  watchExit(pidfd: number, reap: boolean, cb: (status: ExitStatus) => void): WatchHandle;
  /** Non-blocking waitid(P_PIDFD, WEXITED|WNOHANG): null if still running. */
  tryReap(pidfd: number): ExitStatus | null;
  /** prlimit(pid, resource, {soft, hard}); limits as bigint (RLIM_INFINITY = 2^64-1). */
  prlimit(pid: number, resource: number, soft: bigint, hard: bigint): void;
  /** pidfd_getfd(pidfd, targetfd, 0). */
  pidfdGetfd(pidfd: number, targetFd: number): number;
  /** sched_setaffinity(pid, cpus). */
  setAffinity(pid: number, cpus: number[]): void;
  /** sched_getaffinity(pid): the CPUs the process may run on. */
  getAffinity(pid: number): number[];
  // --- cgroups (issue #3) ---
  /**
   * Load a BPF_PROG_TYPE_CGROUP_DEVICE program. `insns` holds struct bpf_insn records
   * (8 bytes each, little endian); license "Apache". Returns the program fd. On a verifier
   * error the Error's message carries the verifier log.
   */
  bpfLoadDeviceProgram(insns: Buffer): number;
  /**
   * Attach a device program to a cgroup v2 directory fd (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI).
   * With replaceProgFd: BPF_F_ALLOW_MULTI|BPF_F_REPLACE, atomically replacing that program.
   */
  bpfAttachDeviceProgram(cgroupFd: number, progFd: number, replaceProgFd?: number): void;
  bpfDetachDeviceProgram(cgroupFd: number, progFd: number): void;
  /** Ids of the device programs attached directly to the cgroup (BPF_PROG_QUERY). */
  bpfQueryDevicePrograms(cgroupFd: number): number[];
  /** BPF_PROG_GET_FD_BY_ID. */
  bpfProgramFdById(id: number): number;
  /** eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK). */
  eventfd(): number;
  /** inotify_init1(IN_CLOEXEC|IN_NONBLOCK). */
  inotifyInit(): number;
  /** inotify_add_watch; returns the watch descriptor. */
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  /**
   * Call cb each time fd becomes readable (uv_poll on the loop; the callback must drain the
   * fd, e.g. fs.readSync, or it is called again). Does not own the fd.
   */
  watchReadable(fd: number, cb: () => void): WatchHandle;
  /** Open a directory O_PATH|O_DIRECTORY|O_CLOEXEC (or O_RDONLY|O_DIRECTORY when readable) for CLONE_INTO_CGROUP / BPF. */
  openDirectory(path: string): number;
  /**
   * flock(fd, LOCK_EX | LOCK_NB): true when now held (until the fd is closed), false when
   * another open file description holds it. Optional: a fake binding without it locks nothing.
   */
  tryLock?(fd: number): boolean;
  /**
   * unlink each file, then rmdir each directory, in order, as one threadpool job. codes[i] is
   * null where the removal succeeded, else the errno name (files first, then dirs). Optional:
   * without it (a fake binding) callers remove path by path.
   */
  removeAsync?(files: string[], dirs: string[], callback: (err: Error | null, codes?: (string | null)[]) => void): void;
  /**
   * mkdir -p each directory (absolute paths), in order, as one threadpool job. results[i] is
   * [errno name or null, the directories made for dirs[i], top first, and what setups[i] did].
   * setups[i], applied only when the job made dirs[i] itself: files each directory made takes
   * from its parent, then writes made only if `expect`'s file reads exactly its text, then
   * `readBack` read (see addon/mkdir.cc). Optional: without it (a fake binding) callers make the
   * directories on the main thread.
   */
  mkdirAsync?(dirs: string[], mode: number, callback: (err: Error | null, results?: MkdirResult[]) => void, setups?: (DirSetup | null)[]): void;

  /**
   * Compile a seccomp profile, already in libseccomp's numbers (lib/spec/seccomp.ts), to BPF
   * (struct sock_filter[]) with libseccomp, loaded at run time. Syscalls and architectures it
   * does not know are left out and listed. Throws (code ERR_NO_LIBSECCOMP) without libseccomp;
   * a refused rule throws with `rule`, its index. Optional: a fake binding may lack it.
   */
  seccompCompile?(request: SeccompRequest): { filter: Buffer; unknownSyscalls: string[]; unknownArchitectures: string[]; stubInstructions?: number };

  /** TIOCSWINSZ on a pty master (a container's terminal). Optional: a fake binding may lack it. */
  setWinsize?(fd: number, rows: number, cols: number): void;
  /** Clear ONLCR on the terminal behind fd (a pty master: its slave), as runc's foreground console does. */
  clearOnlcr?(fd: number): void;

  /** Connect to the unix stream socket at path, send data with fd attached (SCM_RIGHTS), close (a seccomp agent's listenerPath). */
  sendFdToUnixSocket?(path: string, data: Buffer, fd: number): void;

  /** Linux constants the TS side needs (CLONE_NEW*, MS_*, O_*, signals are from os.constants). */
  constants: Record<string, number>;
}

/** What binding.mkdirAsync does in a directory it has just made (see mkdirAsync). */
export interface DirSetup {
  copy?: string[];
  expect?: [file: string, text: string];
  writes?: [file: string, values: string[]][];
  readBack?: string;
}

/** What it did: `error` names the step that failed ("<errno> <read|write> <path>"); what came before it stays done. */
export interface DirSetupResult {
  copied: boolean;
  read?: string;
  wrote: boolean;
  after?: string;
  error?: string;
}

export type MkdirResult = [code: string | null, created: string[], setup?: DirSetupResult];

/** binding.seccompCompile's input: libseccomp's action, architecture and comparison numbers (lib/spec/seccomp.ts). */
export interface SeccompRequest {
  defaultAction: number;
  architectures: string[];
  rules: { syscall: string; action: number; args: [index: number, op: number, value: string, valueTwo: string][] }[];
  /**
   * Every syscall name of the profile: a call numbered above all of them (per architecture)
   * gets ENOSYS instead of the default action (runc's patchbpf). Absent: no such stub.
   */
  enosys?: string[];
}
