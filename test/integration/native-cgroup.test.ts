// Integration tests of the addon's cgroup support (addon/bpf.cc, addon/notify.cc, sys.cc):
// eBPF device programs on a real cgroup v2 directory, eventfd/inotify watching, CPU
// affinity. Root only. Runs both on the hybrid host (v2 tree at /sys/fs/cgroup/unified,
// no controllers: BPF device programs still attach) and in the pure-v2 VM
// (scripts/run-v2-tests.sh), where our own cgroup is the VM's root.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadBinding } from '../../lib/native/binding';
import type { ExitStatus, NativeBinding } from '../../lib/native/types';

const BUSYBOX = '/bin/busybox';
const isRoot = process.getuid?.() === 0;

/** The v2 directory of our own cgroup: the cgroup2 mount plus our `0::` path relative to the mount's root. */
function ownV2Cgroup(): string | undefined {
  const own = fs
    .readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('0::'));
  if (!own) return undefined;
  const cgroupPath = own.slice(3);
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (sep < 0 || fields[sep + 1] !== 'cgroup2') continue;
    // fields[3] is the mount's root inside the hierarchy (not '/' inside a cgroup namespace
    // or for a bind mount of a subtree); our path must lie under it.
    const mountRoot = fields[3]!;
    const mountPoint = fields[4]!;
    const relative = path.posix.relative(mountRoot, cgroupPath);
    if (relative.startsWith('..')) continue;
    return path.join(mountPoint, relative);
  }
  return undefined;
}

const ownCgroup = isRoot ? ownV2Cgroup() : undefined;
const skip = !isRoot
  ? 'needs root (bpf, cgroup creation)'
  : !fs.existsSync(BUSYBOX)
    ? `needs a static busybox at ${BUSYBOX}`
    : false;
const skipV2 = skip || (ownCgroup === undefined ? 'no cgroup v2 hierarchy mounted' : false);

const SIGKILL = os.constants.signals.SIGKILL;

// struct bpf_insn records: code, dst|src<<4, off (le16), imm (le32).
function insn(code: number, regs: number, off: number, imm: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8(regs, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}
const BPF_MOV64_IMM_R0 = 0xb7; // r0 = imm
const BPF_EXIT = 0x95;
const ALLOW_ALL = Buffer.concat([insn(BPF_MOV64_IMM_R0, 0, 0, 1), insn(BPF_EXIT, 0, 0, 0)]);
const DENY_ALL = Buffer.concat([insn(BPF_MOV64_IMM_R0, 0, 0, 0), insn(BPF_EXIT, 0, 0, 0)]);
/** Exits without setting r0: the verifier rejects it ("R0 !read_ok"). */
const INVALID = insn(BPF_EXIT, 0, 0, 0);

function openFds(): string[] {
  return fs.readdirSync('/proc/self/fd').sort((a, b) => Number(a) - Number(b));
}

/** The kernel's id of the BPF program behind one of our fds. */
function progId(fd: number): number {
  const m = /^prog_id:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  assert.ok(m, `fd ${fd} is not a BPF program`);
  return Number(m[1]);
}

/** Resolves on the next callback of a watcher (the callback itself drains the fd). */
function nextCall(calls: { count: number; waiters: Array<() => void> }): Promise<void> {
  return new Promise((resolve) => calls.waiters.push(resolve));
}

function loopTurns(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('native cgroup support', { skip }, () => {
  let b: NativeBinding;
  let exe: number;
  let fdsBefore: string[];

  before(() => {
    b = loadBinding();
    exe = b.sealExecutable(BUSYBOX).fd;
    fdsBefore = openFds();
  });

  after(() => {
    assert.deepEqual(openFds(), fdsBefore);
    b.close(exe);
  });

  /** Runs busybox with stdout+stderr on a pipe, optionally CLONE_INTO_CGROUP; always reaps. */
  async function run(argv: string[], cgroupFd?: number): Promise<{ status: ExitStatus; output: string }> {
    const [r, w] = b.pipe();
    let child;
    try {
      child = b.spawn({
        execFd: exe,
        argv,
        env: ['PATH=/bin'],
        cloneFlags: 0,
        fds: [-1, w, w],
        ...(cgroupFd !== undefined ? { cgroupFd } : {}),
      });
    } catch (error) {
      b.close(r);
      throw error;
    } finally {
      b.close(w);
    }
    try {
      const status = await new Promise<ExitStatus>((resolve) => b.watchExit(child.pidfd, true, resolve));
      return { status, output: fs.readFileSync(r, 'utf8') };
    } finally {
      b.close(r);
      b.close(child.pidfd);
    }
  }

  describe('BPF device programs on a cgroup v2 directory', { skip: skipV2 }, () => {
    let dir: string;
    let cg = -1;
    let allow = -1;
    let deny = -1;

    before(() => {
      // Under our own cgroup: on the host that is the unified tree's /, in the VM the VM's root.
      dir = path.join(ownCgroup!, `nlc-test-bpf-${process.pid}`);
      fs.mkdirSync(dir);
      cg = b.openDirectory(dir);
      allow = b.bpfLoadDeviceProgram(ALLOW_ALL);
      deny = b.bpfLoadDeviceProgram(DENY_ALL);
    });

    after(async () => {
      for (const fd of [cg, allow, deny]) if (fd >= 0) b.close(fd);
      // The children are reaped by run(); a cgroup whose last task just exited can still
      // report busy for a moment.
      for (let attempt = 0; ; attempt++) {
        try {
          fs.rmdirSync(dir);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 50) throw error;
          await loopTurns(20);
        }
      }
    });

    test('load returns program fds; a verifier error carries the verifier log', () => {
      assert.ok(progId(allow) > 0);
      assert.notEqual(progId(allow), progId(deny));
      assert.throws(() => b.bpfLoadDeviceProgram(INVALID), (error: Error & { code?: string; syscall?: string }) => {
        assert.equal(error.code, 'EACCES');
        assert.equal(error.syscall, 'bpf(BPF_PROG_LOAD)');
        assert.match(error.message, /^bpfLoadDeviceProgram: bpf\(BPF_PROG_LOAD\): EACCES/);
        assert.match(error.message, /verifier log:\n[^]*R0 !read_ok/);
        return true;
      });
      assert.throws(() => b.bpfLoadDeviceProgram(Buffer.alloc(12)), RangeError);
      assert.throws(() => b.bpfLoadDeviceProgram(Buffer.alloc(0)), RangeError);
    });

    test('openDirectory gives a readable directory fd; errors carry the path', () => {
      assert.ok(fs.fstatSync(cg).isDirectory());
      assert.equal(fs.readlinkSync(`/proc/self/fd/${cg}`), dir);
      const file = path.join(dir, 'cgroup.procs');
      assert.throws(() => b.openDirectory(file), { code: 'ENOTDIR', path: file });
    });

    test('attach, query, replace, detach; device access follows the attached program', async () => {
      const catNull = ['sh', '-c', 'cat /dev/null && echo ok'];
      assert.deepEqual(b.bpfQueryDevicePrograms(cg), []);
      assert.deepEqual(await run(catNull, cg), { status: { exitCode: 0, signal: null }, output: 'ok\n' });

      b.bpfAttachDeviceProgram(cg, allow);
      assert.deepEqual(b.bpfQueryDevicePrograms(cg), [progId(allow)]);
      assert.deepEqual(await run(catNull, cg), { status: { exitCode: 0, signal: null }, output: 'ok\n' });

      // Replaced in place: still one program, now the deny-all one.
      b.bpfAttachDeviceProgram(cg, deny, allow);
      assert.deepEqual(b.bpfQueryDevicePrograms(cg), [progId(deny)]);
      const denied = await run(catNull, cg);
      assert.deepEqual(denied.status, { exitCode: 1, signal: null });
      assert.match(denied.output, /\/dev\/null.*Operation not permitted/);
      // Outside the cgroup nothing changed.
      assert.deepEqual((await run(catNull)).status, { exitCode: 0, signal: null });

      // Replacing a program that is not attached fails and changes nothing.
      assert.throws(() => b.bpfAttachDeviceProgram(cg, allow, allow), { syscall: 'bpf(BPF_PROG_ATTACH)' });
      assert.deepEqual(b.bpfQueryDevicePrograms(cg), [progId(deny)]);

      // The id leads back to the same program.
      const byId = b.bpfProgramFdById(progId(deny));
      try {
        assert.notEqual(byId, deny);
        assert.equal(progId(byId), progId(deny));
      } finally {
        b.close(byId);
      }

      b.bpfDetachDeviceProgram(cg, deny);
      assert.deepEqual(b.bpfQueryDevicePrograms(cg), []);
      assert.deepEqual(await run(catNull, cg), { status: { exitCode: 0, signal: null }, output: 'ok\n' });
      assert.throws(() => b.bpfDetachDeviceProgram(cg, deny), { code: 'ENOENT', syscall: 'bpf(BPF_PROG_DETACH)' });
    });

    test('without BPF_F_REPLACE programs are appended (ALLOW_MULTI); query grows past its first buffer', () => {
      const extra: number[] = [];
      try {
        // More than the 16 ids the query asks for at first.
        for (let i = 0; i < 20; i++) {
          extra.push(b.bpfLoadDeviceProgram(ALLOW_ALL));
          b.bpfAttachDeviceProgram(cg, extra[i]!);
        }
        assert.deepEqual(b.bpfQueryDevicePrograms(cg), extra.map(progId));
      } finally {
        for (const fd of extra) {
          b.bpfDetachDeviceProgram(cg, fd);
          b.close(fd);
        }
      }
      assert.deepEqual(b.bpfQueryDevicePrograms(cg), []);
    });

    test('bad fds and ids fail with errno', () => {
      assert.throws(() => b.bpfAttachDeviceProgram(exe, allow), { syscall: 'bpf(BPF_PROG_ATTACH)' });
      assert.throws(() => b.bpfQueryDevicePrograms(exe), { syscall: 'bpf(BPF_PROG_QUERY)' });
      assert.throws(() => b.bpfProgramFdById(0x7fffffff), {
        code: 'ENOENT',
        syscall: 'bpf(BPF_PROG_GET_FD_BY_ID)',
      });
    });
  });

  test('eventfd + watchReadable: the callback fires per readable turn, not after a drain, not after cancel', async () => {
    const efd = b.eventfd();
    const calls = { count: 0, waiters: [] as Array<() => void>, values: [] as bigint[] };
    const handle = b.watchReadable(efd, () => {
      const buf = Buffer.alloc(8);
      assert.equal(fs.readSync(efd, buf), 8);
      calls.values.push(buf.readBigUInt64LE());
      calls.count++;
      for (const resolve of calls.waiters.splice(0)) resolve();
    });
    try {
      const eight = (n: bigint): Buffer => {
        const buf = Buffer.alloc(8);
        buf.writeBigUInt64LE(n);
        return buf;
      };
      let fired = nextCall(calls);
      fs.writeSync(efd, eight(1n));
      await fired;
      assert.deepEqual(calls.values, [1n]);

      // Drained: no second call without a new write.
      await loopTurns(50);
      assert.equal(calls.count, 1);

      fired = nextCall(calls);
      fs.writeSync(efd, eight(2n));
      fs.writeSync(efd, eight(3n));
      await fired;
      assert.deepEqual(calls.values, [1n, 5n]);

      handle.unref();
      handle.ref();
      handle.cancel();
      handle.cancel();
      fs.writeSync(efd, eight(1n));
      await loopTurns(50);
      assert.equal(calls.count, 2);
    } finally {
      handle.cancel();
      b.close(efd);
    }
  });

  test('a callback that cancels its own watch is not called again', async () => {
    const efd = b.eventfd();
    let count = 0;
    const handle = b.watchReadable(efd, () => {
      count++;
      handle.cancel(); // without draining: a live watch would be called on every turn
    });
    try {
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n);
      fs.writeSync(efd, one);
      await loopTurns(50);
      assert.equal(count, 1);
    } finally {
      b.close(efd);
    }
  });

  test('inotify on a file: a modification makes the fd readable with an IN_MODIFY event', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-inotify-'));
    const file = path.join(dir, 'memory.events');
    fs.writeFileSync(file, 'oom 0\n');
    const ifd = b.inotifyInit();
    try {
      const IN_MODIFY = b.constants.IN_MODIFY!;
      const wd = b.inotifyAddWatch(ifd, file, IN_MODIFY);
      assert.ok(wd >= 1);
      const events: Array<{ wd: number; mask: number }> = [];
      let resolveEvent!: () => void;
      const got = new Promise<void>((resolve) => (resolveEvent = resolve));
      const handle = b.watchReadable(ifd, () => {
        const buf = Buffer.alloc(4096);
        const n = fs.readSync(ifd, buf);
        // struct inotify_event: wd, mask, cookie, len, then len bytes of name.
        for (let off = 0; off < n; off += 16 + buf.readUInt32LE(off + 12)) {
          events.push({ wd: buf.readInt32LE(off), mask: buf.readUInt32LE(off + 4) });
        }
        resolveEvent();
      });
      try {
        fs.appendFileSync(file, 'oom_kill 1\n');
        await got;
        assert.ok(events.length >= 1);
        assert.equal(events[0]!.wd, wd);
        assert.ok(events[0]!.mask & IN_MODIFY);
      } finally {
        handle.cancel();
      }
      assert.throws(() => b.inotifyAddWatch(ifd, path.join(dir, 'missing'), IN_MODIFY), {
        code: 'ENOENT',
        syscall: 'inotify_add_watch',
      });
    } finally {
      b.close(ifd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('getAffinity: ours matches /proc; a pinned child reports its pin; ESRCH for no process', async () => {
    const parseList = (list: string): number[] =>
      list.split(',').flatMap((range) => {
        const [lo, hi] = range.split('-').map(Number);
        return Array.from({ length: (hi ?? lo!) - lo! + 1 }, (_, i) => lo! + i);
      });
    const allowed = /^Cpus_allowed_list:\s*(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;
    const ours = b.getAffinity(process.pid);
    assert.deepEqual(ours, parseList(allowed));
    assert.deepEqual(b.getAffinity(0), ours);

    const cpu = ours[ours.length - 1]!;
    const child = b.spawn({
      execFd: exe,
      argv: ['sleep', '30'],
      env: [],
      cloneFlags: 0,
      fds: [-1, -1, -1],
      cpuAffinity: [cpu],
    });
    try {
      assert.deepEqual(b.getAffinity(child.pid), [cpu]);
    } finally {
      const exited = new Promise<ExitStatus>((resolve) => b.watchExit(child.pidfd, true, resolve));
      b.pidfdSendSignal(child.pidfd, SIGKILL);
      await exited;
      b.close(child.pidfd);
    }
    assert.throws(() => b.getAffinity(0x3fffffff), { code: 'ESRCH', syscall: 'sched_getaffinity' });
  });
});
