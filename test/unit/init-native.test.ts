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
