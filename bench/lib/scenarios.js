'use strict';
// Scenarios 1–6 of issue #4 (the kernel floor, 7, runs as a contender of 1 and 2; "floor+spec",
// the floor doing the spec's own kernel work as well, as a reference row in 1, 2b and 5).
// A latency scenario is a list of contenders { name, setup?, iterate, teardown?, note? };
// iterate() resolves with one time in ms (or several, for the floor's batches).

const fs = require('node:fs');
const vm = require('node:vm');
const v8 = require('node:v8');
const env = require('./env');
const { summarize } = require('./stats');
const { uniqueId, withTimeout, checkFloorSpec } = require('./contenders');

/** One container in the throughput pool normally takes tens of ms; a hung one counts as failed. */
const JOB_TIMEOUT_MS = 3000;

const NLC = 'node-libcontainer';
const FLOOR_SPEC = 'floor+spec';
const FLOOR_SPEC_NOTE = 'reference, not a runtime: bench/floor.c --spec, the floor loop doing this spec\'s kernel work (cgroups, lo, mounts, /dev, masked and read-only paths) and nothing else';

/**
 * The floor+spec reference: its cgroup parents go where a peer's cgroupsPath would (below
 * our own cgroup, in every hierarchy), made in setup and removed in teardown; `run(parents)`
 * gives the round's figure(s).
 */
function floorSpec(ctx, cfg, net, key, run) {
  let parents = null;
  return {
    name: FLOOR_SPEC,
    note: FLOOR_SPEC_NOTE,
    setup: async () => {
      checkFloorSpec(cfg, net);
      parents = env.makeCgroupParents(ctx.own, `floor-spec-${key}`);
    },
    iterate: () => run(parents),
    teardown: async () => {
      const left = env.removeCgroupParents(parents ?? []);
      if (left.length) throw new Error(`cgroups not removed: ${left.join(', ')}`);
    },
  };
}

async function timeIt(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function checkExit(e, what) {
  if (e.exitCode !== 0) throw new Error(`${what} exited with ${JSON.stringify(e)}`);
}

/** Scenarios 1 and 2: create + run + wait + destroy of /bin/true. variant: plain | mem64 | nonet. */
function runToExit(ctx, variant) {
  const list = [];
  const net = variant !== 'nonet';
  if (ctx.nlc) {
    const cfg = env.variantConfig({ variant, cgroupsPath: env.cgroupPathFor(ctx.own, `nlc-${variant}`) });
    list.push({
      name: NLC,
      note: variant === 'mem64' && !ctx.nlc.cgroupsApplied ? 'cgroups not applied' : undefined,
      iterate: () =>
        timeIt(async () => {
          const c = await ctx.nlc.create(cfg);
          const p = await c.run({ stdio: 'ignore' });
          const e = await p.wait();
          await ctx.nlc.destroy(c);
          checkExit(e, 'container');
        }),
    });
  }
  for (const cli of [ctx.crun, ctx.runc].filter(Boolean)) {
    const cfg = env.variantConfig({ variant, cgroupsPath: env.cgroupPathFor(ctx.own, `${cli.name}-${variant}`) });
    const bundle = env.writePeerBundle(`${cli.name}-${variant}`, cfg);
    list.push({
      name: cli.name,
      iterate: async () => {
        const id = uniqueId(cli.name);
        cli.live.add(id);
        const t = await timeIt(() => cli.run(['run', '--bundle', bundle, id]));
        cli.live.delete(id);
        return t;
      },
    });
  }
  if (ctx.bwrap && variant !== 'mem64') list.push({ name: 'bwrap', iterate: () => timeIt(() => ctx.bwrap.run({ net })) });
  if (ctx.floor && variant !== 'mem64') list.push({ name: 'floor', iterate: () => ctx.floor.times(ctx.opts.floorBatch, { net }) });
  if (ctx.floor && variant !== 'mem64') {
    const cfg = env.variantConfig({ variant });
    list.push(floorSpec(ctx, cfg, net, variant, (spec) => ctx.floor.times(ctx.opts.floorBatch, { net, spec })));
  }
  return list;
}

/** Scenario 3: a created container's start, to its exit (create and delete untimed). */
function startToExit(ctx) {
  const list = [];
  if (ctx.nlc) {
    const cfg = env.variantConfig({ cgroupsPath: env.cgroupPathFor(ctx.own, 'nlc-start') });
    list.push({
      name: NLC,
      iterate: async () => {
        const c = await ctx.nlc.create(cfg);
        const p = await c.start({ stdio: 'ignore' });
        const t = await timeIt(async () => {
          await c.exec();
          checkExit(await p.wait(), 'container');
        });
        await ctx.nlc.destroy(c);
        return t;
      },
    });
  }
  for (const cli of [ctx.crun, ctx.runc].filter(Boolean)) {
    const bundle = env.writePeerBundle(`${cli.name}-start`, env.variantConfig({ cgroupsPath: env.cgroupPathFor(ctx.own, `${cli.name}-start`) }));
    list.push({
      name: cli.name,
      iterate: async () => {
        const id = uniqueId(cli.name);
        cli.live.add(id);
        await cli.run(['create', '--bundle', bundle, id]);
        // The init is not our child: watch a pidfd of it (readable on exit), set up before start.
        const pidfd = ctx.binding.pidfdOpen(await cli.pidOf(id));
        let watch;
        const exited = new Promise((resolve) => {
          watch = ctx.binding.watchExit(pidfd, false, resolve);
        });
        let t;
        try {
          t = await timeIt(async () => {
            await cli.run(['start', id]);
            await exited;
          });
        } catch (err) {
          watch.cancel();
          throw err;
        } finally {
          ctx.binding.close(pidfd);
        }
        await cli.run(['delete', '--force', id]);
        cli.live.delete(id);
        return t;
      },
    });
  }
  return list;
}

/** Scenario 4: exec of /bin/true into a running container (init: sleep). */
function execInto(ctx) {
  const list = [];
  const sleepArgs = ['/bin/sleep', '100000'];
  if (ctx.nlc) {
    const cfg = env.variantConfig({ args: sleepArgs, cgroupsPath: env.cgroupPathFor(ctx.own, 'nlc-exec') });
    let c = null;
    list.push({
      name: NLC,
      setup: async () => {
        c = await ctx.nlc.create(cfg);
        await c.run({ stdio: 'ignore' });
      },
      iterate: () =>
        timeIt(async () => {
          const q = await c.run({ init: false, args: ['/bin/true'], stdio: 'ignore' });
          checkExit(await q.wait(), 'exec');
        }),
      teardown: async () => {
        if (c) await ctx.nlc.destroy(c);
      },
    });
  }
  for (const cli of [ctx.crun, ctx.runc].filter(Boolean)) {
    const bundle = env.writePeerBundle(`${cli.name}-exec`, env.variantConfig({ args: sleepArgs, cgroupsPath: env.cgroupPathFor(ctx.own, `${cli.name}-exec`) }));
    const id = uniqueId(cli.name);
    list.push({
      name: cli.name,
      setup: async () => {
        cli.live.add(id);
        await cli.run(['run', '--detach', '--bundle', bundle, id]);
      },
      iterate: () => timeIt(() => cli.run(['exec', id, '/bin/true'])),
      teardown: async () => {
        await cli.run(['delete', '--force', id]);
        cli.live.delete(id);
      },
    });
  }
  return list;
}

/**
 * Run `total` jobs, `concurrency` at a time; job(slot) gets its worker's slot number. A failed
 * job is counted, not fatal, up to 10% of them (so one rare failure does not hide a figure;
 * the count is reported with it).
 */
async function pool(total, concurrency, job, signal, failures, onFailure = () => {}) {
  let next = 0;
  const worker = async (slot) => {
    while (next < total && !signal?.aborted) {
      next++;
      try {
        await withTimeout(job(slot), JOB_TIMEOUT_MS, 'container');
      } catch (err) {
        failures.push(err.message);
        onFailure(slot);
        if (failures.length > total / 10) throw err;
      }
    }
  };
  return timeIt(() => Promise.all(Array.from({ length: concurrency }, (_, k) => worker(k))));
}

/**
 * `entry` with the machine's CPU time per container measured over each timed round: what a
 * container costs the whole machine (the contender's processes, its helpers, kernel threads),
 * and so what bounds its throughput on a busy machine. Other work on the machine counts too:
 * the rounds are interleaved so it hits all contenders alike.
 */
function measuringMachineCpu(entry, containers) {
  const perContainer = [];
  const iterate = entry.iterate;
  entry.iterate = async (signal, round) => {
    const before = env.cpuTimes().busy;
    const rate = await iterate(signal, round);
    if (round >= 0) perContainer.push((env.cpuTimes().busy - before) / containers);
    return rate;
  };
  entry.extraResults = () => (perContainer.length ? { machineCpuMsPerContainer: summarize(perContainer).median } : {});
  return entry;
}

/** Scenario 5: `total` run-to-exit containers, `concurrency` at a time. iterate() gives containers/s. */
function throughput(ctx) {
  const { tpTotal: total, tpConcurrency: conc } = ctx.opts;
  // One cgroup path per worker slot, renewed after a failure in that slot: a timed-out
  // container may still hold its cgroup while the slot goes on.
  const slotPaths = (name) => {
    const gen = new Array(conc).fill(0);
    const cache = new Map();
    return {
      cfg(k) {
        const key = `${k}.${gen[k]}`;
        if (!cache.has(key)) cache.set(key, env.variantConfig({ cgroupsPath: env.cgroupPathFor(ctx.own, `${name}-tp${k}-${gen[k]}`) }));
        return { key, cfg: cache.get(key) };
      },
      failed(k) {
        gen[k]++;
      },
    };
  };
  const list = [];
  const contender = (name, job) => {
    const failures = [];
    const slots = slotPaths(name);
    const entry = {
      name,
      iterate: async (signal) => {
        const round = [];
        try {
          const ms = await pool(total, conc, (k) => job(k, slots), signal, round, (k) => slots.failed(k));
          return (total - round.length) / (ms / 1000);
        } finally {
          failures.push(...round);
          if (failures.length) {
            const distinct = [...new Set(failures.map((f) => f.replace(/\b(nlc|crun|runc)-\d+-\d+\b/g, '<id>')))];
            entry.note = `${failures.length} containers failed over the rounds (their time counts, they do not): ${distinct.join('; ').slice(0, 240)}`;
          }
        }
      },
    };
    return entry;
  };
  if (ctx.nlc) {
    list.push(
      contender(NLC, async (k, slots) => {
        const c = await ctx.nlc.create(slots.cfg(k).cfg);
        try {
          const p = await c.run({ stdio: 'ignore' });
          checkExit(await p.wait(), 'container');
        } finally {
          await ctx.nlc.destroy(c);
        }
      }),
    );
  }
  for (const cli of [ctx.crun, ctx.runc].filter(Boolean)) {
    const bundles = new Map();
    list.push(
      contender(cli.name, async (k, slots) => {
        const { key, cfg } = slots.cfg(k);
        if (!bundles.has(key)) bundles.set(key, env.writePeerBundle(`${cli.name}-tp${key}`, cfg));
        const id = uniqueId(cli.name);
        cli.live.add(id);
        await cli.run(['run', '--bundle', bundles.get(key), id]);
        cli.live.delete(id);
      }),
    );
    // bundles for the first generation are written before the clock starts
    for (let k = 0; k < conc; k++) bundles.set(`${k}.0`, env.writePeerBundle(`${cli.name}-tp${k}.0`, env.variantConfig({ cgroupsPath: env.cgroupPathFor(ctx.own, `${cli.name}-tp${k}-0`) })));
  }
  if (ctx.bwrap) list.push(contender('bwrap', () => ctx.bwrap.run({})));
  if (ctx.floor) list.push(floorSpec(ctx, env.variantConfig({}), true, 'tp', (spec) => ctx.floor.throughput(total, conc, spec)));
  return list.map((entry) => measuringMachineCpu(entry, total));
}

// ---------------------------------------------------------------------------------------
// scenario 6

let gcFn = null;
function gc() {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc');
  }
  for (let i = 0; i < 3; i++) gcFn();
}

const PAGE = 4096;

/** Every process: pid -> { ppid, ns (pid namespace), rssKiB }. */
function procTable() {
  const table = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const ns = fs.readlinkSync(`/proc/${name}/ns/pid`);
      const rssKiB = (Number(fs.readFileSync(`/proc/${name}/statm`, 'utf8').split(' ')[1]) * PAGE) / 1024;
      table.set(Number(name), { pid: Number(name), ppid, ns, rssKiB });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/**
 * The host processes the containers cost: every process in the containers' pid namespaces
 * (known inits' namespaces, plus any namespace a descendant of ours is in) and every other
 * descendant of this Node process (helpers: monitors, shims), less `exclude` (shared helpers).
 */
function countProcesses(initPids, exclude) {
  const table = procTable();
  const ourNs = fs.readlinkSync('/proc/self/ns/pid');
  const isDescendant = (pid) => {
    for (let p = table.get(pid)?.ppid, hops = 0; p && hops < 64; p = table.get(p)?.ppid, hops++) if (p === process.pid) return true;
    return false;
  };
  const nsSet = new Set(initPids.map((pid) => table.get(pid)?.ns).filter(Boolean));
  for (const p of table.values()) if (p.ns !== ourNs && isDescendant(p.pid)) nsSet.add(p.ns);
  nsSet.delete(ourNs);
  const inside = [...table.values()].filter((p) => nsSet.has(p.ns));
  const helpers = [...table.values()].filter((p) => !nsSet.has(p.ns) && !exclude.has(p.pid) && isDescendant(p.pid));
  return {
    namespaces: nsSet.size,
    inside: inside.length,
    helpers: helpers.length,
    helperRssKiB: helpers.reduce((s, p) => s + p.rssKiB, 0),
  };
}

/** Scenario 6 for one contender: start N sleeping containers, measure, remove them. */
async function memory(ctx, name) {
  const n = ctx.opts.memContainers;
  const sleepArgs = ['/bin/sleep', '100000'];
  const exclude = new Set(ctx.sharedHelpers);
  gc();
  const rss0 = process.memoryUsage().rss;
  const inits = [];
  let stop = async () => {};
  const t0 = performance.now();
  if (name === NLC) {
    const made = [];
    stop = async () => {
      for (const c of made) await ctx.nlc.destroy(c);
    };
    for (let i = 0; i < n; i++) {
      const c = await ctx.nlc.create(env.variantConfig({ args: sleepArgs, cgroupsPath: env.cgroupPathFor(ctx.own, `nlc-mem${i}`) }));
      made.push(c);
      inits.push((await c.run({ stdio: 'ignore' })).pid);
    }
  } else if (name === 'bwrap') {
    const children = [];
    stop = () => ctx.bwrap.cleanup();
    for (let i = 0; i < n; i++) children.push(ctx.bwrap.start({ args: sleepArgs }));
    // bwrap has no "started" notification: wait until every one has its sleep running.
    for (let tries = 0; tries < 200; tries++) {
      const c = countProcesses([], exclude);
      if (c.namespaces >= n && c.inside >= 2 * n) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  } else {
    const cli = ctx[name];
    const ids = [];
    stop = async () => {
      for (const id of ids) {
        await cli.run(['delete', '--force', id]);
        cli.live.delete(id);
      }
    };
    for (let i = 0; i < n; i++) {
      const bundle = env.writePeerBundle(`${name}-mem${i}`, env.variantConfig({ args: sleepArgs, cgroupsPath: env.cgroupPathFor(ctx.own, `${name}-mem${i}`) }));
      const id = uniqueId(name);
      cli.live.add(id);
      ids.push(id);
      await cli.run(['run', '--detach', '--bundle', bundle, id]);
      inits.push(await cli.pidOf(id));
    }
  }
  const startMs = performance.now() - t0;
  try {
    gc();
    const rss1 = process.memoryUsage().rss;
    const procs = countProcesses(inits, exclude);
    return {
      containers: n,
      startAllMs: startMs,
      nodeRssGrowthKiBPerContainer: (rss1 - rss0) / 1024 / n,
      hostProcessesPerContainer: (procs.inside + procs.helpers) / n,
      processesInsidePerContainer: procs.inside / n,
      helperProcessesPerContainer: procs.helpers / n,
      helperRssKiBPerContainer: procs.helperRssKiB / n,
      pidNamespaces: procs.namespaces,
    };
  } finally {
    await stop();
  }
}

/** Pids of every live descendant of this process. */
function descendants() {
  const table = procTable();
  const out = [];
  for (const p of table.values()) {
    for (let q = p.ppid, hops = 0; q && hops < 64; q = table.get(q)?.ppid, hops++) {
      if (q === process.pid) {
        out.push(p.pid);
        break;
      }
    }
  }
  return out;
}

module.exports = { NLC, FLOOR_SPEC, descendants, runToExit, startToExit, execInto, throughput, memory, timeIt, countProcesses };
