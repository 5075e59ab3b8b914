/**
 * The Linux pieces of the bootstrap plan (docs/protocol.md) from one OCI config, composed
 * from the converters in this directory. Pure: the caller supplies `statSource` (and the
 * bundle for relative bind sources), so this runs in unit tests without touching the host.
 */
import { convertCapabilities, type CapabilitiesPlan, type OciCapabilities } from './capabilities';
import { convertDevices, defaultDevicesWanted, type DevicePlan, type OciDevice } from './devices';
import {
  convertMount, isBindMount, resolveBindSource, rootPropagationFlags,
  type MountPlanJson, type OciMount, type StatSource,
} from './mounts';
import { planNamespaces, type NamespacePlan, type OciNamespace } from './namespaces';
import { convertRlimits, type OciRlimit, type RlimitPlan } from './rlimits';

/** The parts of an OCI config read here; structural so the generated types fit. */
export interface OciConfigPieces {
  mounts?: OciMount[];
  process?: { capabilities?: OciCapabilities; rlimits?: OciRlimit[] };
  linux?: {
    namespaces?: OciNamespace[];
    rootfsPropagation?: string;
    devices?: OciDevice[];
  };
}

export interface LinuxPlanPieces {
  namespaces: NamespacePlan;
  mounts: MountPlanJson[];
  rootPropagation: number;
  defaultDevices: boolean;
  devices: DevicePlan[];
  capabilities: CapabilitiesPlan | null;
  rlimits: RlimitPlan[];
}

export interface PlanOptions {
  /** Directory that relative bind-mount sources are resolved against (runc: the bundle). */
  bundle?: string;
  /** Stat of bind sources (after resolution); without it sources are not checked and isFile is false. */
  statSource?: StatSource;
}

/** Convert the init-mode pieces; throws ConfigError naming the first bad field. */
export function planLinuxPieces(config: OciConfigPieces, options: PlanOptions = {}): LinuxPlanPieces {
  const { bundle, statSource } = options;
  const mounts = (config.mounts ?? []).map((m, i) => {
    // Only bind sources are host paths; a pseudo filesystem's source stays as written.
    const relativeBind = bundle !== undefined && isBindMount(m) && typeof m.source === 'string' && m.source !== '';
    return convertMount(relativeBind ? { ...m, source: resolveBindSource(m.source as string, bundle) } : m, i, statSource);
  });
  return {
    namespaces: planNamespaces(config.linux?.namespaces, 'init'),
    mounts,
    rootPropagation: rootPropagationFlags(config.linux?.rootfsPropagation),
    defaultDevices: defaultDevicesWanted(config.mounts),
    devices: convertDevices(config.linux?.devices, 'linux.devices'),
    capabilities: convertCapabilities(config.process?.capabilities, 'process.capabilities'),
    rlimits: convertRlimits(config.process?.rlimits, 'process.rlimits'),
  };
}
