/** The package's version (package.json sits two levels above dist/bin/). */
export const VERSION: string = (require('../../package.json') as { version: string }).version;
