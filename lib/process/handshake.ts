/**
 * The parent side of runc's sync protocol as a pure state machine (no I/O): "message X in
 * phase Y means action Z". Port of the parseSync callbacks in (*initProcess).start and
 * (*setnsProcess).start. The I/O lives in ./start.ts. See docs/protocol.md.
 */
import { HookError, InitError, ProtocolError, type ContainerError, type InitFailure } from '../errors';

export type Mode = 'init' | 'exec';

export type Phase = 'booting' | 'hooks' | 'ready' | 'done' | 'failed';

export interface HandshakeState {
  readonly mode: Mode;
  readonly phase: Phase;
  /** Set once the helper reported the final process (it forked after joining a pid ns). */
  readonly childPid: number | null;
  /** procReady waits for procRun; false: the helper said it goes on alone (bootstrap readyAck). */
  readonly readyAck: boolean;
  /** The plan asked for a terminal: procConsole must come, once, before procReady. */
  readonly terminal: boolean;
  readonly haveConsole: boolean;
  /** The filter has notify rules: procSeccomp comes once, after procReady (where runc loads the filter) or before. */
  readonly seccompNotify: boolean;
  readonly haveSeccomp: boolean;
}

/** What arrives from the helper: a parsed datagram, or the end of the socket. */
export type InitMessage =
  | { type: 'child'; pid: number; fds: number[] }
  | { type: 'procHooks' }
  | { type: 'procConsole'; fds: number[] }
  | { type: 'procSeccomp'; fd: number }
  | { type: 'procReady' }
  | ({ type: 'procError' } & InitFailure)
  | { type: 'eof' };

export type Action =
  /** The final process is `pid`, watched through `pidfd`; the first child was only an intermediate. */
  | { kind: 'adoptChild'; pid: number; pidfd: number }
  /** The seccomp listener is fd `fd` in the helper: take it (pidfd_getfd), send procSeccompDone, give it to the agent. */
  | { kind: 'seccomp'; fd: number }
  /** The process's terminal: `fd` is the pty's master end (process.terminal). */
  | { kind: 'adoptConsole'; fd: number }
  /** Apply cgroup resources, run prestart and createRuntime hooks, then `hooksDone`. */
  | { kind: 'runHooks' }
  /** ack: set rlimits, send procRun; either way save the state. */
  | { kind: 'ready'; ack: boolean }
  /** Start succeeded. */
  | { kind: 'resolve' }
  /** Start failed. */
  | { kind: 'reject'; error: ContainerError };

export interface Step {
  state: HandshakeState;
  actions: Action[];
}

export function initialState(mode: Mode, readyAck = true, terminal = false, seccompNotify = false): HandshakeState {
  return { mode, phase: 'booting', childPid: null, readyAck, terminal, haveConsole: false, seccompNotify, haveSeccomp: false };
}

function fail(state: HandshakeState, error: ContainerError): Step {
  return { state: { ...state, phase: 'failed' }, actions: [{ kind: 'reject', error }] };
}

function unexpected(state: HandshakeState, received: string): Step {
  return fail(
    state,
    new ProtocolError(`unexpected ${received} from init in phase ${state.phase} (${state.mode} mode)`),
  );
}

/**
 * A failure the helper reported. A createContainer or startContainer hook (run by the helper,
 * in the container's namespaces) that failed is a HookError, as the parent's own hooks are;
 * the helper's report stays its cause.
 */
export function initFailure(failure: InitFailure): ContainerError {
  const error = new InitError(failure);
  const hook = failure.stage === 'hooks' ? /^(createContainer|startContainer) hook (.*)$/s.exec(failure.message) : null;
  return hook ? new HookError(hook[1], hook[2], { cause: error }) : error;
}

/** Feed one message from the helper. */
export function receive(state: HandshakeState, message: InitMessage): Step {
  if (state.phase === 'done' || state.phase === 'failed') {
    // Nothing more is expected; late messages are ignored (their fds are the caller's to close).
    return { state, actions: [] };
  }
  switch (message.type) {
    case 'procError':
      return fail(state, initFailure(message));
    case 'child':
      if (state.phase !== 'booting' || state.childPid !== null) return unexpected(state, 'child');
      if (message.fds.length !== 1 || !Number.isInteger(message.pid) || message.pid <= 0) {
        return fail(state, new ProtocolError('malformed child message: expected a pid and one pidfd'));
      }
      return {
        state: { ...state, childPid: message.pid },
        actions: [{ kind: 'adoptChild', pid: message.pid, pidfd: message.fds[0] }],
      };
    case 'procHooks':
      if (state.mode !== 'init' || state.phase !== 'booting') return unexpected(state, 'procHooks');
      return { state: { ...state, phase: 'hooks' }, actions: [{ kind: 'runHooks' }] };
    case 'procConsole':
      if (!state.terminal || state.haveConsole || state.phase !== 'booting') return unexpected(state, 'procConsole');
      if (message.fds.length !== 1) return fail(state, new ProtocolError('malformed procConsole: expected one fd (the pty master)'));
      return { state: { ...state, haveConsole: true }, actions: [{ kind: 'adoptConsole', fd: message.fds[0] }] };
    case 'procSeccomp':
      if (!state.seccompNotify || state.haveSeccomp || (state.phase !== 'booting' && state.phase !== 'ready')) return unexpected(state, 'procSeccomp');
      if (!Number.isInteger(message.fd) || message.fd < 0) return fail(state, new ProtocolError('malformed procSeccomp: expected the listener\'s fd number'));
      return { state: { ...state, haveSeccomp: true }, actions: [{ kind: 'seccomp', fd: message.fd }] };
    case 'procReady':
      if (state.phase !== 'booting') return unexpected(state, 'procReady');
      if (state.terminal && !state.haveConsole) return fail(state, new ProtocolError('init reported procReady without the terminal it was asked for (procConsole)'));
      return { state: { ...state, phase: 'ready' }, actions: [{ kind: 'ready', ack: state.readyAck }] };
    case 'eof':
      if (state.phase === 'ready' && state.seccompNotify && !state.haveSeccomp) {
        return fail(state, new ProtocolError('init finished without handing over its seccomp listener (procSeccomp)'));
      }
      if (state.phase === 'ready') {
        return { state: { ...state, phase: 'done' }, actions: [{ kind: 'resolve' }] };
      }
      return fail(state, new ProtocolError(`init exited before procReady (phase ${state.phase})`));
  }
}

/** The parent finished the work of a `runHooks` action. */
export function hooksDone(state: HandshakeState): Step {
  if (state.phase !== 'hooks') return unexpected(state, 'hooksDone');
  return { state: { ...state, phase: 'booting' }, actions: [] };
}

/** The parent failed while doing an action (hook failed, rlimit refused, ...). */
export function parentFailed(state: HandshakeState, error: ContainerError): Step {
  if (state.phase === 'done' || state.phase === 'failed') return { state, actions: [] };
  return fail(state, error);
}

/** Parse one datagram into an InitMessage (fds attached); malformed input is a ProtocolError. */
export function parseMessage(data: Buffer, fds: number[]): InitMessage {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (cause) {
    throw new ProtocolError(`invalid JSON from init: ${JSON.stringify(data.subarray(0, 200).toString())}`, { cause });
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    throw new ProtocolError('message from init has no type');
  }
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'child':
      return { type: 'child', pid: Number(m.pid), fds };
    case 'procConsole':
      return { type: 'procConsole', fds };
    case 'procSeccomp':
      return { type: 'procSeccomp', fd: Number(m.fd) };
    case 'procHooks':
    case 'procReady':
      return { type: m.type };
    case 'procError':
      return {
        type: 'procError',
        stage: String(m.stage ?? 'unknown'),
        syscall: String(m.syscall ?? ''),
        errno: Number(m.errno ?? 0),
        path: String(m.path ?? ''),
        message: String(m.message ?? 'unknown error'),
      };
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(m.type)} from init`);
  }
}
