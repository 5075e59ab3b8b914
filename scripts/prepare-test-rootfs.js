#!/usr/bin/env node
'use strict';
// Builds test/.rootfs, the busybox root filesystem the integration tests run containers in.
// Idempotent: a stamp file records what the rootfs was built from, so a re-run with the same
// busybox returns at once. Never deletes anything: the rootfs is updated in place, so a
// mount leaked into it by a failed test can never turn a rebuild into a recursive delete
// through that mount.

const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { isStaticElf } = require('./elf');

const root = path.resolve(__dirname, '..');
const rootfs = path.join(root, 'test', '.rootfs');
const busyboxHost = '/bin/busybox';
// Bump when the layout below changes, so existing rootfs dirs are brought up to date.
const LAYOUT_VERSION = 1;
const STAMP = '.nlc-rootfs-stamp';
const TESTER = { uid: 1000, gid: 1000 };

const FILES = {
  'etc/passwd':
    'root:x:0:0:root:/root:/bin/sh\n' +
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' +
    'tester:x:1000:1000::/home/tester:/bin/sh\n',
  'etc/group': 'root:x:0:\ntester:x:1000:\nusers:x:100:\nnogroup:x:65534:\n',
  'etc/hostname': 'nlc-test\n',
  'etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost\n',
};
const DIRS = [
  ['bin', 0o755],
  ['sbin', 0o755],
  ['etc', 0o755],
  ['proc', 0o555],
  ['sys', 0o555],
  ['dev', 0o755],
  ['tmp', 0o1777],
  ['root', 0o700],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['home', 0o755],
  ['home/tester', 0o755],
];

function run(cmd, args) {
  console.log(`prepare-test-rootfs: running: ${cmd} ${args.join(' ')}`);
  const res = childProcess.spawnSync(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${res.status ?? res.signal}`);
}

function ensureStaticBusybox() {
  if (isStaticElf(busyboxHost)) return;
  const why = fs.existsSync(busyboxHost) ? `${busyboxHost} is not statically linked` : `${busyboxHost} is missing`;
  console.log(`prepare-test-rootfs: ${why}; installing busybox-static with apt-get`);
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', '--no-install-recommends', 'busybox-static']);
  if (!isStaticElf(busyboxHost)) throw new Error(`${busyboxHost} is still not a static busybox after installing busybox-static`);
}

/** Mount points under the rootfs in our mount namespace: left by a failed test run. */
function mountsUnder(dir) {
  const found = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (!mountPoint) continue;
    const decoded = mountPoint.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)));
    if (decoded === dir || decoded.startsWith(dir + '/')) found.push(decoded);
  }
  return found;
}

function stampFor(busybox) {
  const hash = crypto.createHash('sha256').update(busybox).digest('hex');
  return JSON.stringify({ layout: LAYOUT_VERSION, busybox: hash }) + '\n';
}

/** Replace whatever is at `link` with a symlink to `target`, unless it already is one. */
function symlink(target, link) {
  let current;
  try {
    current = fs.readlinkSync(link);
  } catch (err) {
    if (err.code !== 'ENOENT' && err.code !== 'EINVAL') throw err;
  }
  if (current === target) return;
  if (current !== undefined || fs.existsSync(link)) fs.unlinkSync(link);
  fs.symlinkSync(target, link);
}

function writeFile(rel, text, mode = 0o644) {
  const file = path.join(rootfs, rel);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

function build(busybox) {
  for (const [rel, mode] of DIRS) {
    const dir = path.join(rootfs, rel);
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, mode);
  }
  fs.chownSync(path.join(rootfs, 'home/tester'), TESTER.uid, TESTER.gid);

  // The busybox inside the rootfs is a copy (the container must not see the host's file);
  // applets are absolute symlinks to /bin/busybox, which resolve inside the container.
  const target = path.join(rootfs, 'bin', 'busybox');
  const tmp = `${target}.tmp`;
  fs.writeFileSync(tmp, busybox, { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, target);

  const list = childProcess.execFileSync(target, ['--list'], { encoding: 'utf8' });
  const applets = list.split('\n').filter((name) => name && name !== 'busybox' && !name.includes('/'));
  for (const applet of applets) symlink('/bin/busybox', path.join(rootfs, 'bin', applet));

  for (const [rel, text] of Object.entries(FILES)) writeFile(rel, text);
  return applets.length;
}

function main() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.log('prepare-test-rootfs: not root; integration tests need root and will be skipped');
    return;
  }
  ensureStaticBusybox();
  const busybox = fs.readFileSync(busyboxHost);
  const stamp = stampFor(busybox);
  const stampFile = path.join(rootfs, STAMP);
  try {
    if (fs.readFileSync(stampFile, 'utf8') === stamp) {
      console.log(`prepare-test-rootfs: ${path.relative(root, rootfs)} is up to date`);
      return;
    }
  } catch {
    // no stamp yet: build
  }
  const leaked = mountsUnder(rootfs);
  if (leaked.length > 0) {
    throw new Error(`refusing to touch ${rootfs}: mounts below it (left by a test?): ${leaked.join(', ')}`);
  }
  const applets = build(busybox);
  writeFile(STAMP, stamp);
  console.log(`prepare-test-rootfs: built ${path.relative(root, rootfs)} (busybox with ${applets} applets)`);
}

try {
  main();
} catch (err) {
  console.error(`prepare-test-rootfs: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
