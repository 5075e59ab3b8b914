import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

// The package is usable from CommonJS (require, as Jest does) and ESM (import), by its name.
const root = path.resolve(__dirname, '..', '..', '..');
const names = ['createContainer', 'loadContainer', 'listContainers', 'ConfigError', 'InitError', 'hostSandbox'];

test('require("node-libcontainer") exposes the API', () => {
  const out = execFileSync(process.execPath, ['-e', `const m = require('node-libcontainer'); console.log(${JSON.stringify(names)}.map((n) => typeof m[n]).join(','))`], { cwd: root }).toString().trim();
  assert.equal(out, names.map(() => 'function').join(','));
});

test('import from "node-libcontainer" exposes the same API, same classes', () => {
  const script = `import * as m from 'node-libcontainer'; import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('node-libcontainer');
console.log(${JSON.stringify(names)}.map((n) => typeof m[n]).join(','), m.ConfigError === cjs.ConfigError);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root }).toString().trim();
  assert.equal(out, `${names.map(() => 'function').join(',')} true`);
});
