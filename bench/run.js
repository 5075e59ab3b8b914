#!/usr/bin/env node
'use strict';
// The benchmark of issue #4: node-libcontainer against crun, runc, bwrap and the kernel
// floor, in one run on this machine. Needs root. `npm run bench` (builds dist/ first).
//
//   node bench/run.js [--quick] [--rounds=N] [--warmup=N] [--tp-total=N] [--tp-concurrency=N]
//                     [--tp-rounds=N] [--tp-warmup=N] [--mem-containers=N] [--profile-iterations=N]
//                     [--floor-batch=N] [--only=s1,s2m,s2n,s3,s4,s5,s6,profile] [--write|--no-write]
//                     [--state-on-disk]
// Every contender's state root is on a tmpfs of the benchmark's (bench/.work/state), as /run is
// on a production host; --state-on-disk keeps them on the disk bench/ is on instead.
//   node bench/run.js --render-only    re-render docs/performance.md from bench/results/latest.json
// Every option also reads from the environment: BENCH_ROUNDS, BENCH_WARMUP, BENCH_TP_TOTAL, ...
// A full run writes bench/results/latest.json, bench/results/*.svg and docs/performance.md;
// --quick (a smoke run) writes bench/.work/quick.json only, unless --write.
// Timings never go into tests: this is run by hand and its results committed.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const env = require('./lib/env');
const { OciCli, Nlc, Bwrap, Floor, errorLog, spawnCmd, withTimeout } = require('./lib/contenders');
const scenarios = require('./lib/scenarios');
const { profileScenario1 } = require('./lib/profile');
const { summarize } = require('./lib/stats');
const render = require('./lib/render');

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

function parseOptions(argv) {
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const defaults = quick
    ? { rounds: 5, warmup: 1, tpTotal: 40, tpConcurrency: 8, tpRounds: 1, tpWarmup: 1, memContainers: 20, profileIterations: 5, floorBatch: 3 }
    : { rounds: 30, warmup: 3, tpTotal: 200, tpConcurrency: 8, tpRounds: 5, tpWarmup: 1, memContainers: 100, profileIterations: 30, floorBatch: 3 };
  const opts = { ...defaults, quick, only: null, write: !quick, stateOnDisk: argv.includes('--state-on-disk') || process.env.BENCH_STATE_ON_DISK === '1' };
  const envName = (key) => `BENCH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
  const flagName = (key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  for (const key of Object.keys(defaults)) {
    const fromEnv = process.env[envName(key)];
    const flag = argv.find((a) => a.startsWith(`${flagName(key)}=`));
    const raw = flag ? flag.split('=')[1] : fromEnv;
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flagName(key)} must be a non-negative integer, got ${raw}`);
    opts[key] = n;
  }
  const only = argv.find((a) => a.startsWith('--only=')) ?? (process.env.BENCH_ONLY ? `--only=${process.env.BENCH_ONLY}` : null);
  if (only) opts.only = new Set(only.slice(7).split(','));
  if (argv.includes('--write')) opts.write = true;
  if (argv.includes('--no-write')) opts.write = false;
  const known = new Set(['--quick', '--write', '--no-write', '--state-on-disk']);
  for (const a of argv) {
    const name = a.split('=')[0];
    if (!known.has(name) && name !== '--only' && !Object.keys(defaults).some((k) => flagName(k) === name)) throw new Error(`unknown option ${a}`);
  }
  if (opts.rounds < 1 || opts.tpConcurrency < 1 || opts.floorBatch < 1) throw new Error('rounds, tp-concurrency and floor-batch must be at least 1');
  return opts;
}

const loadavg = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

/**
 * The share of the CPUs' time the hypervisor gave to others (steal) since `before`: a run here
 * can be slowed by half without a change in the load average.
 */
function stealPercent(before) {
  const now = env.cpuTimes();
  const dt = now.total - before.total;
  return dt > 0 ? Math.round((1000 * (now.steal - before.steal)) / dt) / 10 : 0;
}

/**
 * Contenders interleaved round by round (A B C A B C ...); the first `warmup` rounds are dropped
 * (iterate gets the round, negative while warming up).
 */
async function interleave(title, contenders, rounds, warmup, timeoutMs = 20000) {
  const samples = new Map(contenders.map((c) => [c.name, []]));
  const errors = new Map();
  const loadBefore = loadavg();
  const cpu0 = env.cpuTimes();
  const t0 = performance.now();
  const ready = [];
  for (const c of contenders) {
    try {
      if (c.setup) await withTimeout(c.setup(), timeoutMs, `${c.name} set-up`);
      ready.push(c);
    } catch (err) {
      errors.set(c.name, `setup: ${err.message}`);
      log(`${title}: ${c.name} failed to set up: ${err.message}`);
    }
  }
  try {
    for (let r = -warmup; r < rounds; r++) {
      for (const c of ready) {
        if (errors.has(c.name)) continue;
        try {
          const ac = new AbortController();
          const t = await withTimeout(c.iterate(ac.signal, r), timeoutMs, `${c.name} round ${r}`).catch((err) => {
            ac.abort();
            throw err;
          });
          if (r >= 0) samples.get(c.name).push(...[].concat(t));
        } catch (err) {
          errors.set(c.name, err.message);
          log(`${title}: ${c.name} failed in round ${r}: ${err.message}; dropped from this scenario`);
        }
      }
    }
  } finally {
    for (const c of ready) {
      if (!c.teardown) continue;
      try {
        await withTimeout(c.teardown(), timeoutMs, `${c.name} teardown`);
      } catch (err) {
        errors.set(c.name, `${errors.get(c.name) ?? ''} teardown: ${err.message}`.trim());
      }
    }
  }
  const results = {};
  // notes are read after the rounds: a contender may add one while it runs
  for (const c of contenders) {
    const s = samples.get(c.name);
    results[c.name] = {
      ...(s.length ? summarize(s) : { n: 0 }),
      ...(c.note ? { note: c.note } : {}),
      ...(c.extraResults ? c.extraResults() : {}),
      ...(errors.has(c.name) ? { error: errors.get(c.name) } : {}),
      samples: s.map((x) => Math.round(x * 1000) / 1000),
    };
  }
  const crun = results.crun?.median;
  for (const r of Object.values(results)) if (crun && r.median !== undefined) r.ratioToCrun = r.median / crun;
  return { loadBefore, loadAfter: loadavg(), stealPercent: stealPercent(cpu0), seconds: (performance.now() - t0) / 1000, results };
}

function printLatency(title, unit, res) {
  log(`${title} (${res.seconds.toFixed(1)} s, load ${res.loadBefore.join(' ')} → ${res.loadAfter.join(' ')}, CPU steal ${res.stealPercent}%)`);
  for (const [name, r] of Object.entries(res.results)) {
    if (!r.n) {
      log(`  ${name.padEnd(18)} no result${r.error ? `: ${r.error}` : ''}`);
      continue;
    }
    const ratio = r.ratioToCrun !== undefined ? `  ${r.ratioToCrun.toFixed(2)}× crun` : '';
    const cpu = r.machineCpuMsPerContainer !== undefined ? `  machine CPU ${r.machineCpuMsPerContainer.toFixed(2)} ms/container` : '';
    log(`  ${name.padEnd(18)} median ${r.median.toFixed(2)} ${unit}  p10 ${r.p10.toFixed(2)}  p90 ${r.p90.toFixed(2)}  n=${r.n}${ratio}${cpu}${r.note ? `  (${r.note})` : ''}`);
  }
}

/** Processes we started that are still alive (a hung contender's): SIGKILL them, by pid. */
async function killLeftovers(keep = []) {
  const pids = scenarios.descendants().filter((pid) => !keep.includes(pid));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (pids.length) await new Promise((r) => setTimeout(r, 300));
  return pids;
}

/**
 * Processes of ours still alive, mounts under bench/.work, cgroups named nlc-bench, and the
 * empty directories on the way to them that only the benchmark makes (env.ownMirrors).
 */
function residue(own) {
  const problems = [];
  const table = scenarios.countProcesses([], new Set());
  if (table.inside + table.helpers > 0) problems.push(`${table.inside + table.helpers} processes of ours still alive`);
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && mp.startsWith(env.WORK)) problems.push(`mount left: ${mp}`);
  }
  const find = (dir, depth) => {
    if (depth > 8) return;
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const full = path.join(dir, e.name);
      if (e.name.includes(env.BENCH_CGROUP)) problems.push(`cgroup left: ${full}`);
      else find(full, depth + 1);
    }
  };
  find('/sys/fs/cgroup', 0);
  // A level that still has cgroups in it is someone else's too (another run's own path).
  const hasChildren = (dir) => fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
  for (const dir of env.ownMirrors(own)) if (fs.existsSync(dir) && !hasChildren(dir)) problems.push(`cgroup left: ${dir}`);
  return problems;
}

async function main() {
  if (process.argv.includes('--render-only')) {
    // Re-render the docs (e.g. after editing bench/analysis.md) from the last full run.
    const result = JSON.parse(fs.readFileSync(path.join(env.BENCH_DIR, 'results', 'latest.json'), 'utf8'));
    for (const f of render.writeDocs(result)) log(`wrote ${path.relative(process.cwd(), f)}`);
    return 0;
  }
  const opts = parseOptions(process.argv.slice(2));
  if (process.getuid() !== 0) throw new Error('the benchmark needs root (containers with new namespaces, cgroups)');
  if (!fs.existsSync(path.resolve(__dirname, '..', 'dist', 'lib', 'index.js'))) throw new Error('dist/ is missing: run `npm run bench` (it builds first)');
  fs.mkdirSync(env.WORK, { recursive: true });
  const want = (key) => !opts.only || opts.only.has(key);

  // crun makes /run/crun at every call (`--version` too), even with its --root elsewhere: what
  // was not there before the run goes again at the end.
  const peerRunDirs = ['/run/crun', '/run/runc'].filter((dir) => !fs.existsSync(dir));
  const removePeerRunDirs = () => {
    const problems = [];
    for (const dir of peerRunDirs) {
      try {
        fs.rmdirSync(dir);
      } catch (err) {
        if (err.code !== 'ENOENT') problems.push(`${dir}, made by a peer during the run, not removed: ${err.code}`);
      }
    }
    return problems;
  };
  const found = env.detect(log);
  if (!found.busybox) {
    removePeerRunDirs();
    throw new Error('no static busybox: cannot build the bundle (apt-get install busybox-static)');
  }
  const machine = env.machine();
  const cg = env.cgroupMode();
  const own = env.ownCgroup();
  log(`${machine.kernel}, ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, cgroups ${cg.mode}, own cgroup ${own || '/'}`);
  env.buildBundle(found.busybox.bin);

  const { loadBinding } = require(path.resolve(__dirname, '..', 'dist', 'lib', 'native', 'binding.js'));
  const binding = loadBinding();
  const errLog = errorLog();
  // Before the crun holder starts, so that its mount namespace has the same state mount; from
  // here on the clean-up below unmounts it (and so does a failure before that clean-up exists).
  const stateDir = env.prepareStateDir(opts.stateOnDisk);
  log(`state roots (ours, crun's, runc's): ${path.relative(process.cwd(), env.STATE)} on ${stateDir.where}`);
  let nlc;
  try {
    nlc = new Nlc(binding);
  } catch (err) {
    stateDir.unmount();
    throw err;
  }
  const ctx = { opts, own, binding, nlc, crun: null, runc: null, bwrap: null, floor: null, sharedHelpers: [] };
  let crunNs = null;
  const notes = [];

  const cleanups = async () => {
    const problems = [];
    for (const c of [ctx.nlc, ctx.crun, ctx.runc, ctx.bwrap]) {
      if (!c) continue;
      try {
        problems.push(...(await c.cleanup()));
      } catch (err) {
        problems.push(`${c.name ?? 'nlc'} cleanup: ${err.message}`);
      }
    }
    if (crunNs) await crunNs.stop();
    crunNs = null;
    problems.push(...env.removeCgroups(own, log).map((d) => `cgroup not removed: ${d}`));
    problems.push(...removePeerRunDirs());
    // After the crun holder has gone: its mount namespace holds a copy of the state mount.
    problems.push(...stateDir.unmount());
    return problems;
  };
  // Between scenarios nothing of ours but shared helpers may be alive; a hung container's
  // helper would otherwise be counted in scenario 6.
  const killStrays = async (key) => {
    const killed = await killLeftovers(ctx.sharedHelpers);
    if (killed.length) {
      const msg = `after ${key}: killed ${killed.length} stray processes of ours (hung containers' helpers): ${killed.join(' ')}`;
      notes.push(msg);
      log(msg);
    }
  };
  let interrupted = false;
  const onSignal = (sig) => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: cleaning up`);
    cleanups().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const result = {
    machine,
    options: { ...opts, only: opts.only ? [...opts.only] : null },
    peers: {},
    missing: [],
    cgroups: { mode: cg.mode, own: own || '/', hybridControllers: cg.hybridControllers, crunWorkaround: false },
    stateRoots: stateDir.where,
    load: { before: loadavg() },
    notes,
    scenarios: {},
  };
  let wrapperOverhead = null;
  try {
    if (found.cc) {
      ctx.floor = new Floor(env.compile(found.cc, 'floor.c', 'floor'));
    } else {
      result.missing.push('cc (kernel floor)');
    }
    if (found.peers.crun) {
      let wrapper = null;
      if (cg.crunRefuses) {
        // crun 1.8 refuses hybrid hosts whose v2 tree lists controllers: hide the file from crun.
        if (found.cc) {
          const file = env.compile(found.cc, 'crun-ns.c', 'crun-ns');
          crunNs = await env.startCrunNamespace(file);
          wrapper = { file, prefix: crunNs.prefix };
          ctx.sharedHelpers.push(crunNs.prefix[0]);
        } else {
          wrapper = { file: 'unshare', prefix: ['-m', 'sh', '-c', 'mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers && exec "$0" "$@"'] };
        }
        result.cgroups.crunWorkaround = true;
        notes.push(
          `crun ${found.peers.crun.version.replace(/^crun version /, '')} refuses this hybrid host (/sys/fs/cgroup/unified/cgroup.controllers lists "${cg.hybridControllers}"): every crun call runs in a private mount namespace with /dev/null bind-mounted over that file (${found.cc ? 'a holder process made the namespace once; each call is `crun-ns <holder> crun ...`: one setns + one extra exec' : '`unshare -m sh -c "mount --bind ...; exec crun"` per call'}).`,
        );
        // What the wrapper itself costs, so crun's figures can be read without it.
        const t = { wrapped: [], direct: [] };
        for (let i = 0; i < 23; i++) {
          const a = performance.now();
          await spawnCmd(wrapper.file, [...wrapper.prefix.map(String), '/bin/true'], errLog);
          const b = performance.now();
          await spawnCmd('/bin/true', [], errLog);
          const c = performance.now();
          if (i >= 3) {
            t.wrapped.push(b - a);
            t.direct.push(c - b);
          }
        }
        wrapperOverhead = { wrapped: summarize(t.wrapped), direct: summarize(t.direct) };
        wrapperOverhead.overheadMs = wrapperOverhead.wrapped.median - wrapperOverhead.direct.median;
        log(`crun wrapper overhead: ${wrapperOverhead.overheadMs.toFixed(2)} ms per call (median, spawn of /bin/true through it vs directly)`);
      }
      ctx.crun = new OciCli('crun', found.peers.crun.bin, errLog, wrapper);
    }
    if (found.peers.runc) ctx.runc = new OciCli('runc', found.peers.runc.bin, errLog);
    if (found.peers.bwrap) ctx.bwrap = new Bwrap(found.peers.bwrap.bin, errLog);
    for (const [name, p] of Object.entries(found.peers)) result.peers[name] = { version: p.version, bin: p.bin };
    result.peers.busybox = { version: found.busybox.version, bin: found.busybox.bin };
    if (wrapperOverhead) result.peers.crun.wrapperOverhead = wrapperOverhead;
    for (const name of ['crun', 'runc', 'bwrap']) if (!found.peers[name]) result.missing.push(name);
    if (!ctx.nlc.cgroupsApplied) notes.push('node-libcontainer does not apply linux.resources yet (issue #3): its figures include no cgroup work; the peers create a cgroup in every v1 hierarchy per container.');

    const latency = [
      ['s1', 'Scenario 1: run to exit (/bin/true)', () => scenarios.runToExit(ctx, 'plain')],
      ['s2m', 'Scenario 2a: run to exit, 64 MiB memory limit', () => scenarios.runToExit(ctx, 'mem64')],
      ['s2n', 'Scenario 2b: run to exit, no network namespace', () => scenarios.runToExit(ctx, 'nonet')],
      ['s3', 'Scenario 3: start of a created container, to exit', () => scenarios.startToExit(ctx)],
      ['s4', 'Scenario 4: exec /bin/true into a running container', () => scenarios.execInto(ctx)],
    ];
    for (const [key, title, make] of latency) {
      if (!want(key) || interrupted) continue;
      log(`${title}: ${opts.rounds} rounds (+${opts.warmup} warm-up)`);
      const res = await interleave(title, make(), opts.rounds, opts.warmup);
      result.scenarios[key] = { title, kind: 'latency', unit: 'ms', ...res };
      printLatency(title, 'ms', res);
      await killStrays(key);
    }
    if (want('s5') && !interrupted) {
      const title = `Scenario 5: throughput, ${opts.tpTotal} containers, ${opts.tpConcurrency} at a time`;
      // A dropped first round for every contender, as in the latency scenarios: this
      // process's JIT is still optimising what only concurrency exercises (--trace-opt here:
      // 13-16 functions per 250 containers after the first 300, fewer as it goes on).
      log(`${title}: ${opts.tpRounds} rounds (+${opts.tpWarmup} warm-up)`);
      const res = await interleave(title, scenarios.throughput(ctx), opts.tpRounds, opts.tpWarmup, 90000);
      result.scenarios.s5 = { title, kind: 'throughput', unit: 'containers/s', ...res };
      printLatency(title, 'containers/s', res);
      await killStrays('s5');
    }
    if (want('s6') && !interrupted) {
      const title = `Scenario 6: memory and host processes, ${opts.memContainers} sleeping containers`;
      log(title);
      const loadBefore = loadavg();
      const results = {};
      for (const name of [scenarios.NLC, 'crun', 'runc', 'bwrap']) {
        if (name !== scenarios.NLC && !ctx[name]) continue;
        try {
          results[name] = await withTimeout(scenarios.memory(ctx, name), 180000, `${name} memory scenario`);
          const r = results[name];
          log(
            `  ${name.padEnd(18)} ${r.hostProcessesPerContainer.toFixed(2)} host processes/container (${r.helperProcessesPerContainer.toFixed(2)} helpers), node RSS +${r.nodeRssGrowthKiBPerContainer.toFixed(1)} KiB/container, helpers' RSS ${r.helperRssKiBPerContainer.toFixed(0)} KiB/container, ${r.containers} started in ${(r.startAllMs / 1000).toFixed(2)} s`,
          );
        } catch (err) {
          results[name] = { error: err.message };
          log(`  ${name}: failed: ${err.message}`);
        }
      }
      result.scenarios.s6 = { title, kind: 'memory', loadBefore, loadAfter: loadavg(), results };
    }
    if (want('profile') && !interrupted) {
      log(`Profile of scenario 1 (node-libcontainer): ${opts.profileIterations} iterations`);
      result.profile = await withTimeout(profileScenario1(ctx, opts.profileIterations, Math.min(opts.warmup, 3)), 120000, 'profile');
      for (const s of result.profile.spans) if (s.n) log(`  ${s.label.padEnd(62)} ${s.median.toFixed(3)} ms`);
      log(`  ${'total'.padEnd(62)} ${result.profile.total.median.toFixed(3)} ms`);
    }
  } finally {
    const problems = await cleanups();
    const killed = await killLeftovers();
    if (killed.length) problems.push(`killed ${killed.length} leftover processes of ours (hung contenders): ${killed.join(' ')}`);
    errLog.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const left = residue(own);
    result.cleanup = { problems: [...problems, ...left] };
    for (const p of result.cleanup.problems) log(`cleanup: ${p}`);
    if (!result.cleanup.problems.length) log('cleanup: nothing left behind (containers, state dirs, cgroups, mounts, processes)');
  }
  result.load.after = loadavg();
  result.targets = render.targets(result);
  for (const t of result.targets) log(`target ${t.scenario}: ${t.target}: ${t.actual} → ${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}`);

  const out = opts.write ? path.join(env.BENCH_DIR, 'results', 'latest.json') : path.join(env.WORK, 'quick.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`results: ${path.relative(process.cwd(), out)}`);
  if (opts.write) {
    const written = render.writeDocs(result);
    for (const f of written) log(`wrote ${path.relative(process.cwd(), f)}`);
  }
  return result.cleanup.problems.length ? 1 : 0;
}

// Exit explicitly: a hung contender's handles (a channel still open) would keep the loop alive.
main().then(
  (code) => process.exit(code),
  (err) => {
    log(`failed: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
