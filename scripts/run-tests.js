#!/usr/bin/env node
'use strict';
// Runs the compiled unit tests (concurrently) and integration tests (one file at a time:
// they share the machine's cgroups, mounts and pid space), then checks for residue.
// Prints `N passed, N failed, N skipped` and exits non-zero on any failure or residue.
// NLC_REQUIRE_INTEGRATION=1 (set by CI) also fails when integration tests were skipped or
// none ran, so a CI machine that silently lost root cannot pass.
// NLC_TEST_TIMEOUT_MS bounds each phase (default 15 minutes); a hung phase is killed.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const PHASES = [
  { name: 'unit', dir: 'dist/test/unit', args: ['--test-timeout=60000'] },
  { name: 'integration', dir: 'dist/test/integration', args: ['--test-concurrency=1', '--test-timeout=120000'] },
];
const PHASE_TIMEOUT_MS = Number(process.env.NLC_TEST_TIMEOUT_MS) || 15 * 60 * 1000;

/** Every *.test.js below dir, sorted (node 20's --test does not take globs). */
function testFiles(dir, out = []) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return out;
    throw err;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) testFiles(full, out);
    else if (entry.isFile() && entry.name.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}

/** The totals node's TAP reporter prints at the end (`# pass 3`, ...). */
function parseTapTotals(tap) {
  const totals = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
  let seen = false;
  for (const line of tap.split('\n')) {
    const m = /^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$/.exec(line.trim());
    if (m) {
      totals[m[1]] = Number(m[2]);
      seen = true;
    }
  }
  return seen ? totals : undefined;
}

function runPhase(phase, tmpDir) {
  const files = testFiles(path.join(root, phase.dir));
  if (files.length === 0) {
    console.log(`\n== ${phase.name} tests: no test files under ${phase.dir}`);
    return Promise.resolve({ files: 0, totals: undefined, ok: true });
  }
  const tapFile = path.join(tmpDir, `${phase.name}.tap`);
  const args = [
    '--test',
    ...phase.args,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files.map((f) => path.relative(root, f)),
  ];
  console.log(`\n== ${phase.name} tests: ${files.length} file(s)`);
  return new Promise((resolve) => {
    const child = childProcess.spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`run-tests: ${phase.name} tests still running after ${PHASE_TIMEOUT_MS} ms; killing them`);
      child.kill('SIGKILL');
    }, PHASE_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      console.error(`run-tests: cannot run node --test: ${err.message}`);
      resolve({ files: files.length, totals: undefined, ok: false });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let tap = '';
      try {
        tap = fs.readFileSync(tapFile, 'utf8');
      } catch {
        // the runner died before writing: counted as a failure below
      }
      const totals = parseTapTotals(tap);
      if (!totals) console.error(`run-tests: no totals from the ${phase.name} test runner (exit ${code ?? signal})`);
      resolve({ files: files.length, totals, ok: code === 0 && !timedOut && totals !== undefined });
    });
  });
}

async function main() {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-run-tests-'));
  const results = {};
  try {
    for (const phase of PHASES) results[phase.name] = await runPhase(phase, tmpDir);
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }

  const failures = [];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const [name, r] of Object.entries(results)) {
    if (r.totals) {
      passed += r.totals.pass;
      failed += r.totals.fail + r.totals.cancelled;
      skipped += r.totals.skipped + r.totals.todo;
    }
    if (!r.ok) failures.push(`${name} tests failed`);
  }

  if (process.env.NLC_REQUIRE_INTEGRATION === '1') {
    const t = results.integration.totals;
    if (!t || t.pass + t.fail + t.cancelled === 0) failures.push('NLC_REQUIRE_INTEGRATION=1 but no integration test ran');
    else if (t.skipped + t.todo > 0) failures.push(`NLC_REQUIRE_INTEGRATION=1 but ${t.skipped + t.todo} integration test(s) were skipped`);
  }

  console.log('\n== residue check');
  const residue = childProcess.spawnSync(
    process.execPath,
    [path.join(__dirname, 'check-residue.js'), '--parent', String(process.pid)],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (residue.status !== 0) failures.push('the tests left residue behind');

  console.log('');
  for (const f of failures) console.log(`run-tests: ${f}`);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`run-tests: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  },
);
