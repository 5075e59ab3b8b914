import type { Command } from '../command';
import { create } from './create';
import { del } from './delete';
import { exec } from './exec';
import { features } from './features';
import { kill } from './kill';
import { list } from './list';
import { pause, resume } from './pause';
import { ps } from './ps';
import { run } from './run';
import { spec } from './spec';
import { start } from './start';
import { state } from './state';
import { update } from './update';

/** runc's commands, in its help's order (checkpoint, restore and events are not here). */
export const COMMANDS: readonly Command[] = [create, del, exec, kill, list, pause, ps, resume, run, spec, start, state, update, features];
