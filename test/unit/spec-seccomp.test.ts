import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../lib/errors';
import { compileSeccomp, seccompRequest } from '../../lib/spec/seccomp';
import type { NativeBinding } from '../../lib/native/types';
import type { LinuxSeccomp } from '../../types/oci';

const isField = (field: string) => (e: unknown) => e instanceof ConfigError && e.field === field;

test('seccompRequest: actions, errno returns, architectures and flags in libseccomp\'s numbers', () => {
  const { request, flags } = seccompRequest({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['ptrace'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO' },
      { names: ['kexec_load'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
      { names: ['reboot'], action: 'SCMP_ACT_KILL' },
      { names: ['acct'], action: 'SCMP_ACT_LOG' },
      { names: ['swapon'], action: 'SCMP_ACT_TRAP' },
    ],
  });
  assert.equal(request.defaultAction, 0x00050026);
  assert.deepEqual(request.architectures, ['x86_64', 'aarch64']);
  assert.equal(flags, 2 | 4);
  assert.deepEqual(
    request.rules.map((r) => [r.syscall, r.action]),
    [['read', 0x7fff0000], ['write', 0x7fff0000], ['ptrace', 0x80000000], ['chmod', 0x00050001], ['kexec_load', 0x7ff00005], ['reboot', 0], ['acct', 0x7ffc0000], ['swapon', 0x00030000]],
  );
});

test('seccompRequest: a rule doing what the default does is left out; conditions on one argument become alternatives', () => {
  const { request } = seccompRequest({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
      // Different arguments: both must hold, one rule.
      { names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 16, op: 'SCMP_CMP_EQ' }, { index: 2, value: 9, op: 'SCMP_CMP_EQ' }] },
      // The same argument twice: either matches, a rule each (runc's matchCall).
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      // uint64 values beyond 2^53 survive, as decimal strings.
      { names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2n ** 63n, valueTwo: 2n ** 63n, op: 'SCMP_CMP_MASKED_EQ' }] },
      // 18446744073709551615 in a config.json parses as 2^64: all bits set, as written.
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 2 ** 64, valueTwo: 2 ** 64, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  });
  assert.deepEqual(request.rules, [
    { syscall: 'socket', action: 0x00050001, args: [[0, 4, '16', '0'], [2, 4, '9', '0']] },
    { syscall: 'personality', action: 0x00050001, args: [[0, 4, '0', '0']] },
    { syscall: 'personality', action: 0x00050001, args: [[0, 4, '8', '0']] },
    { syscall: 'clone', action: 0x00050001, args: [[0, 7, '9223372036854775808', '9223372036854775808']] },
    { syscall: 'ioctl', action: 0x00050001, args: [[1, 7, '18446744073709551615', '18446744073709551615']] },
  ]);
  assert.throws(
    () => seccompRequest({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 2n ** 64n, op: 'SCMP_CMP_EQ' }] }] }),
    { name: 'ConfigError', field: 'linux.seccomp.syscalls[0].args[0].value' },
  );
});

test('seccompRequest: an ENOSYS stub over every name the profile has, only where the default refuses', () => {
  const syscalls = [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' as const },
    { names: ['mkdir', 'write'], action: 'SCMP_ACT_ERRNO' as const },
  ];
  // Rules that do what the default does still count (runc's findLastSyscalls): each name once.
  assert.deepEqual(seccompRequest({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }).request.enosys, ['read', 'write', 'mkdir']);
  assert.deepEqual(seccompRequest({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls }).request.enosys, ['read', 'write', 'mkdir']);
  assert.deepEqual(seccompRequest({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 13, syscalls }).request.enosys, ['read', 'write', 'mkdir']);
  // A default that lets calls through, or already answers ENOSYS, needs none.
  for (const defaultAction of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'] as const) {
    assert.equal(seccompRequest({ defaultAction, syscalls }).request.enosys, undefined, defaultAction);
  }
  assert.equal(seccompRequest({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/run/agent.sock', syscalls }).request.enosys, undefined, 'notify');
  assert.equal(seccompRequest({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls }).request.enosys, undefined, 'ERRNO(ENOSYS)');
});

test('seccompRequest refuses, naming the field: notify rules without an agent, a relative listener, errnoRet without errno, a notify flag without notify', () => {
  assert.throws(() => seccompRequest({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW' }, { names: ['b'], action: 'SCMP_ACT_NOTIFY' }] }), isField('linux.seccomp.listenerPath'));
  assert.throws(() => seccompRequest({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: 'agent.sock' }), isField('linux.seccomp.listenerPath'));
  assert.throws(() => seccompRequest({ defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }), isField('linux.seccomp.defaultErrnoRet'));
  assert.throws(() => seccompRequest({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_LOG', errnoRet: 1 }] }), isField('linux.seccomp.syscalls[0].errnoRet'));
  assert.throws(() => seccompRequest({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }), isField('linux.seccomp.flags[1]'));
});

test('seccompRequest: notify rules with an agent make a listener filter', () => {
  const { request, flags, notify } = seccompRequest({
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/run/agent.sock',
    flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }],
  });
  assert.equal(notify, true);
  assert.equal(flags, 32);
  assert.deepEqual(request.rules, [{ syscall: 'mount', action: 0x7fc00000, args: [] }]);
  assert.equal(seccompRequest({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }).notify, false, 'a listener path alone asks for no listener');
});

/** A binding whose compiler records its calls and returns a fixed two-instruction program. */
function fakeBinding(fail?: Error & { code?: string; rule?: number }) {
  const calls: unknown[] = [];
  const binding = {
    seccompCompile(request: unknown) {
      calls.push(request);
      if (fail) throw fail;
      return { filter: Buffer.alloc(16, 1), unknownSyscalls: ['newer_call'], unknownArchitectures: [] };
    },
  } as unknown as NativeBinding;
  return { binding, calls };
}

const PROFILE: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['mkdir', 'newer_call'], action: 'SCMP_ACT_ERRNO' }] };

test('compileSeccomp: compiled once per profile and binding, as base64 with the flags', () => {
  const { binding, calls } = fakeBinding();
  const plan = compileSeccomp(PROFILE, binding);
  assert.deepEqual(plan, { filter: Buffer.alloc(16, 1).toString('base64'), flags: 2, notify: false });
  // The same profile again, even as another object: no second compile.
  assert.equal(compileSeccomp(structuredClone(PROFILE), binding), plan);
  assert.equal(calls.length, 1);
  compileSeccomp({ ...PROFILE, flags: [] }, binding);
  assert.equal(calls.length, 2, 'another profile is compiled');
  const other = fakeBinding();
  compileSeccomp(PROFILE, other.binding);
  assert.equal(other.calls.length, 1, 'another binding compiles for itself');
});

test('compileSeccomp: no compiler, no libseccomp, a refused rule: ConfigError naming the field', () => {
  assert.throws(() => compileSeccomp(PROFILE, {} as NativeBinding), isField('linux.seccomp'));
  const missing = Object.assign(new Error('seccompCompile: cannot load libseccomp.so.2'), { code: 'ERR_NO_LIBSECCOMP' });
  assert.throws(() => compileSeccomp({ ...PROFILE, defaultAction: 'SCMP_ACT_LOG' }, fakeBinding(missing).binding), (e: unknown) => isField('linux.seccomp')(e) && /libseccomp/.test((e as Error).message));
  const refused = Object.assign(new Error('seccompCompile: seccomp_rule_add mkdir: EINVAL'), { rule: 0 });
  const profile: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  assert.throws(() => compileSeccomp(profile, fakeBinding(refused).binding), (e: unknown) => isField('linux.seccomp.syscalls[1]')(e) && /mkdir/.test((e as Error).message));
});

test('compileSeccomp: a frozen profile (a prepared config\'s) is found again without a new compile', () => {
  const { binding, calls } = fakeBinding();
  const frozen = Object.freeze(structuredClone(PROFILE));
  const plan = compileSeccomp(frozen, binding);
  assert.equal(compileSeccomp(frozen, binding), plan);
  assert.equal(calls.length, 1);
  const other = fakeBinding();
  assert.notEqual(compileSeccomp(frozen, other.binding), undefined);
  assert.equal(other.calls.length, 1, 'per binding');
});
