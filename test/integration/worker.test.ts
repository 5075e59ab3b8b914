/**
 * The library in worker_threads: a Worker terminated while a container it started still runs
 * (its exit watch and streams live on the Worker's loop) must end alone, not abort the
 * process; the container outlives it, as it outlives a Node process, and is found by id.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadContainer, listContainers } from '../../lib';
import { skipUnlessRoot, makeConfig, tempRoot, withTimeout } from './helpers';

const skip = skipUnlessRoot();

// Runs in the Worker: create and run a sleeping container, say so, and wait to be terminated.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createContainer } = require(workerData.lib);
(async () => {
  const c = await createContainer(workerData.id, workerData.config, { root: workerData.root });
  const p = await c.run({ stdio: ['pipe', 'pipe', 'pipe'] });
  p.stdout.on('data', () => {});
  parentPort.postMessage(p.pid);
})().catch((err) => parentPort.postMessage(String(err)));
`;

// Runs in the Worker: a sleeping container and a short process exec'd into it, then terminated.
const WORKER_EXEC = `
const { parentPort, workerData } = require('node:worker_threads');
const { createContainer } = require(workerData.lib);
(async () => {
  const c = await createContainer(workerData.id, workerData.config, { root: workerData.root });
  await c.run({ stdio: 'ignore' });
  const q = await c.run({ init: false, args: ['sleep', '1'], stdio: 'ignore' });
  parentPort.postMessage(q.pid);
})().catch((err) => parentPort.postMessage(String(err)));
`;

function zombieChild(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return / Z \d+ /.test(stat.slice(stat.lastIndexOf(')'))) && Number(stat.slice(stat.lastIndexOf(')') + 4).split(' ')[0]) === process.pid;
  } catch {
    return false;
  }
}

describe('worker threads', { skip }, () => {
  const t = tempRoot();
  after(() => t.cleanup());

  test('terminating a Worker whose container runs: the process goes on, the container is left running and can be destroyed', async () => {
    const lib = path.resolve(__dirname, '../../lib/index.js');
    const config = makeConfig({ process: { args: ['sleep', '1000'] } });
    // A few rounds: the abort this guards against (a callback into the Worker's JS during its
    // termination) depended on timing.
    for (let i = 0; i < 6; i++) {
      const id = `worker-term-${i}`;
      const w = new Worker(WORKER, { eval: true, workerData: { lib, id, config, root: t.root } });
      const pid = await new Promise<unknown>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      assert.equal(typeof pid, 'number', String(pid));
      assert.equal(await w.terminate(), 1);
      const c = await loadContainer(id, { root: t.root });
      assert.equal(await c.status(), 'running');
      await c.destroy();
      // Our child still, with nobody left to reap it but this destroy: not left a zombie.
      assert.equal(zombieChild(pid as number), false, `pid ${pid as number} left a zombie`);
    }
    assert.deepEqual(await listContainers({ root: t.root }), []);
  });

  test('a process exec\'d from a terminated Worker is reaped when it exits, so destroy() from another thread ends', async () => {
    const lib = path.resolve(__dirname, '../../lib/index.js');
    const config = makeConfig({ process: { args: ['sleep', '1000'] } });
    const id = 'worker-term-exec';
    const w = new Worker(WORKER_EXEC, { eval: true, workerData: { lib, id, config, root: t.root } });
    const pid = await new Promise<unknown>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    assert.equal(typeof pid, 'number', String(pid));
    assert.equal(await w.terminate(), 1);
    // Its reaper lived in the Worker. Left a zombie, it would hold the container's init in its
    // exit (a pid namespace's init waits for all its children to be reaped) and destroy() forever.
    const deadline = Date.now() + 10_000;
    while (fs.existsSync(`/proc/${pid as number}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fs.existsSync(`/proc/${pid as number}`), false, `pid ${pid as number} ${zombieChild(pid as number) ? 'left a zombie' : 'still runs'}`);
    const c = await loadContainer(id, { root: t.root });
    await withTimeout(c.destroy(), 30_000, 'destroy after the Worker ended');
    assert.deepEqual(await listContainers({ root: t.root }), []);
  });
});
