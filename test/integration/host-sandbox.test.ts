// The host-sandbox preset run for real, as a CI runner uses it: the host's toolchain read-only,
// a workspace read-write, a writable HOME and /var/tmp, no network, nothing of the host's secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createContainer, hostSandbox } from '../../lib';
import { collect, skipUnlessRoot, tempRoot } from './helpers';

const skip = skipUnlessRoot();

test('a build step in the host sandbox: toolchain links, HOME, /var/tmp and the workspace writable; /usr, network and secrets not', { skip }, async () => {
  const t = tempRoot();
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-ws-'));
  process.env.NLC_TEST_SECRET = 'do-not-leak';
  const checks = [
    // Debian's cc and awk are links into /etc/alternatives (checked only where the host has them).
    fs.existsSync('/etc/alternatives/cc') ? 'cc --version >/dev/null && echo cc-ok' : 'echo cc-ok',
    fs.existsSync('/etc/alternatives/awk') ? "awk 'BEGIN { print \"awk-ok\" }'" : 'echo awk-ok',
    'echo x > "$HOME/.config-file" && echo home-ok',
    'echo y > /var/tmp/f && echo vartmp-ok',
    'echo z > /workspace/out && echo workspace-ok',
    '(echo w > /usr/nlc-test-file) 2>/dev/null || echo usr-ro',
    'echo "net $(grep -c : /proc/net/dev)"',
    'echo "secret=${NLC_TEST_SECRET:-none}"',
    'test -e /etc/shadow || echo no-shadow',
  ];
  const sb = hostSandbox({ args: ['/bin/sh', '-c', checks.join('; ')], workspace, memoryLimit: 256 * 2 ** 20, pidsLimit: 64 });
  try {
    const c = await createContainer('host-sandbox-step', sb.config, { root: t.root });
    try {
      const p = await c.run({ stdio: ['ignore', 'pipe', 'pipe'] });
      const [out, err] = await Promise.all([collect(p.stdout!), collect(p.stderr!)]);
      assert.deepEqual(await p.wait(), { exitCode: 0, signal: null }, err);
      assert.deepEqual(out.trim().split('\n'), ['cc-ok', 'awk-ok', 'home-ok', 'vartmp-ok', 'workspace-ok', 'usr-ro', 'net 1', 'secret=none', 'no-shadow'], err);
      assert.equal(fs.readFileSync(path.join(workspace, 'out'), 'utf8'), 'z\n');
    } finally {
      await c.destroy();
    }
  } finally {
    delete process.env.NLC_TEST_SECRET;
    await sb.cleanup();
    fs.rmSync(workspace, { recursive: true, force: true });
    await t.cleanup();
  }
});
