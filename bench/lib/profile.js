'use strict';
// Where node-libcontainer's own time goes in scenario 1, measured from the outside (lib/ is
// not touched): the injected native binding is wrapped in a Proxy that timestamps its calls
// and callbacks (spawn, the sync channel's messages both ways, prlimit, the exit watch), the
// public calls are timed around, and the init helper's log lines are timestamped when they
// reach the parent (they carry no timestamp of their own).

const path = require('node:path');
const util = require('node:util');
const env = require('./env');
const { summarize } = require('./stats');

function messageType(data) {
  try {
    return JSON.parse(data.toString('utf8')).type ?? '?';
  } catch {
    return '?';
  }
}

function profiledBinding(real, mark) {
  const wrapChannel = (ch) => ({
    ref: () => ch.ref(),
    unref: () => ch.unref(),
    send(data, fds) {
      mark(`send:${messageType(data)}`);
      return ch.send(data, fds);
    },
    close() {
      mark('channel:close');
      return ch.close();
    },
  });
  return new Proxy(real, {
    get(target, prop) {
      const value = target[prop];
      if (typeof value !== 'function') return value;
      switch (prop) {
        case 'spawn':
          return (opts) => {
            mark('spawn:begin');
            try {
              return value.call(target, opts);
            } finally {
              mark('spawn:end');
            }
          };
        case 'spawnAsync':
          return (opts, cb) => {
            mark('spawn:begin');
            return value.call(target, opts, (err, result) => {
              mark('spawn:end');
              cb(err, result);
            });
          };
        case 'openChannel':
          return (fd, onMessage) => {
            mark('openChannel');
            return wrapChannel(
              value.call(target, fd, (data, fds) => {
                mark(data === null ? 'recv:eof' : `recv:${messageType(data)}`);
                return onMessage(data, fds);
              }),
            );
          };
        case 'watchExit':
          return (pidfd, reap, cb) =>
            value.call(target, pidfd, reap, (status) => {
              mark('exit:seen');
              cb(status);
            });
        default:
          return (...args) => {
            mark(String(prop));
            return value.apply(target, args);
          };
      }
    },
  });
}

/** The spans, in order: [label, from mark, to mark, who]. */
const SPANS = [
  ['createContainer (validate, plan, state dir)', 'create:begin', 'create:end', 'parent'],
  ['run(): plan, cgroup dirs, pipes, socketpair', 'start:begin', 'spawn:begin', 'parent'],
  ['spawn begun → plan sent (parent meanwhile: v1 cgroup dirs, resources)', 'spawn:begin', 'send:bootstrap', 'parent'],
  ['spawn (threadpool: clone with namespaces + exec of the helper)', 'spawn:begin', 'spawn:end', 'kernel'],
  ['bootstrap sent → procHooks (helper: namespaces, mounts)', 'send:bootstrap', 'recv:procHooks', 'helper'],
  ['procHooks → procHooksDone (hooks, resources)', 'recv:procHooks', 'send:procHooksDone', 'parent'],
  ['procHooksDone → procReady (helper: pivot_root, /dev, paths)', 'send:procHooksDone', 'recv:procReady', 'helper'],
  ['spawn begun → procReady (clone, exec, helper: cgroups, namespaces, mounts, pivot_root, /dev, paths)', 'spawn:begin', 'recv:procReady', 'helper'],
  ['procReady → procRun (rlimits, affinity)', 'recv:procReady', 'send:procRun', 'parent'],
  ['procRun → EOF (helper: identity, capabilities, execve; parent: state write)', 'send:procRun', 'recv:eof', 'helper'],
  ['procReady → EOF (helper: rlimits, identity, capabilities, execve; parent: state write)', 'recv:procReady', 'recv:eof', 'helper'],
  ['EOF → run() resolved', 'recv:eof', 'start:end', 'parent'],
  ['run() resolved → exit seen (/bin/true runs, pidfd readable)', 'start:end', 'exit:seen', 'kernel'],
  ['exit seen → wait() resolved', 'exit:seen', 'wait:end', 'parent'],
  ['destroy()', 'destroy:begin', 'destroy:end', 'parent'],
];

/** Scenario 1 under the profiling binding: per-span medians over `iterations` (after `warmup`). */
async function profileScenario1(ctx, iterations, warmup) {
  const distLib = path.resolve(__dirname, '..', '..', 'dist', 'lib');
  const { validateConfig } = require(path.join(distLib, 'index.js'));
  const { buildInitPlan } = require(path.join(distLib, 'process', 'bootstrap.js'));
  // The same `debug` instance dist/ uses (resolved from there).
  const createDebug = require(require.resolve('debug', { paths: [distLib] }));
  const cfg = env.variantConfig({ cgroupsPath: env.cgroupPathFor(ctx.own, 'nlc-profile') });

  let marks = [];
  const mark = (name) => marks.push([name, performance.now()]);
  const binding = profiledBinding(ctx.binding, mark);

  const previous = createDebug.disable();
  const previousLog = createDebug.log;
  createDebug.enable('node-libcontainer:init');
  createDebug.log = (...args) => mark(`init:${util.format(...args).replace(/\s+/g, ' ').trim()}`);
  const samples = new Map(SPANS.map(([label]) => [label, []]));
  const totals = [];
  const initLines = new Map();
  // The helper stamps each log line with its CLOCK_MONOTONIC (ns), the clock of
  // process.hrtime.bigint(): mapped onto performance.now() through a pair read together at the
  // start of each iteration (the two drift apart by about 0.3% here: 0.85 ms in 300 ms).
  let hr0 = 0n;
  let p0 = 0;
  const helperClock = (ns) => Number(ns - hr0) / 1e6 + p0;
  const initClock = new Map();
  const validateMs = [];
  const planMs = [];
  try {
    for (let i = -warmup; i < iterations; i++) {
      marks = [];
      hr0 = process.hrtime.bigint();
      p0 = performance.now();
      mark('create:begin');
      const c = await ctx.nlc.create(cfg, binding);
      mark('create:end');
      mark('start:begin');
      const p = await c.run({ stdio: 'ignore' });
      mark('start:end');
      const e = await p.wait();
      mark('wait:end');
      mark('destroy:begin');
      await ctx.nlc.destroy(c);
      mark('destroy:end');
      if (e.exitCode !== 0) throw new Error(`profiled container exited with ${JSON.stringify(e)}`);
      // validate and plan again, alone, to split createContainer's span
      const v0 = performance.now();
      const spec = validateConfig(cfg);
      const v1 = performance.now();
      buildInitPlan(spec, env.ROOTFS, env.BUNDLE, {}, null);
      const v2 = performance.now();
      if (i < 0) continue;
      validateMs.push(v1 - v0);
      planMs.push(v2 - v1);
      const at = new Map();
      for (const [name, t] of marks) if (!at.has(name)) at.set(name, t);
      for (const [label, from, to] of SPANS) {
        if (at.has(from) && at.has(to)) samples.get(label).push(at.get(to) - at.get(from));
      }
      totals.push(at.get('destroy:end') - at.get('create:begin'));
      const sent = at.get('send:bootstrap');
      const spawnBegun = at.get('spawn:begin');
      for (const [name, t] of marks) {
        if (!name.startsWith('init:') || sent === undefined) continue;
        const line = name.slice(5).replace(/^.*node-libcontainer:init\s*/, '').replace(/\s*\+\d+m?s$/, '');
        const stamp = /\s*\(t=(\d+)\)$/.exec(line);
        const msg = stamp ? line.slice(0, stamp.index) : line;
        if (!initLines.has(msg)) initLines.set(msg, []);
        initLines.get(msg).push(t - sent);
        if (stamp && spawnBegun !== undefined) {
          if (!initClock.has(msg)) initClock.set(msg, []);
          initClock.get(msg).push(helperClock(BigInt(stamp[1])) - spawnBegun);
        }
      }
    }
  } finally {
    createDebug.log = previousLog;
    createDebug.disable();
    if (previous) createDebug.enable(previous);
  }
  return {
    iterations,
    total: summarize(totals),
    spans: SPANS.map(([label, from, to, who]) => ({ label, from, to, who, ...summarize(samples.get(label)) })),
    createSplit: { validate: summarize(validateMs), plan: summarize(planMs) },
    initLogArrivals: [...initLines].map(([msg, ts]) => ({
      msg,
      afterBootstrapSent: summarize(ts),
      // The helper's own time of the line, after the parent began the spawn: exact, where the
      // arrival is only an upper bound.
      ...(initClock.has(msg) ? { helperClockAfterSpawn: summarize(initClock.get(msg)) } : {}),
    })),
  };
}

module.exports = { profileScenario1, profiledBinding };
