#!/usr/bin/env node
'use strict';
// An interactive shell in a host sandbox, on a terminal of its own (terminal: true): the
// container's pty is wired to ours, raw, and follows our window size. Needs root.
//   node examples/shell.js                 # /bin/sh in the sandbox
//   node examples/shell.js -- top          # any host program that wants a terminal

const { createContainer, hostSandbox } = require('..');

async function main() {
  const dashdash = process.argv.indexOf('--');
  const args = dashdash >= 0 && process.argv.length > dashdash + 1 ? process.argv.slice(dashdash + 1) : ['/bin/sh'];
  const sandbox = hostSandbox({ args, memoryLimit: 256 * 1024 * 1024, pidsLimit: 64 });
  const size = () => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 });
  let container;
  const interactive = process.stdin.isTTY === true;
  try {
    container = await createContainer(`shell-${process.pid}`, sandbox.config);
    const { cols, rows } = size();
    const proc = await container.run({ terminal: true, consoleSize: { width: cols, height: rows } });
    // Keys go through untouched (^C reaches the container's shell, not us).
    if (interactive) process.stdin.setRawMode(true);
    process.stdin.pipe(proc.terminal);
    proc.terminal.pipe(process.stdout, { end: false });
    const onResize = () => proc.resize(size());
    process.stdout.on('resize', onResize);
    const { exitCode, signal } = await proc.wait();
    process.stdout.off('resize', onResize);
    process.stdin.unpipe(proc.terminal);
    return signal ? 128 : exitCode ?? 1;
  } finally {
    if (interactive) process.stdin.setRawMode(false);
    process.stdin.pause();
    try {
      if (container) await container.destroy();
    } finally {
      await sandbox.cleanup();
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`[shell] failed: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  },
);
