/** The package's version, and the commit npm recorded when installing it from git (package.json sits two levels above dist/bin/). */
const pkg = require('../../package.json') as { version: string; gitHead?: string };
export const VERSION: string = pkg.version;
export const COMMIT: string = pkg.gitHead ?? 'unknown';
