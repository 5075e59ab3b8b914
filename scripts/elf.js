'use strict';
// ELF facts the test set-up and the benchmark need about host binaries.
const fs = require('node:fs');

/** True when the ELF file has no PT_INTERP program header (static, or static-pie). */
function isStaticElf(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const ehdr = Buffer.alloc(64);
    if (fs.readSync(fd, ehdr, 0, 64, 0) < 64) return false;
    if (ehdr.readUInt32BE(0) !== 0x7f454c46) return false; // "\x7fELF"
    const is64 = ehdr[4] === 2;
    const le = ehdr[5] === 1;
    const u16 = (b, o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (b, o) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    const phoff = is64 ? u64(ehdr, 32) : u32(ehdr, 28);
    const phentsize = u16(ehdr, is64 ? 54 : 42);
    const phnum = u16(ehdr, is64 ? 56 : 44);
    const table = Buffer.alloc(phentsize * phnum);
    if (fs.readSync(fd, table, 0, table.length, phoff) < table.length) return false;
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) {
      if (u32(table, i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

module.exports = { isStaticElf };
