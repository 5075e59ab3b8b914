// The host-sandbox preset run for real, as a CI runner uses it: the host's toolchain read-only,
// a workspace read-write, a writable HOME and /var/tmp, no network, nothing of the host's secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
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

test('cleanup() of a sandbox whose container runs refuses (ERR_SANDBOX_BUSY) and leaves the step working', { skip }, async () => {
  const t = tempRoot();
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-ws-'));
  const sb = hostSandbox({ args: ['/bin/sh', '-c', 'read line; echo "$line" > /workspace/out; ls /usr/bin/env'], workspace });
  try {
    const c = await createContainer('host-sandbox-busy', sb.config, { root: t.root });
    try {
      const p = await c.run({ stdio: ['pipe', 'pipe', 'pipe'] });
      const outs = Promise.all([collect(p.stdout!), collect(p.stderr!)]);
      await assert.rejects(sb.cleanup(), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_SANDBOX_BUSY');
        assert.match(err.message, new RegExp(`is still the root of running processes \\(pids ${p.pid}\\)`));
        return true;
      });
      assert.ok(fs.existsSync(path.join(sb.rootfs, 'etc', 'passwd')));
      p.stdin!.end('still-here\n');
      const [out, err] = await outs;
      assert.deepEqual(await p.wait(), { exitCode: 0, signal: null }, err);
      assert.equal(out, '/usr/bin/env\n'); // its /usr still mounted
      assert.equal(fs.readFileSync(path.join(workspace, 'out'), 'utf8'), 'still-here\n');
    } finally {
      await c.destroy();
    }
    await sb.cleanup();
    assert.equal(fs.existsSync(sb.rootfs), false);
  } finally {
    await sb.cleanup().catch(() => {});
    fs.rmSync(workspace, { recursive: true, force: true });
    await t.cleanup();
  }
});

test('a rootfs whose Node process died is kept by the next hostSandbox() while its container runs, and removed after', { skip }, async () => {
  const t = tempRoot();
  const sb = hostSandbox({ args: ['/bin/sh', '-c', 'read line; ls /usr/bin/env'] });
  // As if its Node process had died: the rootfs renamed to a dead owner's name.
  const dead = spawnSync('/bin/true').pid;
  const rootfs = path.join(os.tmpdir(), `nlc-sandbox-${dead}-Busy01`);
  fs.renameSync(sb.rootfs, rootfs);
  sb.config.root!.path = rootfs;
  try {
    const c = await createContainer('host-sandbox-stale', sb.config, { root: t.root });
    try {
      const p = await c.run({ stdio: ['pipe', 'pipe', 'pipe'] });
      const outs = Promise.all([collect(p.stdout!), collect(p.stderr!)]);
      await hostSandbox().cleanup(); // its sweep must pass over the rootfs in use
      assert.ok(fs.existsSync(path.join(rootfs, 'etc', 'passwd')));
      p.stdin!.end('go\n');
      const [out, err] = await outs;
      assert.deepEqual(await p.wait(), { exitCode: 0, signal: null }, err);
      assert.equal(out, '/usr/bin/env\n');
    } finally {
      await c.destroy();
    }
    await hostSandbox().cleanup(); // nothing uses it now
    assert.equal(fs.existsSync(rootfs), false);
  } finally {
    fs.rmSync(rootfs, { recursive: true, force: true });
    await t.cleanup();
  }
});

test('a sandbox user other than root has a name: whoami and id -gn work, HOME is /tmp', { skip }, async () => {
  const t = tempRoot();
  const sb = hostSandbox({ args: ['/bin/sh', '-c', 'whoami; id -gn; echo "$HOME"'], user: { uid: 1000, gid: 1000 } });
  try {
    const c = await createContainer('host-sandbox-user', sb.config, { root: t.root });
    try {
      const p = await c.run({ stdio: ['ignore', 'pipe', 'pipe'] });
      const [out, err] = await Promise.all([collect(p.stdout!), collect(p.stderr!)]);
      assert.deepEqual(await p.wait(), { exitCode: 0, signal: null }, err);
      assert.equal(out, 'sandbox\nsandbox\n/tmp\n');
    } finally {
      await c.destroy();
    }
  } finally {
    await sb.cleanup();
    await t.cleanup();
  }
});
