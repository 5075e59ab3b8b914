export { hostSandbox } from './host-sandbox';
export type { HostSandbox, HostSandboxOptions } from './host-sandbox';
export {
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH,
  MASKED_PATHS,
  READONLY_PATHS,
  defaultMounts,
  defaultNamespaces,
  defaultRlimits,
} from './defaults';
