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

/** A first call marks the object; the second prepares the copy later calls reuse. */
function prime(cfg: object, at = bundle) {
  prepareConfig(cfg, at);
  return prepareConfig(cfg, at);
}

test('an object passed again is copied once, then not validated nor planned again while unchanged', () => {
  const cfg = config();
  // A first call uses the object as given (a caller who builds a config per container keeps
  // nothing alive and pays for no copy).
  const first = prepareConfig(cfg, bundle);
  assert.equal(first.spec, cfg);
  assert.ok(!Object.isFrozen(cfg) && !Object.isFrozen(first.plan.bootstrap));
  const a = prepareConfig(cfg, bundle);
  const b = prepareConfig(cfg, bundle);
  assert.equal(b.spec, a.spec);
  assert.equal(b.plan, a.plan);
  assert.equal(a.rootfs, path.join(bundle, 'rootfs'));
  assert.equal(a.bundle, bundle);
  // From the second call, a frozen copy, not the caller's object.
  assert.notEqual(a.spec, cfg);
  assert.deepEqual(a.spec, cfg);
  assert.deepEqual(a.plan, first.plan);
  assert.ok(Object.isFrozen(a.spec) && Object.isFrozen(a.spec.process!.args) && Object.isFrozen(a.plan.bootstrap));
  assert.ok(!Object.isFrozen(cfg) && !Object.isFrozen(cfg.process.args));
  assert.throws(() => {
    (a.spec as any).hostname = 'x';
  }, TypeError);
  // An equal but distinct object gets its own copy.
  const twin = prime(config());
  assert.notEqual(twin.spec, a.spec);
  assert.deepEqual(twin.spec, a.spec);
});

test('a changed object is validated again: bad values are refused, good ones used', () => {
  const cfg = config();
  const first = prime(cfg);
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

test('SameValue decides: NaN stays NaN, -0 is not 0, a hole is not undefined', () => {
  const cfg = config();
  cfg.annotations = { note: 'x' };
  cfg.extra = { ratio: NaN, zero: 0 };
  const a = prime(cfg);
  assert.equal(prepareConfig(cfg, bundle).spec, a.spec, 'NaN against NaN is the same data');
  cfg.extra.zero = -0;
  const b = prepareConfig(cfg, bundle);
  assert.notEqual(b.spec, a.spec, '-0 against 0 is a change');
  assert.ok(Object.is((b.spec as any).extra.zero, -0));
  // An explicit undefined where the copy has undefined is the same data...
  cfg.process.env.push(undefined);
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('process.env[1]'));
  cfg.process.env.pop();
  const c = prepareConfig(cfg, bundle);
  // ...but a hole is not: a sparse array is not plain data, it is validated and used as given.
  const env = cfg.process.env as unknown[];
  env.length = 3;
  env[2] = 'A=1';
  const d = prepareConfig(cfg, bundle);
  assert.notEqual(d.spec, c.spec);
  assert.equal(d.spec, cfg);
  // A hole where the copy holds undefined is a change too.
  const holes = config();
  holes.extra = [undefined, 1];
  const e = prime(holes);
  assert.equal(prepareConfig(holes, bundle).spec, e.spec);
  delete holes.extra[0];
  assert.equal(prepareConfig(holes, bundle).spec, holes);
});

test('a config that is not plain data is validated on every call, used as given, and not frozen', () => {
  for (const extra of [() => 'not data', new Map(), new Date(0), Symbol('s')]) {
    const cfg: Record<string, any> = { ...config(), extra };
    const a = prime(cfg);
    assert.equal(a.spec, cfg);
    for (const part of [cfg, cfg.process, cfg.process.args, cfg.process.env, cfg.linux, cfg.linux.namespaces]) assert.ok(!Object.isFrozen(part));
    cfg.process.env.push('B=2'); // still the caller's to change
    cfg.hostname = 7;
    assert.throws(() => prepareConfig(cfg, bundle), fieldIs('hostname'));
  }
  // A property validation reads but a copy would not carry (not enumerable): used as given.
  const hidden = config();
  Object.defineProperty(hidden.linux, 'namespaces', { value: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network' }], enumerable: false });
  const h = prime(hidden);
  assert.equal(h.spec, hidden);
  assert.equal((h.plan.bootstrap as { loopback: boolean }).loopback, true);
  // One hidden later on an object that was plain is noticed too.
  const later = config();
  const first = prime(later);
  Object.defineProperty(later, 'domainname', { value: 42, enumerable: false, configurable: true });
  assert.throws(() => prepareConfig(later, bundle), fieldIs('domainname'));
  delete later.domainname;
  assert.equal(prepareConfig(later, bundle).spec, first.spec);
  Object.defineProperty(later, 'hostname', { value: 42, enumerable: false });
  assert.throws(() => prepareConfig(later, bundle), fieldIs('hostname'));
  Object.defineProperty(later, 'hostname', { value: 'two', enumerable: false });
  const hiddenNow = prepareConfig(later, bundle);
  assert.equal(hiddenNow.spec, later);
  assert.equal((hiddenNow.plan.bootstrap as { hostname: string }).hostname, 'two');
  assert.equal(first.spec.hostname, 'one');
  // A getter is read once, into the copy.
  let reads = 0;
  const withGetter = config();
  Object.defineProperty(withGetter, 'hostname', { get: () => (reads++, 'got'), enumerable: true });
  assert.equal(prepareConfig(withGetter, bundle).spec.hostname, 'got');
  // A "__proto__" key from JSON.parse stays an own property of the copy.
  const parsed = JSON.parse(JSON.stringify({ ...config(), annotations: { a: 'b' } }).replace('"annotations":{', '"annotations":{"__proto__":"x",'));
  const p = prepareConfig(parsed, bundle);
  assert.equal(Object.getPrototypeOf(p.spec.annotations), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(p.spec.annotations, '__proto__')?.value, 'x');
});

test('bind sources, the rootfs and the bundle are checked on every call', () => {
  const cfg = config();
  const dirPlan = prime(cfg).plan;
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
    assert.equal(moved.bundle, other);
    assert.equal((moved.plan.bootstrap as { rootfs: string }).rootfs, path.join(other, 'rootfs'));
  } finally {
    fs.rmSync(other, { recursive: true, force: true });
  }
});

test('errors come in the order of the checks, on a first call and on reuse: config, bundle, root.path, rootfs, plan', () => {
  const badConfigAndBundle = { ...config(), hostname: 1 };
  assert.throws(() => prepareConfig(badConfigAndBundle, 42 as unknown as string), fieldIs('hostname'));
  assert.throws(() => prepareConfig(config(), 42 as unknown as string), TypeError);
  const noPath = { ...config(), root: {} };
  fs.rmdirSync(path.join(bundle, 'rootfs'));
  assert.throws(() => prepareConfig(noPath, bundle), fieldIs('root.path'));
  assert.throws(() => prepareConfig(noPath, bundle), (e: unknown) => fieldIs('root.path')(e) && /is required/.test((e as Error).message));
  // No rootfs and a bad bind source: the rootfs is named first...
  const cfg = config();
  fs.rmdirSync(path.join(bundle, 'data'));
  assert.throws(() => prepareConfig(cfg, bundle), (e: unknown) => fieldIs('root.path')(e) && /does not exist/.test((e as Error).message));
  // ...then the plan's own check.
  fs.mkdirSync(path.join(bundle, 'rootfs'));
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('mounts[1].source'));
  // The same order on the reuse path.
  fs.mkdirSync(path.join(bundle, 'data'));
  prime(cfg);
  fs.rmdirSync(path.join(bundle, 'data'));
  fs.rmdirSync(path.join(bundle, 'rootfs'));
  assert.throws(() => prepareConfig(cfg, bundle), (e: unknown) => fieldIs('root.path')(e) && /does not exist/.test((e as Error).message));
  fs.mkdirSync(path.join(bundle, 'rootfs'));
  assert.throws(() => prepareConfig(cfg, bundle), fieldIs('mounts[1].source'));
  assert.throws(() => prepareConfig(cfg, 42 as unknown as string), TypeError);
});

test('a config asking for what this runtime does not do is refused, naming the field; an empty ask is accepted', () => {
  const refused: [section: 'process' | 'linux', key: string, value: unknown, message: RegExp][] = [
    ['process', 'apparmorProfile', 'docker-default', /AppArmor.*unconfined/],
    ['process', 'selinuxLabel', 'system_u:system_r:container_t:s0', /SELinux/],
    ['linux', 'mountLabel', 'system_u:object_r:container_file_t:s0', /SELinux/],
    ['linux', 'intelRdt', { closID: 'x' }, /RDT/],
    ['linux', 'netDevices', { eth1: {} }, /network devices/],
  ];
  for (const [section, key, value, message] of refused) {
    const c = config();
    c[section][key] = value;
    assert.throws(() => prepareConfig(c, bundle), (e: unknown) => fieldIs(`${section}.${key}`)(e) && message.test((e as Error).message), `${section}.${key}`);
  }
  const c = config();
  Object.assign(c.process, { terminal: false, apparmorProfile: '', selinuxLabel: '' });
  Object.assign(c.linux, { mountLabel: '', netDevices: {} });
  assert.doesNotThrow(() => prepareConfig(c, bundle));
});
