export { validateId, defaultRoot } from './id';
export { StateDir, STATE_FILE, EXEC_FIFO } from './dir';
export type { SavedState } from './dir';
export { stringifyJson, parseJson } from './json';
export { readProcStat, parseProcStat, processStatus, deriveStatus } from './proc';
export type { ProcStat, ProcStatReader, ProcessStatus, ContainerStatus, StatusFacts } from './proc';
export { stateDirOwner } from './owner';
