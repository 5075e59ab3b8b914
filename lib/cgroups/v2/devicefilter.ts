/**
 * The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program generated from the
 * device rules (port of runc's devices.deviceFilter, itself from crun's ebpf.c). The program
 * is a list of blocks, one per cleaned rule; each block jumps to the next when the device
 * does not match and returns the rule's verdict when it does; the last block returns the
 * default verdict.
 *
 * Encoded as struct bpf_insn records: u8 code, u8 (src_reg << 4 | dst_reg), s16 off, s32 imm,
 * little endian.
 */
import { CgroupError } from '../errors';
import { DeviceEmulator } from '../devices/emulator';
import type { DeviceRule } from '../devices/rules';

// Opcode parts (linux/bpf_common.h, linux/bpf.h).
const BPF_LDX = 0x01;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_W = 0x00;
const BPF_MEM = 0x60;
const BPF_K = 0x00;
const BPF_X = 0x08;
const BPF_AND = 0x50;
const BPF_RSH = 0x70;
const BPF_MOV = 0xb0;
const BPF_JNE = 0x50;
const BPF_EXIT = 0x90;

// struct bpf_cgroup_dev_ctx values.
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;

export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export const insn = {
  /** dst = *(u32 *)(src + off) */
  loadWord: (dst: number, src: number, off: number): BpfInsn => ({ code: BPF_LDX | BPF_MEM | BPF_W, dst, src, off, imm: 0 }),
  andImm32: (dst: number, imm: number): BpfInsn => ({ code: BPF_ALU | BPF_AND | BPF_K, dst, src: 0, off: 0, imm }),
  rshImm32: (dst: number, imm: number): BpfInsn => ({ code: BPF_ALU | BPF_RSH | BPF_K, dst, src: 0, off: 0, imm }),
  movReg32: (dst: number, src: number): BpfInsn => ({ code: BPF_ALU | BPF_MOV | BPF_X, dst, src, off: 0, imm: 0 }),
  movImm32: (dst: number, imm: number): BpfInsn => ({ code: BPF_ALU | BPF_MOV | BPF_K, dst, src: 0, off: 0, imm }),
  /** if dst != imm goto pc+1+off */
  jneImm: (dst: number, imm: number, off: number): BpfInsn => ({ code: BPF_JMP | BPF_JNE | BPF_K, dst, src: 0, off, imm }),
  /** if dst != src goto pc+1+off */
  jneReg: (dst: number, src: number, off: number): BpfInsn => ({ code: BPF_JMP | BPF_JNE | BPF_X, dst, src, off, imm: 0 }),
  exit: (): BpfInsn => ({ code: BPF_JMP | BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 }),
};

export function encodeInsns(insns: BpfInsn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8(((i.src & 0xf) << 4) | (i.dst & 0xf), n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm | 0, n * 8 + 4);
  });
  return buf;
}

export interface DeviceProgram {
  insns: BpfInsn[];
  /** Encoded struct bpf_insn array for bpfLoadDeviceProgram. */
  code: Buffer;
  /** Rule blocks, not counting the final default block. */
  blocks: number;
  defaultAllow: boolean;
}

/** The program's preamble: R2 = type, R3 = access, R4 = major, R5 = minor. */
function prologue(): BpfInsn[] {
  return [
    insn.loadWord(2, 1, 0),
    insn.andImm32(2, 0xffff),
    insn.loadWord(3, 1, 0),
    insn.rshImm32(3, 16),
    insn.loadWord(4, 1, 4),
    insn.loadWord(5, 1, 8),
  ];
}

function ruleBlock(rule: DeviceRule): BpfInsn[] {
  const type = rule.type === 'c' ? BPF_DEVCG_DEV_CHAR : rule.type === 'b' ? BPF_DEVCG_DEV_BLOCK : -1;
  if (type < 0) throw new CgroupError('devices', `invalid device type ${JSON.stringify(rule.type)} in a filter block`);
  let access = 0;
  for (const ch of rule.access) {
    access |= ch === 'r' ? BPF_DEVCG_ACC_READ : ch === 'w' ? BPF_DEVCG_ACC_WRITE : ch === 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
  }
  const all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  // Each check is a "jump to the next block" whose offset is fixed once the block's length is known.
  const checks: Array<(off: number) => BpfInsn> = [(off) => insn.jneImm(2, type, off)];
  const plain: BpfInsn[][] = [[]];
  if (access !== all) {
    // The requested access must be a subset of the rule's: (R3 & access) == R3, using R1 as scratch.
    plain[0].push(insn.movReg32(1, 3), insn.andImm32(1, access));
    checks.push((off) => insn.jneReg(1, 3, off));
    plain.push([]);
  }
  if (rule.major >= 0) {
    checks.push((off) => insn.jneImm(4, rule.major | 0, off));
    plain.push([]);
  }
  if (rule.minor >= 0) {
    checks.push((off) => insn.jneImm(5, rule.minor | 0, off));
    plain.push([]);
  }
  const tail = [insn.movImm32(0, rule.allow ? 1 : 0), insn.exit()];
  // Lay out: check0, plain[0], check1, plain[1], ..., tail.
  const layout: Array<BpfInsn | ((off: number) => BpfInsn)> = [];
  checks.forEach((c, i) => {
    layout.push(c);
    layout.push(...(plain[i] ?? []));
  });
  layout.push(...tail);
  return layout.map((item, idx) => (typeof item === 'function' ? item(layout.length - idx - 1) : item));
}

export function deviceFilter(rules: DeviceRule[]): DeviceProgram {
  const emu = DeviceEmulator.fromRules(rules);
  const clean = emu.rules();
  const insns = prologue();
  let blocks = 0;
  clean.forEach((rule, idx) => {
    if (rule.type === 'a') {
      // Only the first rule may be a wildcard, switching to allow-all mode: that is the default verdict.
      if (idx !== 0 || rule.allow !== emu.defaultAllow) throw new CgroupError('devices', `internal error: bad wildcard rule at ${idx}`);
      return;
    }
    if (rule.allow === emu.defaultAllow) throw new CgroupError('devices', `internal error: no-op rule at ${idx}`);
    insns.push(...ruleBlock(rule));
    blocks++;
  });
  insns.push(insn.movImm32(0, emu.defaultAllow ? 1 : 0), insn.exit());
  return { insns, code: encodeInsns(insns), blocks, defaultAllow: emu.defaultAllow };
}
