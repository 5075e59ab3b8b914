/**
 * What `create` and `run` share (runc's startContainer): the container made from the bundle,
 * its init started with this process's stdio (or a terminal), the pty master sent to the
 * console socket, the pid file written.
 */
import { createContainer, type Container, type Process, type ProcessOptions } from '../../lib';
import type { FlagSpec, ParsedFlags } from '../args';
import { UsageError } from '../args';
import { bundleDir, loadSpec } from '../bundle';
import { containerOptions, type CommandContext } from '../command';
import { checkTerminal, extraFiles, sendTerminal, setProcessStdio, writePidFile } from '../stdio';

export const CREATE_FLAGS: readonly FlagSpec[] = [
  { name: 'bundle', aliases: ['b'], type: 'string', help: 'path to the root of the bundle directory, defaults to the current directory' },
  { name: 'console-socket', type: 'string', help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
  { name: 'pid-file', type: 'string', help: 'specify the file to write the process id to' },
  { name: 'no-pivot', type: 'bool', help: 'do not use pivot root to jail process inside rootfs (not supported: refused)' },
  { name: 'no-new-keyring', type: 'bool', help: 'do not create a new session keyring for the container (accepted; every container gets its own keyring here)' },
  { name: 'preserve-fds', type: 'int', help: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)' },
];

export interface StartedInit {
  container: Container;
  init: Process;
}

/**
 * `create` (the init waits on the exec fifo: status created) or `run` (it runs the program).
 * A failure after the container was made destroys it: nothing is left behind.
 */
export async function startInit(ctx: CommandContext, flags: ParsedFlags, mode: 'create' | 'run', detach: boolean): Promise<StartedInit> {
  const id = flags.positionals[0]!;
  if (flags.bool('no-pivot')) throw new UsageError('--no-pivot is not supported: the rootfs is always entered with pivot_root');
  const bundle = bundleDir(flags.string('bundle'));
  const spec = loadSpec(bundle);
  const terminal = spec.process?.terminal === true;
  const consoleSocket = flags.string('console-socket');
  checkTerminal(detach, terminal, consoleSocket);
  const extra = extraFiles(flags.int('preserve-fds'));
  const options: ProcessOptions = { extraFiles: extra.fds };
  setProcessStdio(options, terminal, detach, consoleSocket); // (create is always detached)
  if (extra.env.length > 0) options.env = [...(spec.process?.env ?? []), ...extra.env];
  const container = await createContainer(id, spec, containerOptions(ctx, { bundle }));
  try {
    const init = mode === 'create' ? await container.start(options) : await container.run(options);
    if (consoleSocket) sendTerminal(init, consoleSocket);
    const pidFile = flags.string('pid-file');
    if (pidFile) writePidFile(pidFile, init.pid);
    return { container, init };
  } catch (err) {
    await container.destroy().catch((e: unknown) => ctx.logger.warn(`removing container ${id} after a failed ${mode}: ${(e as Error).message}`));
    throw err;
  }
}
