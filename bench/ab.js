#!/usr/bin/env node
'use strict';
// Two builds of node-libcontainer side by side in one Node process: batches of scenario 5's
// work (create + run + wait + destroy of /bin/true, N at a time) alternating A B, B A, ...,
// and for each measure the ratio B/A of the pair. On this shared VM machine CPU per container
// moves by 10-30% between runs of the same code; within a pair, both builds meet the same
// conditions, so a change of a few percent shows as the median of the pairs' ratios and as in
// how many pairs B was better. Needs root and both trees built (dist/ and build/Release/).
//
//   node bench/ab.js --a=<tree> [--b=<tree, default this one>] [--pairs=10] [--total=200] [--concurrency=8]
//
// e.g. the previous commit:  git worktree add /tmp/prev HEAD~1 && cd /tmp/prev &&
//   ln -s "$OLDPWD/node_modules" && npx node-gyp rebuild && npx tsc -p . && cd - && node bench/ab.js --a=/tmp/prev
// Prints medians per build and of the ratios for main-thread CPU, machine CPU (both in ms
// per container) and containers/s. Removes what it made (state roots, cgroups).

const fs = require('node:fs');
const path = require('node:path');
const env = require('./lib/env');
const { summarize } = require('./lib/stats');

function parseArgs(argv) {
  const opts = { a: null, b: path.resolve(__dirname, '..'), pairs: 10, total: 200, concurrency: 8 };
  for (const arg of argv) {
    const m = /^--(a|b|pairs|total|concurrency)=(.+)$/.exec(arg);
    if (!m) throw new Error(`unknown option ${arg} (see the header of bench/ab.js)`);
    if (m[1] === 'a' || m[1] === 'b') opts[m[1]] = path.resolve(m[2]);
    else {
      const n = Number(m[2]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${m[1]} must be a positive integer, got ${m[2]}`);
      opts[m[1]] = n;
    }
  }
  if (!opts.a) throw new Error('--a=<tree> is required: the build to compare against');
  for (const tree of [opts.a, opts.b]) {
    for (const artifact of ['dist/lib/index.js', 'build/Release/nlc_addon.node', 'build/Release/nlc-init']) {
      if (!fs.existsSync(path.join(tree, artifact))) throw new Error(`${tree}: ${artifact} missing (build that tree first)`);
    }
  }
  return opts;
}

/** The main thread's time on a CPU so far, in ns (schedstat's first field). */
const mainThreadCpu = () => Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);

async function main() {
  if (process.getuid() !== 0) throw new Error('bench/ab.js needs root (it starts real containers)');
  const opts = parseArgs(process.argv.slice(2));
  const found = env.detect(() => {});
  if (!found.busybox) throw new Error('no static busybox: cannot build the bundle (apt-get install busybox-static)');
  env.buildBundle(found.busybox.bin);
  const own = env.ownCgroup();
  const builds = {};
  for (const [key, tree] of [['A', opts.a], ['B', opts.b]]) {
    const root = env.stateRoot(`ab-${key}`);
    builds[key] = {
      lib: require(path.join(tree, 'dist/lib/index.js')),
      binding: require(path.join(tree, 'dist/lib/native/binding.js')).loadBinding(),
      root,
      // One config object per worker slot, as scenario 5 has.
      configs: Array.from({ length: opts.concurrency }, (_, slot) => env.variantConfig({ cgroupsPath: env.cgroupPathFor(own, `ab-${key}-${slot}`) })),
    };
  }
  let seq = 0;
  const batch = async (key) => {
    const { lib, binding, root, configs } = builds[key];
    let next = 0;
    const worker = async (slot) => {
      while (next < opts.total) {
        next++;
        const c = await lib.createContainer(`ab-${key}-${process.pid}-${seq++}`, configs[slot], { root, bundle: env.BUNDLE, binding });
        try {
          const exit = await (await c.run({ stdio: 'ignore' })).wait();
          if (exit.exitCode !== 0) throw new Error(`build ${key}: container exited with ${JSON.stringify(exit)}`);
        } finally {
          await c.destroy();
        }
      }
    };
    const cpu0 = mainThreadCpu();
    const busy0 = env.cpuTimes().busy;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: opts.concurrency }, (_, slot) => worker(slot)));
    const ms = performance.now() - t0;
    return { main: (mainThreadCpu() - cpu0) / 1e6 / opts.total, machine: (env.cpuTimes().busy - busy0) / opts.total, rate: opts.total / (ms / 1000) };
  };
  // State roots on a tmpfs, as in bench/run.js.
  const stateDir = env.prepareStateDir(false);
  try {
    for (const { root } of Object.values(builds)) fs.mkdirSync(root, { recursive: true });
    // Warm-up: both builds' code optimised by V8 before anything counts.
    for (const key of ['A', 'B', 'A', 'B']) await batch(key);
    const pairs = [];
    for (let i = 0; i < opts.pairs; i++) {
      const pair = {};
      for (const key of i % 2 ? ['B', 'A'] : ['A', 'B']) pair[key] = await batch(key);
      pairs.push(pair);
    }
    console.log(`A ${opts.a}\nB ${opts.b}\n${opts.pairs} pairs of ${opts.total} containers, ${opts.concurrency} at a time; state roots on ${stateDir.where}`);
    for (const [metric, label, higherIsBetter] of [['main', 'main-thread CPU, ms/container', false], ['machine', 'machine CPU, ms/container', false], ['rate', 'containers/s', true]]) {
      const ratios = pairs.map((p) => p.B[metric] / p.A[metric]);
      const better = pairs.filter((p) => (higherIsBetter ? p.B[metric] > p.A[metric] : p.B[metric] < p.A[metric])).length;
      const med = (xs) => summarize(xs).median;
      console.log(
        `${label.padEnd(31)} A ${med(pairs.map((p) => p.A[metric])).toFixed(3)}  B ${med(pairs.map((p) => p.B[metric])).toFixed(3)}  ` +
          `B/A ${med(ratios).toFixed(3)} (pairs: ${ratios.map((r) => r.toFixed(2)).join(' ')}), B better in ${better} of ${opts.pairs}`,
      );
    }
  } finally {
    for (const { root } of Object.values(builds)) fs.rmSync(root, { recursive: true, force: true });
    const left = env.removeCgroups(own, () => {});
    if (left.length) console.error(`cgroups not removed: ${left.join(', ')}`);
    for (const p of stateDir.unmount()) console.error(p);
  }
}

main().catch((err) => {
  console.error(`bench/ab.js: ${err.message}`);
  process.exit(1);
});
