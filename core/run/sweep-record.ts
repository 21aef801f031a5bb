/**
 * Writing sweep.json. Several commands write it (`ftrun plan --prepare`, a queued submit, the
 * sweep itself, `ftrun resume <sweep-dir>`, `ftrun sweep collect`), each owning some fields: every
 * write keeps the fields it does not own — the trials' config hashes, the queue — as they were.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../fsutil.js';
import { SWEEP_JSON, type SweepRecord, type SweepRecordAsRead, type SweepTrialRecord } from './records.js';

/**
 * A trial's resolved config, hashed (sweep.json `config_hash`): a trial refuses to run, and a
 * sweep to resume, when the experiment file now resolves differently.
 */
export function configHash(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

/** The fields of sweep.json one writer sets; each trial by its index. */
export type SweepRecordUpdate = Partial<Omit<SweepRecord, 'trials'>> & { trials: Array<Pick<SweepTrialRecord, 'index'> & Partial<SweepTrialRecord>> };

/** Drop keys whose value is undefined (they would erase the field on write). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Write `<dir>/sweep.json` with `update` laid over what the file holds now: top-level fields and
 * each trial's fields that `update` does not set are kept (a damaged or absent file keeps nothing).
 * The trials are those of `update`, in its order.
 */
export function writeSweepRecord(dir: string, update: SweepRecordUpdate): void {
  const file = join(dir, SWEEP_JSON);
  let before: SweepRecordAsRead = {};
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) before = parsed as SweepRecordAsRead;
    } catch {
      /* damaged: rewritten whole */
    }
  }
  const earlier = new Map((Array.isArray(before.trials) ? before.trials : []).map((t) => [t.index, t]));
  const { trials, ...top } = update;
  writeJsonAtomic(file, {
    ...before,
    ...defined(top),
    trials: trials.map((t) => ({ ...earlier.get(t.index), ...defined(t) })),
  });
}
