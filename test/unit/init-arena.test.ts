import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The musl build of the init helper links its own malloc (addon/init/musl/arena.c) in place of
// musl's. test/native/arena-check.c exercises it the same way, linked against musl: blocks that
// must not overlap through frees and reuse, realloc keeping contents, calloc of a reused block,
// own mappings, alignment, and failures with ENOMEM/EINVAL.
const root = path.resolve(__dirname, '..', '..', '..');

function hasMuslGcc(): boolean {
  return spawnSync('musl-gcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

test('the musl helper\'s malloc (arena.c) passes its checks', { skip: hasMuslGcc() ? false : 'no musl-gcc (apt-get install musl-tools musl-dev)' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-arena-'));
  try {
    const exe = path.join(dir, 'arena-check');
    // Both with -fno-builtin, as the build compiles arena.c: GCC would otherwise assume its own
    // malloc semantics across the test's free()/calloc() pairs, and rewrite calloc itself.
    const flags = ['-O2', '-fno-builtin', '-Wall', '-Wextra', '-Wno-alloc-size-larger-than', '-static'];
    execFileSync('musl-gcc', [...flags, '-o', exe, path.join(root, 'test/native/arena-check.c'), path.join(root, 'addon/init/musl/arena.c')], { stdio: 'pipe' });
    const run = spawnSync(exe, [], { encoding: 'utf8' });
    assert.equal(run.status, 0, `arena-check failed: ${run.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
