/**
 * linux.seccomp in real containers: the filter the kernel reports (/proc/self/status), and
 * what it does to the container's own system calls: errno returns (the default EPERM and an
 * errnoRet), a condition on an argument, a killed process, exec'd processes filtered too,
 * both with no_new_privs (loaded last) and without (loaded before the capabilities go).
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, InitError, createContainer, type Container } from '../../lib';
import { execIn, finishProcess, makeConfig, skipUnlessRoot, tempRoot, withTimeout, type Ran } from './helpers';
import type { LinuxSeccomp } from '../../types/oci';

const skip = skipUnlessRoot();

/** mkdir refused with EPERM, kill(_, SIGUSR1) with ENOSYS (38); everything else allowed. */
const PROFILE: LinuxSeccomp = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['mkdir', 'mkdirat', 'no_such_syscall_anywhere'], action: 'SCMP_ACT_ERRNO' },
    { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }] },
  ],
};

/** What the probe prints: the filter mode, then what each call did. */
const PROBE = [
  'grep "^Seccomp:" /proc/self/status',
  'mkdir /tmp/probe-dir 2>&1 && echo mkdir-ok',
  'trap "echo usr2-delivered" USR2',
  'kill -USR1 $$ 2>&1 || echo usr1-refused',
  'kill -USR2 $$',
  'echo end',
].join('; ');

function checkProbe(r: Ran, who: string): void {
  assert.equal(r.exitCode, 0, `${who}: ${r.err}`);
  assert.match(r.out, /^Seccomp:\s+2$/m, `${who}: not in filter mode`);
  assert.match(r.out, /mkdir: .*Operation not permitted/, `${who}: mkdir was not refused with EPERM`);
  assert.doesNotMatch(r.out, /mkdir-ok/, who);
  assert.match(r.out + r.err, /Function not implemented/, `${who}: kill(SIGUSR1) was not refused with errnoRet 38`);
  assert.match(r.out, /usr1-refused/, who);
  assert.match(r.out, /usr2-delivered/, `${who}: kill(SIGUSR2) must pass the condition`);
  assert.match(r.out, /end$/, who);
}

describe('seccomp', { skip }, () => {
  // Its clean-up also destroys what a failed test left.
  const t = tempRoot();
  after(() => t.cleanup());

  const make = (id: string, seccomp: LinuxSeccomp, process: Record<string, unknown> = {}): Promise<Container> =>
    createContainer(id, makeConfig({ process: { args: ['sh', '-c', PROBE], ...process }, linux: { seccomp } }), { root: t.root });

  for (const noNewPrivileges of [true, false]) {
    test(`the init and exec'd processes are filtered (no_new_privs ${noNewPrivileges})`, async () => {
      const c = await make(`sc-${noNewPrivileges ? 'nnp' : 'priv'}`, PROFILE, { noNewPrivileges });
      checkProbe(await finishProcess(await c.run()), 'init');
      await c.destroy();

      const c2 = await make(`sc-exec-${noNewPrivileges ? 'nnp' : 'priv'}`, PROFILE, { noNewPrivileges, args: ['sleep', '100'] });
      await c2.run({ stdio: 'ignore' });
      checkProbe(await execIn(c2, ['sh', '-c', PROBE]), 'exec');
      await c2.destroy();
    });
  }

  test('SCMP_ACT_KILL_PROCESS: the process dies of SIGSYS at the call', async () => {
    const c = await make('sc-kill', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['uname'], action: 'SCMP_ACT_KILL_PROCESS' }] }, { args: ['uname', '-a'] });
    try {
      const r = await finishProcess(await c.run());
      assert.equal(r.signal, 'SIGSYS', JSON.stringify(r));
      assert.equal(r.out, '');
    } finally {
      await c.destroy();
    }
  });

  test('a filter that refuses the exec itself fails run() with the exec stage', async () => {
    const c = await make('sc-noexec', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['execve', 'execveat'], action: 'SCMP_ACT_ERRNO' }] });
    try {
      await assert.rejects(c.run(), (e: unknown) => e instanceof InitError && e.stage === 'exec' && /EPERM|not permitted/i.test(e.message));
    } finally {
      await c.destroy();
    }
  });

  test('a profile that refuses close_range (older than it, with a refusing default): the program still starts, with only its own fds', async () => {
    // Docker's, containerd's and podman's older default profiles do not name close_range.
    const profile: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['close_range'], action: 'SCMP_ACT_ERRNO', errnoRet: 6 }] };
    for (const noNewPrivileges of [true, false]) {
      const c = await make(`sc-closerange-${noNewPrivileges}`, profile, { args: ['ls', '/proc/self/fd'], noNewPrivileges });
      const d = await make(`sc-closerange-exec-${noNewPrivileges}`, profile, { args: ['sleep', '100'], noNewPrivileges });
      try {
        // fd 3 is ls's own directory: a descriptor of the helper left open would come first.
        const r = await finishProcess(await c.run({ stdio: 'pipe' }));
        assert.deepEqual([r.exitCode, r.out.split('\n')], [0, ['0', '1', '2', '3']], `init (no_new_privs ${noNewPrivileges}): ${r.err}`);
        await d.run({ stdio: 'ignore' });
        const e = await execIn(d, ['ls', '/proc/self/fd'], { stdio: 'pipe' });
        assert.deepEqual([e.exitCode, e.out.split('\n')], [0, ['0', '1', '2', '3']], `exec (no_new_privs ${noNewPrivileges}): ${e.err}`);
      } finally {
        await c.destroy();
        await d.destroy();
      }
    }
  });

  test('a filter that refuses exec, exit and the report too: the helper still ends (no spin), run() and destroy() settle', async () => {
    // Only mkdir allowed: the helper's exec fails, its procError cannot be sent, and libc's
    // _exit would retry exit(2) forever against EPERM at full CPU.
    for (const noNewPrivileges of [true, false]) {
      const c = await make(`sc-noexit-${noNewPrivileges}`, { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ALLOW' }] }, { noNewPrivileges });
      try {
        const started = await withTimeout(
          c.run({ stdio: 'ignore' }).then((p) => p.wait(), (err: Error) => err),
          10_000,
          'run() and the exit',
        );
        // Whatever it reports (the start's error, or the process's end), the helper is gone.
        if (!(started instanceof Error)) assert.notDeepEqual(started, { exitCode: 0, signal: null });
        assert.notEqual(await c.status(), 'running');
      } finally {
        await withTimeout(c.destroy(), 10_000, 'destroy');
      }
    }
  });

  test('a default that refuses: calls newer than every one the profile names get ENOSYS, older ones the default (runc\'s patchbpf)', async () => {
    // A static probe (no libc in the container) that makes raw system calls by number.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-probe-'));
    try {
      const built = spawnSync('cc', ['-static', '-O2', '-o', path.join(dir, 'probe'), path.join(__dirname, '../../../test/integration/fixtures/syscall-probe.c')], { encoding: 'utf8' });
      assert.equal(built.status, 0, `cc: ${built.stderr}`);
      // What the probe and the helper's last steps (after the filter is loaded) need; the largest
      // number is close_range's (436).
      const allowed = [
        'execve', 'execveat', 'brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'readlink', 'getrandom',
        'mprotect', 'mmap', 'munmap', 'newfstatat', 'fstat', 'write', 'writev', 'exit', 'exit_group', 'rt_sigprocmask', 'rt_sigaction',
        'close', 'close_range', 'prctl', 'getpid',
      ];
      const base = (defaultErrnoRet?: number): LinuxSeccomp => ({
        defaultAction: 'SCMP_ACT_ERRNO',
        ...(defaultErrnoRet ? { defaultErrnoRet } : {}),
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        syscalls: [{ names: allowed, action: 'SCMP_ACT_ALLOW' }],
      });
      const mounts = [...(makeConfig({}) as { mounts: unknown[] }).mounts, { destination: '/probe', type: 'bind', source: dir, options: ['bind', 'ro'] }];
      const probe = async (id: string, seccomp: LinuxSeccomp): Promise<string> => {
        const c = await createContainer(id, makeConfig({ mounts, process: { args: ['/probe/probe', '39', '110', '439', '451'] }, linux: { seccomp } }), { root: t.root });
        try {
          const r = await finishProcess(await c.run());
          assert.equal(r.exitCode, 0, JSON.stringify(r));
          return r.out;
        } finally {
          await c.destroy();
        }
      };
      // getpid allowed; getppid (110) refused by the default (EPERM); faccessat2 (439) and
      // cachestat (451) are above close_range: ENOSYS.
      assert.equal(await probe('sc-enosys', base()), '39 ok\n110 errno 1\n439 errno 38\n451 errno 38');
      // A default that already returns ENOSYS needs no stub, and gets ENOSYS everywhere.
      assert.equal(await probe('sc-enosys-default', base(38)), '39 ok\n110 errno 38\n439 errno 38\n451 errno 38');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refused before anything starts: notify rules without an agent, a relative listener, errnoRet where it means nothing', async () => {
    const cases: [LinuxSeccomp, string][] = [
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.listenerPath'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: 'relative.sock' }, 'linux.seccomp.listenerPath'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }, 'linux.seccomp.syscalls[0].errnoRet'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, 'linux.seccomp.flags[0]'],
    ];
    for (const [seccomp, field] of cases) {
      await assert.rejects(createContainer('sc-refused', makeConfig({ linux: { seccomp } }), { root: t.root }), (e: unknown) => e instanceof ConfigError && e.field === field, field);
    }
  });
});

describe('seccomp notify: the listener reaches the profile\'s agent', { skip: skipUnlessRoot() || (spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status === 0 ? false : 'needs python3 ≥ 3.9 for the test agent') }, () => {
  const t = tempRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-seccomp-agent-'));
  after(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const AGENT = path.resolve(__dirname, '../../../test/integration/fixtures/seccomp-agent.py');

  /** The agent, started and listening; its JSON lines as they come. */
  async function startAgent(socketPath: string, errnoRet: number, connections = 1) {
    const child = spawn('python3', [AGENT, socketPath, String(errnoRet), String(connections)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Record<string, unknown>[] = [];
    let buffered = '';
    const waiters: (() => void)[] = [];
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
        for (const w of waiters.splice(0)) w();
      }
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const until = async (what: (l: Record<string, unknown>) => boolean) => {
      while (!lines.some(what)) await withTimeout(new Promise<void>((r) => waiters.push(r)), 30_000, 'the seccomp agent');
      return lines.find(what)!;
    };
    await until((l) => 'listening' in l);
    return { child, lines, until, exited };
  }

  test('SCMP_ACT_NOTIFY: the agent gets the state and the listener, and answers the container\'s calls', async () => {
    const socketPath = path.join(dir, 'agent.sock');
    const agent = await startAgent(socketPath, 28); // ENOSPC
    const seccomp: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: socketPath,
      listenerMetadata: 'from-the-test',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
    const c = await createContainer('sc-notify', makeConfig({ process: { args: ['sh', '-c', 'mkdir /tmp/by-agent 2>&1; echo rc=$?'] }, linux: { seccomp } }), { root: t.root });
    try {
      const p = await c.run();
      const r = await finishProcess(p);
      assert.equal(r.exitCode, 0, r.err);
      assert.match(r.out, /No space left on device/, 'the agent\'s answer (ENOSPC) is what mkdir got');
      assert.match(r.out, /rc=1/);
      const got = (await agent.until((l) => 'state' in l)) as { state: Record<string, unknown>; fds: number };
      assert.equal(got.fds, 1);
      assert.deepEqual(got.state.fds, ['seccompFd']);
      assert.equal(got.state.metadata, 'from-the-test');
      assert.equal(got.state.pid, p.pid);
      const state = got.state.state as Record<string, unknown>;
      assert.equal(state.id, 'sc-notify');
      assert.equal(state.status, 'creating');
      assert.equal(state.pid, p.pid);
      const call = (await agent.until((l) => 'nr' in l)) as { nr: number; pid: number };
      assert.ok(call.nr === 83 || call.nr === 258, `mkdir or mkdirat on x86_64, got ${call.nr}`);
      assert.equal(await withTimeout(agent.exited, 30_000, 'the agent to see the filter go'), 0);
    } finally {
      agent.child.kill('SIGKILL');
      await c.destroy();
    }
  });

  test('an exec\'d process under the same profile: its own listener, the running state, the agent\'s answers', async () => {
    const socketPath = path.join(dir, 'agent-exec.sock');
    const agent = await startAgent(socketPath, 13, 2); // EACCES
    const seccomp: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: socketPath, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
    const c = await createContainer('sc-notify-exec', makeConfig({ process: { args: ['sleep', '100'] }, linux: { seccomp } }), { root: t.root });
    try {
      const init = await c.run({ stdio: 'ignore' });
      const exec = await c.run({ init: false, args: ['sh', '-c', 'mkdir /tmp/by-agent-exec 2>&1; echo rc=$?'] });
      const r = await finishProcess(exec);
      assert.match(r.out, /Permission denied/, 'the agent\'s EACCES');
      const states = agent.lines.filter((l) => 'state' in l) as { state: { pid: number; state: Record<string, unknown> } }[];
      assert.equal(states.length, 2, 'a listener for the init and one for the exec\'d process');
      const forExec = states.find((s) => s.state.pid === exec.pid);
      assert.ok(forExec, `no state for pid ${exec.pid}: ${JSON.stringify(states)}`);
      assert.equal(forExec.state.state.status, 'running');
      assert.equal(forExec.state.state.pid, init.pid);
    } finally {
      await c.destroy();
      agent.child.kill('SIGKILL');
    }
  });

  test('an agent that is not there fails the start, naming listenerPath; nothing is left running', async () => {
    const seccomp: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: path.join(dir, 'nobody.sock'), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    const c = await createContainer('sc-noagent', makeConfig({ process: { args: ['true'] }, linux: { seccomp } }), { root: t.root });
    try {
      await assert.rejects(c.run(), (e: unknown) => e instanceof ConfigError && e.field === 'linux.seccomp.listenerPath' && /ENOENT/.test((e as Error).message));
      assert.equal(await c.status(), 'stopped');
    } finally {
      await c.destroy();
    }
  });
});
