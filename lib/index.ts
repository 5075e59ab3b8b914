export { createContainer, loadContainer, listContainers, Container, OCI_VERSION } from './container';
export type { ContainerOptions, ContainerState, OciState, SignalOptions, Status } from './container';
export { Process } from './process/process';
export { TerminalStream } from './process/terminal';
export type { TerminalSize } from './process/terminal';
export type { ProcessOptions, ProcessExit, ProcessUser, ProcessCapabilities, ProcessRlimit, StdioKind, StdioStream } from './process/options';
export {
  ContainerError,
  ConfigError,
  ContainerExistsError,
  ContainerNotFoundError,
  ContainerStateError,
  InitError,
  HookError,
  ProtocolError,
} from './errors';
export type { InitFailure, ArgumentErrorCode, ContainerErrorCode } from './errors';
export { CgroupError } from './cgroups/errors';
export type { CgroupStats } from './cgroups/types';
export { validateConfig, type ValidateOptions } from './spec/validate';
export { hostSandbox } from './presets';
export type { HostSandbox, HostSandboxOptions } from './presets';
export type { Spec, LinuxResources } from '../types/oci';
