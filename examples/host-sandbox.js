#!/usr/bin/env node
'use strict';
// Run a command in a host sandbox: the host's /usr read-only, a minimal /etc, private /tmp
// and /dev, no network. Needs root.
//   node examples/host-sandbox.js                      # prints hostname, pid and uid inside
//   node examples/host-sandbox.js -- uname -a          # any host program
//   NLC_WORKSPACE=/some/dir node examples/host-sandbox.js -- ls -la   # with /workspace

const { createContainer, hostSandbox } = require('..');

async function main() {
  const dashdash = process.argv.indexOf('--');
  const args = dashdash >= 0 ? process.argv.slice(dashdash + 1) : undefined;
  const sandbox = hostSandbox({
    args: args && args.length > 0 ? args : undefined,
    workspace: process.env.NLC_WORKSPACE || undefined,
    memoryLimit: 256 * 1024 * 1024,
    pidsLimit: 64,
  });
  let container;
  try {
    container = await createContainer(`example-${process.pid}`, sandbox.config);
    const proc = await container.run({ stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.pipe(process.stdout, { end: false });
    proc.stderr.pipe(process.stderr, { end: false });
    const streamsDone = Promise.all([ended(proc.stdout), ended(proc.stderr)]);
    const { exitCode, signal } = await proc.wait();
    await streamsDone;
    console.error(`[host-sandbox] container init (host pid ${proc.pid}) exited: ${signal ? `signal ${signal}` : `code ${exitCode}`}`);
    return exitCode === 0 ? 0 : 1;
  } finally {
    // Destroy before removing the rootfs dir: it kills and reaps whatever still runs there.
    try {
      if (container) await container.destroy();
    } finally {
      await sandbox.cleanup();
    }
  }
}

function ended(stream) {
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) resolve();
    else stream.once('close', resolve);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`[host-sandbox] failed: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  },
);
