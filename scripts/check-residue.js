#!/usr/bin/env node
'use strict';
// Checks that the test run left nothing behind: state directories, mounts, processes,
// cgroups and temp dirs. Prints each problem and exits 1 if there is any.
// Options: --parent <pid>: also report zombie children of that pid (run-tests passes its own).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const DEFAULT_STATE_ROOT = '/run/node-libcontainer';
const TEST_ROOT_PREFIX = 'nlc-test-';
const SANDBOX_PREFIX = 'nlc-sandbox-';
const MOUNT_MARKERS = ['node-libcontainer', 'nlc-test', 'nlc-sandbox', '.rootfs'];
const CGROUP_PREFIXES = ['node-libcontainer', 'nlc-test'];
const ROOTFS_STAMP = '.nlc-rootfs-stamp'; // written by prepare-test-rootfs.js
const MAX_DEPTH = 6;

const problems = [];
const report = (what) => problems.push(what);

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readDir(dir) {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Every file named `name` below dir (never following symlinks). */
function findFiles(dir, name, depth = 0, out = []) {
  if (depth > MAX_DEPTH) return out;
  for (const entry of readDir(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findFiles(full, name, depth + 1, out);
    else if (entry.name === name) out.push(full);
  }
  return out;
}

function tempDirs(prefix) {
  const tmp = os.tmpdir();
  return readDir(tmp)
    .filter((e) => e.isDirectory() && e.name.startsWith(prefix))
    .map((e) => path.join(tmp, e.name));
}

function checkStateDirs() {
  const roots = [DEFAULT_STATE_ROOT];
  if (process.env.XDG_RUNTIME_DIR) roots.push(path.join(process.env.XDG_RUNTIME_DIR, 'node-libcontainer'));
  for (const root of roots) {
    for (const file of findFiles(root, 'state.json')) report(`container state left behind: ${file}`);
  }
  for (const dir of tempDirs(TEST_ROOT_PREFIX)) {
    const states = findFiles(dir, 'state.json');
    for (const file of states) report(`container state left behind: ${file}`);
    if (states.length === 0) report(`test state root not cleaned up: ${dir}`);
  }
  for (const dir of tempDirs(SANDBOX_PREFIX)) report(`sandbox rootfs not cleaned up: ${dir}`);
}

function decodeMountPath(field) {
  return field.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)));
}

function checkMounts() {
  const info = readText('/proc/self/mountinfo') ?? '';
  for (const line of info.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 5) continue;
    const mountPoint = decodeMountPath(fields[4]);
    const source = decodeMountPath(fields[3]);
    if (MOUNT_MARKERS.some((m) => mountPoint.includes(m) || source.includes(m))) {
      report(`mount left behind: ${mountPoint} (root ${source})`);
    }
  }
}

/** Fields of /proc/PID/stat after the command name (which may contain spaces). */
function statFields(pid) {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const end = stat.lastIndexOf(')');
  return { comm: stat.slice(stat.indexOf('(') + 1, end), rest: stat.slice(end + 2).split(' ') };
}

function checkProcesses(parentPid) {
  const self = String(process.pid);
  const ourPidNs = safeReadlink('/proc/self/ns/pid');
  for (const entry of readDir('/proc')) {
    if (!/^\d+$/.test(entry.name) || entry.name === self) continue;
    const pid = entry.name;
    const stat = statFields(pid);
    if (!stat) continue;
    const [state, ppid] = stat.rest;
    const cmdline = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
    if (state === 'Z' && parentPid !== undefined && (ppid === String(parentPid) || ppid === self)) {
      report(`zombie child not reaped: pid ${pid} (${stat.comm})`);
      continue;
    }
    if (cmdline.includes('nlc-init') || stat.comm.includes('nlc-init')) {
      report(`init helper process left running: pid ${pid} (${cmdline || stat.comm}, state ${state})`);
      continue;
    }
    // A container process whose root is the test rootfs (the stamp file is visible there).
    if (safeReadlink(`/proc/${pid}/ns/pid`) !== ourPidNs && fs.existsSync(`/proc/${pid}/root/${ROOTFS_STAMP}`)) {
      report(`container process left running: pid ${pid} (${cmdline || stat.comm})`);
    }
  }
}

function safeReadlink(p) {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** cgroup mounts: { mountPoint, root, fstype, controllers } from our mountinfo. */
function cgroupMounts() {
  const mounts = [];
  for (const line of (readText('/proc/self/mountinfo') ?? '').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(' ');
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    mounts.push({
      mountPoint: decodeMountPath(fields[4]),
      root: decodeMountPath(fields[3]),
      fstype,
      options: superOptions.split(','),
    });
  }
  return mounts;
}

/** Our own cgroup directory in each hierarchy we can see. */
function ownCgroupDirs() {
  const dirs = new Set();
  const mounts = cgroupMounts();
  for (const line of (readText('/proc/self/cgroup') ?? '').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, , controllers, cgPath] = m;
    const mount =
      controllers === ''
        ? mounts.find((mt) => mt.fstype === 'cgroup2')
        : mounts.find((mt) => mt.fstype === 'cgroup' && controllers.split(',').every((c) => mt.options.includes(c)));
    if (!mount) continue;
    // The mount shows the hierarchy from mount.root down; our path is relative to the root.
    const rel = path.posix.relative(mount.root, cgPath);
    if (rel.startsWith('..')) continue; // our cgroup is not visible through this mount
    dirs.add(path.join(mount.mountPoint, rel));
  }
  return [...dirs];
}

function findCgroups(dir, depth = 0, out = []) {
  if (depth > MAX_DEPTH) return out;
  for (const entry of readDir(dir)) {
    if (!entry.isDirectory()) continue;
    const full = path.join(dir, entry.name);
    if (CGROUP_PREFIXES.some((p) => entry.name.startsWith(p))) out.push(full);
    else findCgroups(full, depth + 1, out);
  }
  return out;
}

function checkCgroups() {
  for (const dir of ownCgroupDirs()) {
    for (const cg of findCgroups(dir)) report(`cgroup left behind: ${cg}`);
  }
}

function parseArgs(argv) {
  const i = argv.indexOf('--parent');
  if (i < 0) return {};
  const pid = Number(argv[i + 1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`--parent needs a pid, got ${argv[i + 1]}`);
  return { parentPid: pid };
}

function main() {
  const { parentPid } = parseArgs(process.argv.slice(2));
  checkStateDirs();
  checkMounts();
  checkProcesses(parentPid);
  checkCgroups();
  if (problems.length === 0) {
    console.log('check-residue: nothing left behind');
    return 0;
  }
  for (const p of problems) console.log(`check-residue: ${p}`);
  console.log(`check-residue: ${problems.length} problem(s)`);
  return 1;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`check-residue: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
