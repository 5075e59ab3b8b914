#!/usr/bin/env node
'use strict';
// Builds the init helper against musl instead of glibc, as `<out>` (binding.gyp and
// CMakeLists.txt run it next to the glibc build: build/Release/nlc-init-musl), when the
// machine has musl (Debian/Ubuntu: apt-get install musl-tools musl-dev). The runtime prefers
// it to nlc-init (lib/native/binding.ts).
//
// Why: glibc's static start-up probes the CPU's features and caches with CPUID instructions,
// and in a VM each one traps to the hypervisor. Measured on the 2-CPU VM of bench/: an exec
// and exit of the helper 0.20-0.33 ms of CPU against 0.60-0.65 ms for the glibc build, and in
// scenario 5's work machine CPU per container -4% (bench/ab.js, 30 pairs each way round).
//
// Best effort: without musl, or if the build or its check fails, it removes any old `<out>`,
// says why on stderr and exits 0; the glibc nlc-init, which is always built, is then used.
// NLC_INIT_LIBC=glibc at build time skips it on purpose.
//
//   node scripts/build-init-musl.js <out>

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const INIT_DIR = path.join(ROOT, 'addon', 'init');
const MUSL_LIB = '/usr/lib/x86_64-linux-musl';
const MUSL_INCLUDE = '/usr/include/x86_64-linux-musl';

function say(message) {
  process.stderr.write(`build-init-musl: ${message}\n`);
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(cmd, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(-3).join(' ')}: exit ${code}\n${stderr.trim()}`))));
  });
}

function output(cmd, args) {
  return childProcess.execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}

/** Everything the build needs from the machine, or a reason it cannot be done here. */
function toolchain() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { missing: `${process.platform}/${process.arch}: only x86_64 Linux is set up` };
  for (const f of [`${MUSL_LIB}/rcrt1.o`, `${MUSL_LIB}/crti.o`, `${MUSL_LIB}/crtn.o`, `${MUSL_LIB}/libc.a`, `${MUSL_INCLUDE}/stdlib.h`]) {
    if (!fs.existsSync(f)) return { missing: `no ${f} (apt-get install musl-tools musl-dev)` };
  }
  let version;
  let triplet;
  try {
    version = output('g++', ['-dumpversion']).split('.')[0];
    triplet = output('g++', ['-dumpmachine']);
  } catch (err) {
    return { missing: `no g++ (${err.message})` };
  }
  const file = (name) => output('g++', [`-print-file-name=${name}`]);
  const cxxInclude = [`/usr/include/c++/${version}`, `/usr/include/${triplet}/c++/${version}`, `/usr/include/c++/${version}/backward`];
  const gccInclude = file('include');
  const kernel = { linux: '/usr/include/linux', asm: `/usr/include/${triplet}/asm`, 'asm-generic': '/usr/include/asm-generic' };
  for (const dir of [...cxxInclude.slice(0, 2), gccInclude, ...Object.values(kernel)]) {
    if (!fs.existsSync(dir)) return { missing: `no ${dir}` };
  }
  const archives = ['libstdc++.a', 'libsupc++.a', 'libgcc.a', 'libgcc_eh.a', 'crtbeginS.o', 'crtendS.o'].map(file);
  const absent = archives.find((a) => !path.isAbsolute(a) || !fs.existsSync(a));
  if (absent) return { missing: `g++ has no ${absent}` };
  const [libstdcxx, libsupcxx, libgcc, libgccEh, crtbegin, crtend] = archives;
  return { cxxInclude, gccInclude, kernel, libstdcxx, libsupcxx, libgcc, libgccEh, crtbegin, crtend };
}

async function build(out, tc) {
  const work = `${out}.work`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, 'kernel'), { recursive: true });
  // The kernel's uapi headers (linux/, asm/), without the rest of glibc's include directory.
  for (const [name, target] of Object.entries(tc.kernel)) fs.symlinkSync(target, path.join(work, 'kernel', name));
  const includes = ['-nostdinc', ...tc.cxxInclude.flatMap((d) => ['-isystem', d]), '-isystem', tc.gccInclude, '-isystem', MUSL_INCLUDE, '-isystem', path.join(work, 'kernel')];
  const common = ['-O2', '-fPIE', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Wno-missing-field-initializers'];
  const sources = fs.readdirSync(INIT_DIR).filter((f) => f.endsWith('.cc')).sort();
  const jobs = sources.map((f) => ['g++', ['-std=c++20', ...common, '-include', path.join(INIT_DIR, 'musl', 'libstdcxx-shim.h'), ...includes, '-I', INIT_DIR, '-c', path.join(INIT_DIR, f), '-o', path.join(work, `${f}.o`)]]);
  const cIncludes = ['-nostdinc', '-isystem', tc.gccInclude, '-isystem', MUSL_INCLUDE, '-isystem', path.join(work, 'kernel')];
  // compat.c: what the glibc-built C++ archives need from a C library; arena.c: our malloc.
  const cSources = ['compat.c', 'arena.c'];
  for (const f of cSources) jobs.push(['gcc', [...common, '-fno-builtin', ...cIncludes, '-c', path.join(INIT_DIR, 'musl', f), '-o', path.join(work, `${f}.o`)]]);
  // As many compilers at once as there are CPUs.
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [cmd, args] = jobs[next++];
      await run(cmd, args);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, os.cpus().length) }, worker));
  const objects = [...sources, ...cSources].map((f) => path.join(work, `${f}.o`));
  const tmp = `${out}.tmp`;
  // Static and position independent as the glibc build (ASLR kept), with musl's start files.
  await run('g++', [
    '-static-pie', '-nostdlib', '-o', tmp,
    `${MUSL_LIB}/rcrt1.o`, `${MUSL_LIB}/crti.o`, tc.crtbegin, ...objects,
    '-Wl,--start-group', tc.libstdcxx, tc.libsupcxx, tc.libgcc, tc.libgccEh, `${MUSL_LIB}/libc.a`, '-Wl,--end-group',
    tc.crtend, `${MUSL_LIB}/crtn.o`,
  ]);
  // It must start and answer as the helper does when run by hand: the usage line, exit 2.
  const check = childProcess.spawnSync(tmp, [], { encoding: 'utf8' });
  if (check.status !== 2 || !/^nlc-init: usage:/.test(check.stderr)) {
    throw new Error(`the built helper does not run as expected (exit ${check.status}, signal ${check.signal}, stderr ${JSON.stringify(check.stderr)})`);
  }
  // And its exceptions must unwind (libgcc finding the tables through our _dl_find_object):
  // given /dev/null for a sync socket, reading the plan fails, the error is thrown, caught
  // and reported, and the helper exits 1. A broken unwinder aborts instead.
  const thrown = childProcess.spawnSync(tmp, ['0'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (thrown.status !== 1 || thrown.signal !== null) {
    throw new Error(`the built helper does not handle its own errors (exit ${thrown.status}, signal ${thrown.signal}, stderr ${JSON.stringify(thrown.stderr)})`);
  }
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
  fs.rmSync(work, { recursive: true, force: true });
}

async function main() {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node scripts/build-init-musl.js <out>');
  const target = path.resolve(out);
  fs.rmSync(target, { force: true });
  if (process.env.NLC_INIT_LIBC === 'glibc') {
    say('not built: NLC_INIT_LIBC=glibc; the helper is the glibc build');
    return;
  }
  const tc = toolchain();
  if (tc.missing) {
    say(`not built: ${tc.missing}; the helper is the glibc build`);
    return;
  }
  try {
    await build(target, tc);
    say(`built ${target}`);
  } catch (err) {
    fs.rmSync(target, { force: true });
    fs.rmSync(`${target}.tmp`, { force: true });
    fs.rmSync(`${target}.work`, { recursive: true, force: true });
    say(`not built (the helper is the glibc build): ${err.message}`);
  }
}

main().catch((err) => {
  say(err.message);
  process.exit(1);
});
