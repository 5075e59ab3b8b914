import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/errors';
import { DeviceEmulator } from '../../../lib/cgroups/devices/emulator';
import { defaultDeviceRules, effectiveDeviceRules, type DeviceRule } from '../../../lib/cgroups/devices/rules';
import { deviceFilter, encodeInsns, insn } from '../../../lib/cgroups/v2/devicefilter';
import * as v2devices from '../../../lib/cgroups/v2/devices';
import type { DeviceBinding } from '../../../lib/cgroups/v2/devices';
import { tree } from './fixture';

const rule = (r: Partial<DeviceRule>): DeviceRule => ({ type: 'c', major: -1, minor: -1, access: 'rwm', allow: true, ...r });

describe('device rules', () => {
  test('defaults are runc AllowedDevices and always follow the user rules', () => {
    const d = defaultDeviceRules();
    assert.equal(d.length, 11);
    assert.deepEqual(d[2], { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
    assert.ok(d.some((r) => r.major === 10 && r.minor === 200), '/dev/net/tun');
    assert.ok(d.some((r) => r.major === 136 && r.minor === undefined), '/dev/pts/*');
    const eff = effectiveDeviceRules([{ allow: false, access: 'rwm' }]);
    assert.equal(eff.length, 12);
    assert.deepEqual(eff[0], { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false });
  });
  test('empty access is a config error naming the rule', () => {
    assert.throws(
      () => effectiveDeviceRules([{ allow: true, type: 'c', major: 1, minor: 3, access: '' }]),
      (e: unknown) => e instanceof ConfigError && e.field === 'linux.resources.devices[0].access',
    );
  });
});

describe('DeviceEmulator', () => {
  test('allow-all list, then deny all', () => {
    const emu = DeviceEmulator.fromList('a *:* rwm\n');
    assert.equal(emu.isBlacklist, true);
    const target = DeviceEmulator.fromRules([rule({ type: 'a', allow: false }), rule({ major: 1, minor: 3 })]);
    assert.deepEqual(emu.transition(target), [
      { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false },
      { type: 'c', major: 1, minor: 3, access: 'rwm', allow: true },
    ]);
  });
  test('permissions merge and split', () => {
    const emu = DeviceEmulator.fromRules([rule({ major: 1, minor: 3, access: 'r' }), rule({ major: 1, minor: 3, access: 'w' })]);
    assert.deepEqual(emu.rules(), [{ type: 'c', major: 1, minor: 3, access: 'rw', allow: true }]);
    emu.apply(rule({ major: 1, minor: 3, access: 'r', allow: false }));
    assert.deepEqual(emu.rules(), [{ type: 'c', major: 1, minor: 3, access: 'w', allow: true }]);
  });
  test('cannot punch a hole in a wildcard rule', () => {
    const emu = DeviceEmulator.fromRules([rule({ major: 136 })]);
    assert.throws(() => emu.apply(rule({ major: 136, minor: 1, allow: false })), /punch a hole/);
  });
  test('blacklist mode', () => {
    const emu = DeviceEmulator.fromRules([rule({ type: 'a', allow: true }), rule({ major: 1, minor: 1, allow: false })]);
    assert.equal(emu.isBlacklist, true);
    assert.deepEqual(emu.rules(), [
      { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true },
      { type: 'c', major: 1, minor: 1, access: 'rwm', allow: false },
    ]);
  });
});

describe('device filter program', () => {
  test('instruction encoding (struct bpf_insn, little endian)', () => {
    // ldxw r2, [r1+0]
    assert.deepEqual([...encodeInsns([insn.loadWord(2, 1, 0)])], [0x61, 0x12, 0, 0, 0, 0, 0, 0]);
    // ldxw r4, [r1+4]
    assert.deepEqual([...encodeInsns([insn.loadWord(4, 1, 4)])], [0x61, 0x14, 4, 0, 0, 0, 0, 0]);
    // and32 r2, 0xffff
    assert.deepEqual([...encodeInsns([insn.andImm32(2, 0xffff)])], [0x54, 0x02, 0, 0, 0xff, 0xff, 0, 0]);
    // rsh32 r3, 16
    assert.deepEqual([...encodeInsns([insn.rshImm32(3, 16)])], [0x74, 0x03, 0, 0, 16, 0, 0, 0]);
    // jne r2, 2, +5
    assert.deepEqual([...encodeInsns([insn.jneImm(2, 2, 5)])], [0x55, 0x02, 5, 0, 2, 0, 0, 0]);
    // jne r1, r3, +3
    assert.deepEqual([...encodeInsns([insn.jneReg(1, 3, 3)])], [0x5d, 0x31, 3, 0, 0, 0, 0, 0]);
    // mov32 r1, r3
    assert.deepEqual([...encodeInsns([insn.movReg32(1, 3)])], [0xbc, 0x31, 0, 0, 0, 0, 0, 0]);
    // mov32 r0, 1 ; exit
    assert.deepEqual([...encodeInsns([insn.movImm32(0, 1), insn.exit()])], [0xb4, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    // negative offsets and immediates
    assert.deepEqual([...encodeInsns([{ code: 0x55, dst: 2, src: 0, off: -1, imm: -1 }])], [0x55, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });
  test('deny-all with no rules: prologue then "return 0"', () => {
    const p = deviceFilter([rule({ type: 'a', allow: false })]);
    assert.equal(p.blocks, 0);
    assert.equal(p.defaultAllow, false);
    assert.equal(p.insns.length, 8);
    assert.equal(p.code.length, 64);
    assert.deepEqual(p.insns.at(-2), insn.movImm32(0, 0));
  });
  test('one block per cleaned rule; the defaults give 11 blocks', () => {
    const p = deviceFilter(effectiveDeviceRules([{ allow: false, access: 'rwm' }]));
    assert.equal(p.blocks, 11);
    assert.equal(p.defaultAllow, false);
    // Duplicates merge: 11 rules + a duplicate of /dev/null still make 11 blocks.
    assert.equal(deviceFilter(effectiveDeviceRules([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }])).blocks, 11);
  });
  test('block layout and jump offsets for a partial-access rule', () => {
    const p = deviceFilter([rule({ major: 1, minor: 3, access: 'rw' })]);
    const block = p.insns.slice(6, -2);
    // jne type; mov r1,r3; and r1,access; jne r1,r3; jne major; jne minor; mov r0,1; exit
    assert.equal(block.length, 8);
    assert.deepEqual(block[0], insn.jneImm(2, 2, 7));
    assert.deepEqual(block[1], insn.movReg32(1, 3));
    assert.deepEqual(block[2], insn.andImm32(1, 2 | 4));
    assert.deepEqual(block[3], insn.jneReg(1, 3, 4));
    assert.deepEqual(block[4], insn.jneImm(4, 1, 3));
    assert.deepEqual(block[5], insn.jneImm(5, 3, 2));
    assert.deepEqual(block[6], insn.movImm32(0, 1));
    assert.deepEqual(block[7], insn.exit());
    // Every jump lands on the next block (here the final default block).
    const end = p.insns.length - 2;
    block.forEach((i, n) => {
      if (i.code === 0x55 || i.code === 0x5d) assert.equal(6 + n + 1 + i.off, end);
    });
  });
  test('an rwm wildcard-minor block skips the access and minor checks', () => {
    const p = deviceFilter([rule({ major: 136 })]);
    assert.deepEqual(p.insns.slice(6, -2), [insn.jneImm(2, 2, 3), insn.jneImm(4, 136, 2), insn.movImm32(0, 1), insn.exit()]);
  });
  test('blacklist: default allow, deny blocks', () => {
    const p = deviceFilter([rule({ type: 'a', allow: true }), rule({ type: 'b', major: 8, minor: 0, allow: false })]);
    assert.equal(p.defaultAllow, true);
    assert.equal(p.blocks, 1);
    assert.deepEqual(p.insns.at(-2), insn.movImm32(0, 1));
    assert.deepEqual(p.insns.at(-4), insn.movImm32(0, 0));
  });
});

describe('v2 device program attach', () => {
  function fakeBinding(attached: number[], opts: { replaceFails?: string } = {}) {
    const calls: string[] = [];
    let next = 100;
    const b: DeviceBinding = {
      bpfLoadDeviceProgram: (buf) => {
        calls.push(`load ${buf.length / 8}`);
        return next++;
      },
      bpfQueryDevicePrograms: () => [...attached],
      bpfProgramFdById: (id) => {
        calls.push(`fd ${id}`);
        return 1000 + id;
      },
      bpfAttachDeviceProgram: (_cg, prog, replace) => {
        if (replace !== undefined && opts.replaceFails) throw Object.assign(new Error(opts.replaceFails), { code: opts.replaceFails });
        calls.push(replace === undefined ? `attach ${prog}` : `attach ${prog} replacing ${replace}`);
      },
      bpfDetachDeviceProgram: (_cg, prog) => {
        calls.push(`detach ${prog}`);
      },
      close: (fd) => {
        calls.push(`close ${fd}`);
      },
    };
    return { b, calls };
  }
  test('no program yet: attach', () => {
    const { b, calls } = fakeBinding([]);
    v2devices.set(tree({}), {}, b);
    assert.deepEqual(calls.filter((c) => !c.startsWith('load')), ['attach 100', 'close 100']);
  });
  test('exactly one program: replaced atomically (BPF_F_REPLACE)', () => {
    const { b, calls } = fakeBinding([7]);
    v2devices.set(tree({}), {}, b);
    assert.deepEqual(calls.filter((c) => !c.startsWith('load')), ['fd 7', 'attach 100 replacing 1007', 'close 100', 'close 1007']);
  });
  test('no BPF_F_REPLACE (EINVAL): attach then detach the old one', () => {
    const { b, calls } = fakeBinding([7], { replaceFails: 'EINVAL' });
    v2devices.set(tree({}), {}, b);
    assert.deepEqual(calls.filter((c) => !c.startsWith('load')), ['fd 7', 'attach 100', 'detach 1007', 'close 100', 'close 1007']);
  });
  test('several programs: attach the new one, detach all the others', () => {
    const { b, calls } = fakeBinding([7, 8]);
    v2devices.set(tree({}), {}, b);
    assert.deepEqual(calls.filter((c) => !c.startsWith('load') && !c.startsWith('close')), ['fd 7', 'fd 8', 'attach 100', 'detach 1007', 'detach 1008']);
  });
  test('no binding: a clear error', () => {
    assert.throws(() => v2devices.set(tree({}), {}, undefined), /native binding/);
  });
});
