export type * from './types';
export { createManager, type CreateManagerOptions } from './manager';
export { CgroupError } from './errors';
export { detectMode, mountpoints, ownCgroups, cgroupMounts } from './detect';
export { cgroupPlacement, DEFAULT_PARENT } from './paths';
export { defaultDeviceRules, effectiveDeviceRules } from './devices/rules';
export { V1Manager } from './v1/manager';
export { V2Manager } from './v2/manager';
