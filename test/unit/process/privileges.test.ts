import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerError } from '../../../lib/errors';
import { requirePrivileges } from '../../../lib/process/privileges';

const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\n`;

// In this order: a success is remembered for the rest of the process.
test('requirePrivileges: without CAP_SYS_ADMIN in the effective set, ERR_NOT_PRIVILEGED saying why', () => {
  for (const capEff of ['0000000000000000', '00000000001fffff' /* bits 0-20 */, 'ffffffffffdfffff' /* all but 21 */]) {
    assert.throws(() => requirePrivileges(() => status(capEff)), (e: unknown) => e instanceof ContainerError && e.code === 'ERR_NOT_PRIVILEGED' && /needs root \(CAP_SYS_ADMIN/.test(e.message), capEff);
  }
  assert.throws(() => requirePrivileges(() => 'Name:\tnode\n'), (e: unknown) => e instanceof ContainerError && e.code === 'ERR_NOT_PRIVILEGED', 'no CapEff line');
});

test('requirePrivileges: CAP_SYS_ADMIN (bit 21) is enough', () => {
  requirePrivileges(() => status('0000000000200000'));
  requirePrivileges(() => status('000001ffffffffff'));
});
