import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareConfig } from '../../../lib/process/prepared';
import { ConfigError } from '../../../lib/errors';

let bundle: string;

beforeEach(() => {
  bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-prepared-'));
  fs.mkdirSync(path.join(bundle, 'rootfs'));
  fs.mkdirSync(path.join(bundle, 'data'));
});

afterEach(() => {
  fs.rmSync(bundle, { recursive: true, force: true });
});

function config(): Record<string, any> {
  return {
    ociVersion: '1.0.2',
    root: { path: 'rootfs', readonly: true },
    hostname: 'one',
    process: { args: ['/bin/true'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }],
      resources: { memory: { limit: 64 * 1024 * 1024 } },
      maskedPaths: ['/proc/kcore'],
    },
  };
}

const fieldIs = (field: string) => (err: unknown) => err instanceof ConfigError && err.field === field;

test('the same unchanged object is validated and planned once', () => {
  const cfg = config();
  const a = prepareConfig(cfg, bundle);
  const b = prepareConfig(cfg, bundle);
  assert.equal(b.spec, a.spec);
  assert.equal(b.plan, a.plan);
  assert.equal(a.rootfs, path.join(bundle, 'rootfs'));
  // The container gets a frozen copy, not the caller's object.
  assert.notEqual(a.spec, cfg);
  assert.deepEqual(a.spec, cfg);
  assert.ok(Object.isFrozen(a.spec) && Object.isFrozen(a.spec.process!.args) && Object.isFrozen(a.plan.bootstrap));
  assert.throws(() => {
    (a.spec as any).hostname = 'x';
  }, TypeError);
  // An equal but distinct object is prepared on its own.
  assert.notEqual(prepareConfig(config(), bundle).spec, a.spec);
});

test('a changed object is validated again: bad values are refused, good ones used', () => {
  const cfg = config();
  const first = prepareConfig(cfg, bundle);
  cfg.hostname = 42;
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('hostname'));
  cfg.hostname = 'two';
  const second = prepareConfig(cfg, bundle);
  assert.equal(second.spec.hostname, 'two');
  assert.equal((second.plan.bootstrap as { hostname: string }).hostname, 'two');
  // The first container's copy is untouched.
  assert.equal(first.spec.hostname, 'one');

  // Deep changes, and values JSON cannot tell apart from valid ones, are caught too.
  cfg.linux.resources.memory.limit = NaN;
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('linux.resources.memory.limit'));
  cfg.linux.resources.memory.limit = 1024 * 1024;
  assert.equal(prepareConfig(cfg, bundle).spec.linux!.resources!.memory!.limit, 1024 * 1024);
  cfg.process.args.push(undefined);
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('process.args[1]'));
  cfg.process.args.pop();
  cfg.linux.namespaces.push({ type: 'pid' });
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('linux.namespaces[3].type'));
  cfg.linux.namespaces.pop();
  delete cfg.hostname;
  assert.equal(prepareConfig(cfg, bundle).spec.hostname, undefined);
});

test('a config that is not plain data is validated on every call and used as given', () => {
  const cfg: Record<string, any> = { ...config(), annotations: { when: 'now' }, extra: () => 'not data' };
  const a = prepareConfig(cfg, bundle);
  assert.equal(a.spec, cfg);
  assert.ok(!Object.isFrozen(cfg));
  cfg.hostname = 7;
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('hostname'));
  // A cycle outside the fields the runtime reads is accepted, as before.
  const cyclic = config();
  cyclic.self = cyclic;
  assert.equal(prepareConfig(cyclic, bundle).spec, cyclic);
});

test('bind sources, the rootfs and the bundle are checked on every call', () => {
  const cfg = config();
  const dirPlan = prepareConfig(cfg, bundle).plan;
  const bind = () => (prepareConfig(cfg, bundle).plan.bootstrap.mounts as { isBind: boolean; isFile: boolean }[]).find((m) => m.isBind)!;
  assert.equal(bind().isFile, false);
  assert.equal(prepareConfig(cfg, bundle).plan, dirPlan);

  // The source became a file: planned again, as a file.
  fs.rmdirSync(path.join(bundle, 'data'));
  fs.writeFileSync(path.join(bundle, 'data'), '');
  assert.equal(bind().isFile, true);
  // It went away: the same error as on a first call.
  fs.rmSync(path.join(bundle, 'data'));
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('mounts[1].source'));
  fs.mkdirSync(path.join(bundle, 'data'));
  assert.equal(bind().isFile, false);

  fs.rmdirSync(path.join(bundle, 'rootfs'));
  assert.throws(() => prepareConfig(cfg, bundle), (e: unknown) => fieldIs('root.path')(e) && /does not exist/.test((e as Error).message));
  fs.mkdirSync(path.join(bundle, 'rootfs'));

  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-prepared-other-'));
  try {
    fs.mkdirSync(path.join(other, 'rootfs'));
    fs.mkdirSync(path.join(other, 'data'));
    const moved = prepareConfig(cfg, other);
    assert.equal(moved.rootfs, path.join(other, 'rootfs'));
    assert.equal((moved.plan.bootstrap as { rootfs: string }).rootfs, path.join(other, 'rootfs'));
  } finally {
    fs.rmSync(other, { recursive: true, force: true });
  }
});

test('errors come in the order of a first call: config, root.path, rootfs, plan', () => {
  assert.throws(() => prepareConfig(null, bundle), fieldIs('(config)'));
  assert.throws(() => prepareConfig({ ...config(), root: undefined }, bundle), fieldIs('root'));
  assert.throws(() => prepareConfig({ ...config(), root: {} }, bundle), fieldIs('root.path'));
  assert.throws(() => prepareConfig({ ...config(), root: { path: 'nowhere' } }, bundle), fieldIs('root.path'));
  const noUts = config();
  noUts.linux.namespaces = [{ type: 'pid' }, { type: 'mount' }];
  assert.throws(() => prepareConfig(noUts, bundle), fieldIs('hostname'));
});
