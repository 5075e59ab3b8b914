import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initHelperExecFailed, sealedInitHelper } from '../../lib/native/binding';
import type { NativeBinding, SealKind } from '../../lib/native/types';

// One fake binding whose sealExecutable hands out numbered copies of the given kind.
function fakeBinding(kind: SealKind): { binding: NativeBinding; seals: () => number } {
  let n = 0;
  const binding = { sealExecutable: () => ({ fd: 100 + ++n, kind }) } as unknown as NativeBinding;
  return { binding, seals: () => n };
}

const refused = (code: string) => Object.assign(new Error(`spawnAsync: execveat: ${code}`), { code, syscall: 'execveat' });

test('the helper is copied once, and a memfd copy whose exec is refused is made again for the next start', () => {
  const { binding, seals } = fakeBinding('memfd');
  const first = sealedInitHelper(binding);
  assert.equal(sealedInitHelper(binding), first);
  assert.equal(seals(), 1);
  // Failures that say nothing about the copy keep it.
  initHelperExecFailed(Object.assign(new Error('clone'), { code: 'ENOMEM', syscall: 'clone3' }));
  initHelperExecFailed(Object.assign(new Error('exec'), { code: 'ENOMEM', syscall: 'execveat' }));
  assert.equal(sealedInitHelper(binding), first);
  // chmod 0 by a container (EACCES), or a writer it holds open (ETXTBSY): a new copy.
  initHelperExecFailed(refused('EACCES'));
  const second = sealedInitHelper(binding);
  assert.notEqual(second, first);
  initHelperExecFailed(refused('ETXTBSY'));
  assert.notEqual(sealedInitHelper(binding), second);
  assert.equal(seals(), 3);

  // A tmpfs copy cannot be made unusable (chmod and writers get EROFS): it is kept.
  initHelperExecFailed(refused('EACCES'));
  const tmpfs = fakeBinding('tmpfs');
  const kept = sealedInitHelper(tmpfs.binding);
  initHelperExecFailed(refused('EACCES'));
  assert.equal(sealedInitHelper(tmpfs.binding), kept);
  assert.equal(tmpfs.seals(), 1);
});
