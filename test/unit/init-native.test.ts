import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Parts of the init helper checked on their own, as small programs built from test/native/:
// - json-check.cc: the helper's JSON parser and serializer (addon/init/json.cc), what it accepts
//   and refuses (with which message), and round trips;
// - arena-check.c: the musl build's own malloc (addon/init/musl/arena.c), linked against musl in
//   place of musl's: blocks that must not overlap through frees and reuse, realloc keeping
//   contents, calloc of a reused block, own mappings, alignment, failures with ENOMEM/EINVAL.
const root = path.resolve(__dirname, '..', '..', '..');

/** Build a check program with compiler and args into a temp dir, run it, and return its result. */
function buildAndRun(compiler: string, args: (exe: string) => string[]): { status: number | null; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-native-check-'));
  try {
    const exe = path.join(dir, 'check');
    execFileSync(compiler, args(exe), { stdio: 'pipe' });
    const run = spawnSync(exe, [], { encoding: 'utf8' });
    return { status: run.status, stderr: run.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the helper\'s JSON parser (json.cc) passes its checks', () => {
  const run = buildAndRun('g++', (exe) => ['-std=c++20', '-O2', '-Wall', '-Wextra', '-I', path.join(root, 'addon/init'), '-o', exe, path.join(root, 'test/native/json-check.cc'), path.join(root, 'addon/init/json.cc')]);
  assert.equal(run.status, 0, `json-check failed: ${run.stderr}`);
});

function hasMuslGcc(): boolean {
  return spawnSync('musl-gcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

test('the musl helper\'s malloc (arena.c) passes its checks', { skip: hasMuslGcc() ? false : 'no musl-gcc (apt-get install musl-tools musl-dev)' }, () => {
  // Both with -fno-builtin, as the build compiles arena.c: GCC would otherwise assume its own
  // malloc semantics across the test's free()/calloc() pairs.
  const flags = ['-O2', '-fno-builtin', '-Wall', '-Wextra', '-Wno-alloc-size-larger-than', '-static'];
  const run = buildAndRun('musl-gcc', (exe) => [...flags, '-o', exe, path.join(root, 'test/native/arena-check.c'), path.join(root, 'addon/init/musl/arena.c')]);
  assert.equal(run.status, 0, `arena-check failed: ${run.stderr}`);
});

// The helper in use must really have arena.c's allocator: musl's mallocng would still link
// and work if arena.o were dropped from the link, only slower. Its own symbols are kept (the
// helper is not stripped), so the symbol table tells which malloc is in.
const muslHelper = path.join(root, 'build/Release/nlc-init-musl');
test('the built musl helper links arena.c\'s malloc, not musl\'s mallocng', { skip: fs.existsSync(muslHelper) ? false : 'no build/Release/nlc-init-musl (musl-gcc missing or NLC_INIT_LIBC=glibc)' }, () => {
  const symbols = new Map<string, string>();
  for (const line of execFileSync('nm', [muslHelper], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+)\s+(\w)\s+(\S+)$/.exec(line);
    if (m) symbols.set(m[3], m[2]);
  }
  for (const name of ['malloc', 'free', 'calloc', 'realloc']) assert.equal(symbols.get(name), 'T', `${name} is not defined in the helper`);
  // arena.c's own state, and none of mallocng's.
  assert.ok(symbols.has('freeLists'), 'arena.c\'s free lists are not in the helper');
  for (const name of ['__malloc_context', '__malloc_alloc_meta', 'alloc_slot']) assert.ok(!symbols.has(name), `mallocng's ${name} is linked into the helper`);
});
