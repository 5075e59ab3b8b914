'use strict';
// Renders the results: two hand-written SVG charts (latency, log scale; throughput, linear)
// under bench/results/, and docs/performance.md (tables, targets, profile, and the
// hand-written analysis in bench/analysis.md).

const fs = require('node:fs');
const path = require('node:path');
const env = require('./env');

const REPO = path.resolve(env.BENCH_DIR, '..');
const RESULTS = path.join(env.BENCH_DIR, 'results');
const DOC = path.join(REPO, 'docs', 'performance.md');

// floor+spec (bench/floor.c --spec) is a reference row, like floor: no target uses it.
const ORDER = ['node-libcontainer', 'crun', 'runc', 'bwrap', 'floor', 'floor+spec'];
const COLORS = { 'node-libcontainer': '#2b8a3e', crun: '#1c7ed6', runc: '#f08c00', bwrap: '#7048e8', floor: '#868e96', 'floor+spec': '#495057' };
const SHORT = { s1: '1 run to exit', s2m: '2a 64 MiB limit', s2n: '2b no netns', s3: '3 start → exit', s4: '4 exec' };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');
const fmtMs = (x) => (typeof x !== 'number' || !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function contendersOf(scenarios, keys) {
  const names = new Set();
  for (const k of keys) for (const n of Object.keys(scenarios[k]?.results ?? {})) names.add(n);
  return ORDER.filter((n) => names.has(n));
}

function legend(names, x, y, width = 830) {
  const step = Math.min(150, width / Math.max(1, names.length));
  return names
    .map((n, i) => {
      const lx = x + i * step;
      return `<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${COLORS[n]}"/><text x="${lx + 17}" y="${y}" class="l">${esc(n)}</text>`;
    })
    .join('');
}

/** Grouped bars per scenario: median, p10–p90 whiskers, log scale in ms. */
function latencySvg(result) {
  const keys = Object.keys(SHORT).filter((k) => result.scenarios[k]);
  const names = contendersOf(result.scenarios, keys);
  const W = 900;
  const H = 420;
  const left = 70;
  const right = 20;
  const top = 50;
  const bottom = 70;
  const plotH = H - top - bottom;
  const values = [];
  for (const k of keys) for (const r of Object.values(result.scenarios[k].results)) if (r.n) values.push(r.p10, r.p90, r.median);
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...values))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const y = (v) => top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  const groupW = (W - left - right) / keys.length;
  const barW = Math.min(28, (groupW - 20) / names.length);
  const parts = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > hi * 1.0001) continue;
      parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="${m === 1 ? 'g1' : 'g2'}"/>`);
      parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" class="ax" text-anchor="end">${v >= 1 ? v : v.toPrecision(1)}</text>`);
    }
  }
  keys.forEach((k, gi) => {
    const gx = left + gi * groupW + (groupW - barW * names.length) / 2;
    names.forEach((n, i) => {
      const r = result.scenarios[k].results[n];
      if (!r || !r.n) return;
      const x = gx + i * barW;
      const yt = y(r.median);
      parts.push(`<rect x="${x.toFixed(1)}" y="${yt.toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(top + plotH - yt).toFixed(1)}" fill="${COLORS[n]}"><title>${esc(n)}: median ${fmtMs(r.median)} ms (p10 ${fmtMs(r.p10)}, p90 ${fmtMs(r.p90)})</title></rect>`);
      const cx = x + (barW - 3) / 2;
      parts.push(`<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y(r.p10).toFixed(1)}" y2="${y(r.p90).toFixed(1)}" class="wh"/>`);
      parts.push(`<text x="${cx.toFixed(1)}" y="${(Math.min(yt, y(r.p90)) - 4).toFixed(1)}" class="v" text-anchor="middle">${fmtMs(r.median)}</text>`);
    });
    parts.push(`<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${H - bottom + 20}" class="ax" text-anchor="middle">${esc(SHORT[k])}</text>`);
  });
  return svg(
    W,
    H,
    `<text x="${left}" y="24" class="t">Latency per container, ms (log scale; bar: median, whisker: p10–p90; lower is better)</text>` +
      `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" class="axl"/>` +
      parts.join('') +
      legend(names, left, H - 18),
  );
}

/** Containers per second per contender, linear scale. */
function throughputSvg(result) {
  const s = result.scenarios.s5;
  if (!s) return null;
  const names = ORDER.filter((n) => s.results[n]?.n);
  const W = 760;
  const H = 320;
  const left = 60;
  const top = 50;
  const bottom = 60;
  const plotH = H - top - bottom;
  const max = Math.max(...names.map((n) => s.results[n].p90 ?? s.results[n].median));
  const step = 10 ** Math.floor(Math.log10(max || 1));
  const hi = Math.ceil((max * 1.1) / step) * step;
  const y = (v) => top + plotH - (v / hi) * plotH;
  const parts = [];
  for (let v = 0; v <= hi + 1e-9; v += step) {
    parts.push(`<line x1="${left}" x2="${W - 20}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="g2"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" class="ax" text-anchor="end">${+v.toFixed(6)}</text>`);
  }
  const barW = Math.min(80, (W - left - 40) / names.length - 20);
  names.forEach((n, i) => {
    const r = s.results[n];
    const x = left + 20 + i * (barW + 20);
    parts.push(`<rect x="${x}" y="${y(r.median).toFixed(1)}" width="${barW}" height="${(top + plotH - y(r.median)).toFixed(1)}" fill="${COLORS[n]}"/>`);
    parts.push(`<line x1="${x + barW / 2}" x2="${x + barW / 2}" y1="${y(r.p10).toFixed(1)}" y2="${y(r.p90).toFixed(1)}" class="wh"/>`);
    parts.push(`<text x="${x + barW / 2}" y="${(Math.min(y(r.median), y(r.p90)) - 4).toFixed(1)}" class="v" text-anchor="middle">${fmt(r.median, 1)}</text>`);
    parts.push(`<text x="${x + barW / 2}" y="${H - bottom + 18}" class="ax" text-anchor="middle">${esc(n)}</text>`);
  });
  return svg(W, H, `<text x="${left}" y="24" class="t">${esc(`Throughput: containers/s (${result.options.tpTotal} containers, ${result.options.tpConcurrency} at a time; higher is better)`)}</text>` + parts.join(''));
}

function svg(w, h, body) {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="Helvetica, Arial, sans-serif">` +
    '<style>.t{font-size:14px;font-weight:bold}.ax{font-size:11px;fill:#333}.l{font-size:12px}.v{font-size:9px;fill:#222}' +
    '.g1{stroke:#bbb;stroke-width:1}.g2{stroke:#e5e5e5;stroke-width:1}.axl{stroke:#333}.wh{stroke:#111;stroke-width:1.2}</style>' +
    `<rect width="${w}" height="${h}" fill="#fff"/>${body}</svg>\n`
  );
}

// ---------------------------------------------------------------------------------------

function median(result, key, name) {
  return result.scenarios[key]?.results?.[name]?.median;
}

/** The issue's targets, checked against this run. */
function targets(result) {
  const N = 'node-libcontainer';
  const out = [];
  const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
  const add = (scenario, target, value, limit, cmp, unit = '×') => {
    out.push({
      scenario,
      target,
      actual: value === null || value === undefined ? 'n/a' : `${fmt(value)}${unit}`,
      value,
      met: value === null || value === undefined ? null : cmp === '<=' ? value <= limit : value >= limit,
    });
  };
  add('1', '≤ 0.4× crun run', ratio(median(result, 's1', N), median(result, 's1', 'crun')), 0.4, '<=');
  add('1', '≤ 2.5× the kernel floor', ratio(median(result, 's1', N), median(result, 's1', 'floor')), 2.5, '<=');
  add('3', '≤ 0.2× crun start', ratio(median(result, 's3', N), median(result, 's3', 'crun')), 0.2, '<=');
  add('4', '≤ 0.4× crun exec', ratio(median(result, 's4', N), median(result, 's4', 'crun')), 0.4, '<=');
  add('5', '≥ 2× crun throughput', ratio(median(result, 's5', N), median(result, 's5', 'crun')), 2, '>=');
  const m = result.scenarios.s6?.results?.[N];
  add('6', 'no extra host process per container (1 = the container’s own)', m?.hostProcessesPerContainer ?? null, 1, '<=', ' processes');
  add('6', '≤ 100 KiB Node RSS per container', m?.nodeRssGrowthKiBPerContainer ?? null, 100, '<=', ' KiB');
  return out;
}

/** ", CPU steal 12%" for a scenario that recorded it (runs before it did not). */
function steal(s) {
  return s.stealPercent === undefined ? '' : `, CPU steal ${fmt(s.stealPercent, 1)}%`;
}

function latencyTable(s) {
  const rows = ['| contender | median | p10 | p90 | n | ratio to crun | note |', '|---|---:|---:|---:|---:|---:|---|'];
  for (const n of ORDER) {
    const r = s.results[n];
    if (!r) continue;
    const note = [r.note, r.error ? `error: ${r.error.slice(0, 160)}` : null].filter(Boolean).join('; ');
    const d = s.unit === 'ms' ? fmtMs : (x) => fmt(x, 1);
    rows.push(`| ${n} | ${d(r.median)} | ${d(r.p10)} | ${d(r.p90)} | ${r.n} | ${r.ratioToCrun !== undefined ? `${fmt(r.ratioToCrun)}×` : '—'} | ${esc(note)} |`);
  }
  return rows.join('\n');
}

function markdown(result, charts) {
  const m = result.machine;
  const L = [];
  L.push('# Performance');
  L.push('');
  L.push('<!-- Generated by `npm run bench` (bench/run.js) from bench/results/latest.json; the analysis');
  L.push('     section comes from bench/analysis.md. Edit those, not this file. -->');
  L.push('');
  L.push('node-libcontainer against the runtimes a Node user would call instead (crun, runc, bubblewrap)');
  L.push('and against the kernel floor (bench/floor.c), all in one run on one machine, driven from one');
  L.push('warm Node process; the peers through their command lines (child_process), as a user would.');
  L.push('Contenders run interleaved round by round (A B C A B C …) so drift hits all alike.');
  L.push('Reproduce with `npm run bench` as root (`--quick` for a smoke run; see bench/run.js for options).');
  L.push('');
  L.push('## This run');
  L.push('');
  L.push(`- Date: ${m.date}`);
  L.push(`- Kernel: ${m.kernel}; ${m.cpus} CPUs (${m.cpuModel}); ${m.memTotalMiB} MiB RAM; Node ${m.node}`);
  L.push(`- cgroups: ${result.cgroups.mode}; the benchmark's own cgroup: \`${result.cgroups.own}\` (peers' cgroups below \`${result.cgroups.own === '/' ? '' : result.cgroups.own}/nlc-bench/\`)`);
  if (result.stateRoots) L.push(`- State roots (node-libcontainer's \`root\`, crun's and runc's \`--root\`): bench/.work/state, on ${result.stateRoots === 'tmpfs' ? 'a tmpfs of the benchmark\'s, as /run is on a production host (this machine\'s /run is on its root disk)' : result.stateRoots}`);
  for (const [name, p] of Object.entries(result.peers)) L.push(`- ${name}: ${p.version} (\`${p.bin}\`)`);
  if (result.missing.length) L.push(`- Missing (not benchmarked): ${result.missing.join(', ')}`);
  L.push(`- Load average (1, 5, 15 min): ${result.load.before.join(' ')} before, ${result.load.after.join(' ')} after`);
  const o = result.options;
  L.push(`- Rounds: ${o.rounds} per latency scenario after ${o.warmup} warm-up rounds (the floor: ${o.floorBatch} iterations per round); throughput: ${o.tpRounds} rounds of ${o.tpTotal} containers, ${o.tpConcurrency} at a time, after ${o.tpWarmup ?? 0} warm-up round${(o.tpWarmup ?? 0) === 1 ? '' : 's'}; memory: ${o.memContainers} containers`);
  for (const n of result.notes) L.push(`- ${n}`);
  L.push('');
  L.push('The bundle: one busybox rootfs (bench/.work/bundle) with a `runc spec`-style config:');
  L.push('namespaces pid, network, ipc, uts, mount; read-only rootfs; `/bin/true`; no terminal; the');
  L.push('default mounts, masked and read-only paths, capabilities, rlimits and device rule. Each peer');
  L.push('container gets its own copy of config.json (with its own `cgroupsPath`) over the same rootfs.');
  L.push('bwrap gets the same rootfs read-only and the same namespaces (`--unshare-pid --unshare-net');
  L.push('--unshare-ipc --unshare-uts --ro-bind rootfs / --proc /proc --dev /dev /bin/true`).');
  L.push('');
  L.push('## Targets (issue #4)');
  L.push('');
  L.push('| scenario | target | this run | |');
  L.push('|---|---|---:|---|');
  for (const t of result.targets) L.push(`| ${t.scenario} | ${esc(t.target)} | ${t.actual} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**missed**'} |`);
  L.push('');
  const fs1 = median(result, 's1', 'floor+spec');
  const fs5 = median(result, 's5', 'floor+spec');
  if (fs1 !== undefined || fs5 !== undefined) {
    const r = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? `${fmt(a / b)}×` : 'n/a');
    L.push(
      `For reference (no target uses it): \`floor+spec\` is bench/floor.c --spec, the floor loop doing this spec's own kernel work (the cgroup directories, joins and device rules, \`lo\`, the mounts, /dev, pivot_root, masked and read-only paths, the process's limits and capabilities) with no runtime around it: scenario 1 ${fmtMs(fs1)} ms, ${r(fs1, median(result, 's1', 'floor'))} the floor (node-libcontainer: ${r(median(result, 's1', 'node-libcontainer'), fs1)} it); scenario 5 ${fmt(fs5, 1)} containers/s, ${r(fs5, median(result, 's5', 'crun'))} crun's (node-libcontainer: ${r(median(result, 's5', 'node-libcontainer'), fs5)} it).`,
    );
    L.push('');
  }
  L.push('## Charts');
  L.push('');
  for (const c of charts) L.push(`![${c.alt}](${c.rel})`, '');
  L.push('## Latency scenarios');
  L.push('');
  for (const key of Object.keys(SHORT)) {
    const s = result.scenarios[key];
    if (!s) continue;
    L.push(`### ${esc(s.title)}`);
    L.push('');
    L.push(`Times in ms. Load ${s.loadBefore.join(' ')} before, ${s.loadAfter.join(' ')} after (${fmt(s.seconds, 1)} s)${steal(s)}.`);
    L.push('');
    L.push(latencyTable(s));
    L.push('');
  }
  const s5 = result.scenarios.s5;
  if (s5) {
    L.push(`### ${esc(s5.title)}`);
    L.push('');
    L.push(`Containers per second (higher is better; the ratio is ours over crun's). Load ${s5.loadBefore.join(' ')} before, ${s5.loadAfter.join(' ')} after${steal(s5)}.`);
    L.push('');
    L.push(latencyTable(s5));
    L.push('');
    const cpu = ORDER.filter((n) => s5.results[n]?.machineCpuMsPerContainer !== undefined).map((n) => `${n} ${fmt(s5.results[n].machineCpuMsPerContainer, 2)} ms`);
    if (cpu.length) {
      L.push(`Machine CPU per container (both CPUs' busy time, steal left out, over each contender's timed rounds; median): ${cpu.join(', ')}.`);
      L.push('');
    }
  }
  const s6 = result.scenarios.s6;
  if (s6) {
    L.push(`### ${esc(s6.title)}`);
    L.push('');
    L.push('Host processes per container: processes in the containers\' pid namespaces plus helpers (other');
    L.push('descendants of the Node process: monitors, shims); 1.00 means only the container\'s own process.');
    L.push('Node RSS growth: `process.memoryUsage().rss` after a full GC, with the containers running, minus');
    L.push('before, per container (for the peers it is what driving their CLIs costs Node).');
    L.push('');
    L.push('| contender | host processes / container | of which helpers | helpers\' RSS / container | Node RSS growth / container | start all (s) |');
    L.push('|---|---:|---:|---:|---:|---:|');
    for (const n of ORDER) {
      const r = s6.results[n];
      if (!r) continue;
      if (r.error) {
        L.push(`| ${n} | error: ${esc(r.error.slice(0, 120))} | | | | |`);
        continue;
      }
      L.push(`| ${n} | ${fmt(r.hostProcessesPerContainer)} | ${fmt(r.helperProcessesPerContainer)} | ${fmt(r.helperRssKiBPerContainer, 0)} KiB | ${fmt(r.nodeRssGrowthKiBPerContainer, 1)} KiB | ${fmt(r.startAllMs / 1000)} |`);
    }
    L.push('');
  }
  const p = result.profile;
  if (p) {
    L.push('## Profile: where node-libcontainer\'s time goes in scenario 1');
    L.push('');
    L.push(`Median per span over ${p.iterations} iterations of create + run + wait + destroy of`);
    L.push('`/bin/true`, measured from the TS parent without touching lib/: the injected native binding is');
    L.push('wrapped in a Proxy that timestamps its calls and callbacks (spawn, the sync channel\'s messages');
    L.push('both ways, the exit watch), and the public calls are timed around. "helper" spans are the init');
    L.push('helper\'s work as seen from the parent (message sent → answer received).');
    L.push('');
    L.push('| span | who | median ms | p10 | p90 | share |');
    L.push('|---|---|---:|---:|---:|---:|');
    for (const s of p.spans) {
      if (!s.n) {
        L.push(`| ${esc(s.label)} | ${s.who} | — | | | |`);
        continue;
      }
      L.push(`| ${esc(s.label)} | ${s.who} | ${fmt(s.median, 3)} | ${fmt(s.p10, 3)} | ${fmt(s.p90, 3)} | ${fmt((100 * s.median) / p.total.median, 0)}% |`);
    }
    L.push(`| **total** (create → destroyed) | | **${fmt(p.total.median, 3)}** | ${fmt(p.total.p10, 3)} | ${fmt(p.total.p90, 3)} | |`);
    L.push('');
    L.push(`Of createContainer, validateConfig alone takes ${fmt(p.createSplit.validate.median, 3)} ms and buildInitPlan`);
    L.push(`${fmt(p.createSplit.plan.median, 3)} ms (measured separately on the same config); the rest is the state directory.`);
    L.push('');
    if (p.initLogArrivals.length) {
      const clocked = p.initLogArrivals.some((l) => l.helperClockAfterSpawn);
      L.push('The init helper\'s own stages, from its debug lines (the profile turns debug logging on,');
      L.push('which the timed scenarios do not, so these runs are a little slower). Each line carries the');
      L.push('helper\'s CLOCK_MONOTONIC time, the clock of `process.hrtime`: that gives when the helper got');
      L.push('there, counted from the parent\'s start of the spawn, and so how long each stage took. The');
      L.push('last column is when the line reached the parent, counted from the bootstrap message: an upper');
      L.push('bound, as the parent reads the log pipe when its loop gets to it.');
      L.push('');
      if (clocked) {
        L.push('| helper log line | helper\'s clock: ms after spawn began (median) | since the line before | reached the parent: ms after bootstrap sent |');
        L.push('|---|---:|---:|---:|');
      } else {
        L.push('| helper log line | reached the parent: ms after bootstrap sent (median) |');
        L.push('|---|---:|');
      }
      let previous = null;
      for (const l of p.initLogArrivals) {
        if (!clocked) {
          L.push(`| ${esc(l.msg.slice(0, 100))} | ${fmt(l.afterBootstrapSent.median, 3)} |`);
          continue;
        }
        const own = l.helperClockAfterSpawn?.median;
        const step = own !== undefined && previous !== null ? fmt(own - previous, 3) : '';
        if (own !== undefined) previous = own;
        L.push(`| ${esc(l.msg.slice(0, 100))} | ${own !== undefined ? fmt(own, 3) : '—'} | ${step} | ${fmt(l.afterBootstrapSent.median, 3)} |`);
      }
      L.push('');
    }
  }
  let analysis = '';
  try {
    analysis = fs.readFileSync(path.join(env.BENCH_DIR, 'analysis.md'), 'utf8').trim();
  } catch {
    analysis = '';
  }
  if (analysis) L.push(analysis, '');
  if (result.cleanup?.problems?.length) {
    L.push('## Left behind by this run');
    L.push('');
    for (const pr of result.cleanup.problems) L.push(`- ${esc(pr)}`);
    L.push('');
  }
  return `${L.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}

function writeDocs(result) {
  fs.mkdirSync(RESULTS, { recursive: true });
  const written = [];
  const charts = [];
  const lat = latencySvg(result);
  const latFile = path.join(RESULTS, 'latency.svg');
  fs.writeFileSync(latFile, lat);
  written.push(latFile);
  charts.push({ alt: 'Latency per scenario and contender', rel: path.relative(path.dirname(DOC), latFile) });
  const tp = throughputSvg(result);
  if (tp) {
    const tpFile = path.join(RESULTS, 'throughput.svg');
    fs.writeFileSync(tpFile, tp);
    written.push(tpFile);
    charts.push({ alt: 'Throughput per contender', rel: path.relative(path.dirname(DOC), tpFile) });
  }
  fs.writeFileSync(DOC, markdown(result, charts));
  written.push(DOC);
  return written;
}

module.exports = { targets, writeDocs, latencySvg, throughputSvg, markdown };
