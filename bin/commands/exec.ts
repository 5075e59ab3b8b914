/**
 * `exec ID ARGS...` (or `--process FILE`): a process in the running container, as runc exec.
 * Foreground: signals forwarded, exit with its status; --detach: exit once it runs.
 * Flags end at the container's id: what follows is the program's own command line.
 */
import * as fs from 'node:fs';
import { loadContainer } from '../../lib';
import type { Process as OciProcess } from '../../types/oci';
import type { FlagSpec } from '../args';
import { UsageError } from '../args';
import { containerOptions, type Command } from '../command';
import { checkProcess, execProcess, processOptionsFromSpec } from '../process-spec';
import { checkTerminal, extraFiles, forwardSignals, sendTerminal, setProcessStdio, waitInForeground, writePidFile } from '../stdio';

const EXEC_FLAGS: readonly FlagSpec[] = [
  { name: 'console-socket', type: 'string', help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
  { name: 'cwd', type: 'string', help: 'current working directory in the container' },
  { name: 'env', aliases: ['e'], type: 'list', help: 'set environment variables' },
  { name: 'tty', aliases: ['t'], type: 'bool', help: 'allocate a pseudo-TTY' },
  { name: 'user', aliases: ['u'], type: 'string', help: 'UID (format: <uid>[:<gid>])' },
  { name: 'additional-gids', aliases: ['g'], type: 'list', help: 'additional gids' },
  { name: 'process', aliases: ['p'], type: 'string', help: 'path to the process.json' },
  { name: 'detach', aliases: ['d'], type: 'bool', help: "detach from the container's process" },
  { name: 'pid-file', type: 'string', help: 'specify the file to write the process id to' },
  { name: 'process-label', type: 'string', help: 'set the asm process label for the process commonly used with selinux (not supported: refused)' },
  { name: 'apparmor', type: 'string', help: 'set the apparmor profile for the process (not supported: refused)' },
  { name: 'no-new-privs', type: 'bool', help: 'set the no new privileges value for the process' },
  { name: 'cap', aliases: ['c'], type: 'list', help: 'add a capability to the bounding set for the process' },
  { name: 'preserve-fds', type: 'int', help: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)' },
  { name: 'cgroup', type: 'string', help: 'run the process in an (existing) sub-cgroup. Format is <cgroup> (no per-controller form)' },
  { name: 'ignore-paused', type: 'bool', help: 'allow exec in a paused container (not supported: refused)' },
];

function readProcessFile(file: string): OciProcess {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read process ${file}: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`process ${file}: must be a JSON object`);
  return value as OciProcess;
}

export const exec: Command = {
  name: 'exec',
  usage: '<container-id> <command> [command options]  || -p process.json <container-id>',
  description: 'execute new process inside the container',
  flags: EXEC_FLAGS,
  args: { min: 1 },
  errorPrefix: () => 'exec failed: ',
  errorExitCode: 255,
  interspersed: false,
  async run(ctx, flags) {
    const [id, ...args] = flags.positionals as [string, ...string[]];
    if (flags.bool('ignore-paused')) throw new UsageError('--ignore-paused is not supported: a paused container refuses exec');
    const container = await loadContainer(id, containerOptions(ctx));
    const file = flags.string('process');
    const oci = file
      ? readProcessFile(file)
      : execProcess(container.config.process ?? { cwd: '/' }, {
          args,
          cwd: flags.string('cwd'),
          env: flags.list('env'),
          user: flags.string('user'),
          additionalGids: flags.list('additional-gids'),
          caps: flags.list('cap'),
          tty: flags.isSet('tty') ? flags.bool('tty') : undefined,
          noNewPrivs: flags.isSet('no-new-privs') ? flags.bool('no-new-privs') : undefined,
          apparmor: flags.string('apparmor'),
          processLabel: flags.string('process-label'),
        });
    checkProcess(oci);
    const detach = flags.bool('detach');
    const consoleSocket = flags.string('console-socket');
    checkTerminal(detach, oci.terminal === true, consoleSocket);
    const options = processOptionsFromSpec(oci);
    options.init = false;
    const extra = extraFiles(flags.int('preserve-fds'));
    options.extraFiles = extra.fds;
    if (extra.env.length > 0) options.env = [...(options.env ?? []), ...extra.env];
    setProcessStdio(options, options.terminal === true, detach, consoleSocket);
    const cgroup = flags.string('cgroup');
    if (cgroup) {
      if (cgroup.includes(':')) throw new UsageError(`--cgroup ${JSON.stringify(cgroup)}: the per-controller form is not supported, give one path for all`);
      options.subCgroupPath = cgroup;
    }
    const forwarder = detach ? null : forwardSignals();
    let proc;
    try {
      proc = await container.run(options);
    } catch (err) {
      forwarder?.stop();
      throw err;
    }
    try {
      if (consoleSocket) sendTerminal(proc, consoleSocket);
      const pidFile = flags.string('pid-file');
      if (pidFile) writePidFile(pidFile, proc.pid);
    } catch (err) {
      // A process the caller cannot reach (no console, no pid file) is of no use to it.
      proc.signal('SIGKILL');
      forwarder?.stop();
      throw err;
    }
    if (!forwarder) {
      proc.unref();
      return 0;
    }
    return waitInForeground(proc, forwarder);
  },
};
