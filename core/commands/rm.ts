/**
 * `ftrun rm RUN|SWEEP… [--yes]`: remove runs and sweeps (a sweep with its trials). Each is a
 * directory, `latest`, `latest~N` or a unique id prefix (core/run-names.ts). Only run directories
 * (env.json or metrics.json) and sweep directories (sweep.json) are removed; a sweep's trial alone is
 * refused (its sweep would list a trial that is gone). A run or sweep that a process is working in
 * (its lock, core/run/lock.ts) is refused. On a terminal it asks (y/N); elsewhere --yes is needed.
 */
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { resolveRunRef } from '../run-names.js';
import { dirKind, readSweepDir } from '../run-reader.js';
import { TRIALS_DIR } from '../run/records.js';
import { lockDir, type RunLock } from '../run/lock.js';

export interface RmArgs {
  refs: string[];
  runsDir: string;
  yes: boolean;
}

export interface RmIO {
  err: (s: string) => void;
  /** Ask the user on a terminal and return the answer; undefined when stdin is not a terminal. */
  ask?: (question: string) => Promise<string>;
}

interface Target {
  ref: string;
  dir: string;
  kind: 'run' | 'sweep';
  /** A sweep's trial directories (those outside the sweep directory are removed too). */
  trials: string[];
}

const inside = (dir: string, parent: string) => {
  const r = relative(parent, dir);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
};

function target(ref: string, runsDir: string): Target {
  const dir = resolve(resolveRunRef(ref, runsDir));
  const kind = dirKind(dir, true);
  if (!kind) throw new UserError('E_RUN', `ftrun rm: ${ref} is not a run or sweep directory (no env.json, metrics.json or sweep.json in it); ftrun rm removes only those`);
  const parent = dirname(dir);
  if (kind === 'run' && basename(parent) === TRIALS_DIR && dirKind(dirname(parent)) === 'sweep') {
    throw new UserError('E_USAGE', `ftrun rm: ${ref} is trial ${basename(dir)} of the sweep ${dirname(parent)}; remove the whole sweep (ftrun rm ${dirname(parent)})`);
  }
  const trials = kind === 'sweep' ? readSweepDir(dir).trials.map((t) => t.runDir).filter((d) => dirKind(d, true) === 'run') : [];
  return { ref, dir, kind, trials };
}

/** Lock every directory of `t` (refused with E_LOCKED naming the process that runs it). */
function lockAll(t: Target, locks: RunLock[]): void {
  for (const dir of [t.dir, ...t.trials]) {
    try {
      locks.push(lockDir(dir, 'ftrun rm'));
    } catch (e) {
      if (e instanceof UserError && e.code === 'E_LOCKED') {
        const what = dir === t.dir ? '' : ` (its trial ${dir})`;
        throw new UserError('E_LOCKED', `ftrun rm: cannot remove ${t.ref}${what}: it is running: ${e.message}`);
      }
      throw e;
    }
  }
}

export async function rmCommand(args: RmArgs, io: RmIO): Promise<number> {
  const targets: Target[] = [];
  for (const r of args.refs) {
    const t = target(r, args.runsDir);
    if (!targets.some((x) => x.dir === t.dir)) targets.push(t); // named twice: removed once
  }
  const locks: RunLock[] = [];
  try {
    for (const t of targets) lockAll(t, locks);
    const what = (t: Target) => `  ${t.dir} (${t.kind === 'sweep' ? `sweep, ${t.trials.length} trial${t.trials.length === 1 ? '' : 's'}` : 'run'})`;
    if (!args.yes) {
      if (!io.ask) {
        throw new UserError('E_USAGE', `ftrun rm: not asking for confirmation: stdin is not a terminal. Give --yes to remove ${targets.map((t) => t.ref).join(' ')} without asking`);
      }
      io.err(`ftrun rm: remove ${targets.length === 1 ? 'this' : `these ${targets.length}`}?\n${targets.map(what).join('\n')}\n`);
      const answer = (await io.ask('remove? [y/N] ')).trim().toLowerCase();
      if (answer !== 'y' && answer !== 'yes') {
        io.err('nothing removed\n');
        return 0;
      }
    }
    for (const t of targets) {
      for (const d of t.trials) if (!inside(d, t.dir)) rmSync(d, { recursive: true, force: true });
      rmSync(t.dir, { recursive: true, force: true });
      io.err(`removed ${t.dir}\n`);
      // the experiment's folder (runs/<name>) goes with its last run
      try {
        if (readdirSync(dirname(t.dir)).length === 0 && resolve(dirname(t.dir)) !== resolve(args.runsDir)) rmdirSync(dirname(t.dir));
      } catch {
        /* gone or not empty */
      }
    }
    return 0;
  } finally {
    for (const l of locks) l.release();
  }
}
