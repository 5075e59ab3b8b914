/** linux.resources.unified: raw cgroup v2 files (runc's fs2 setUnified), validated before anything is written. */
import { ConfigError } from '../../errors';
import { fileExists } from '../file';
import { CgroupWriter } from '../writer';

export function validate(dir: string, unified: Record<string, string> | undefined, controllers?: ReadonlySet<string>): void {
  for (const key of Object.keys(unified ?? {})) {
    const field = `linux.resources.unified.${key}`;
    if (key.includes('/') || key === '..' || key === '.' || key === '' || key.includes('\0')) {
      throw new ConfigError(field, 'must be a file name in the cgroup directory (no "/" or "..")');
    }
    if (!fileExists(dir, key)) {
      const controller = key.split('.')[0];
      const why =
        controllers && controller !== 'cgroup' && !controllers.has(controller)
          ? `the ${controller} controller is not enabled for this cgroup`
          : 'no such cgroup file';
      throw new ConfigError(field, `cannot be set: ${why} (${dir}/${key})`);
    }
  }
}

export function set(dir: string, unified: Record<string, string> | undefined, w = new CgroupWriter(false)): void {
  validate(dir, unified);
  for (const [key, value] of Object.entries(unified ?? {})) w.writeLines(dir, key, value);
}
