/**
 * `ftrun dataset inspect hf:ORG/NAME[@REVISION][:CONFIG/SPLIT]`: the split's Parquet files
 * fetched into the Hugging Face cache as the hf dataset fetches them (resolveHfParquet: a warm
 * cache needs no request, HF_HUB_OFFLINE=1 reads only the cache), then inspected as a local Parquet
 * file is (core/commands/dataset-inspect.ts inspectFile), with a `dataset:` block of type `hf`.
 * A split in several files: the rows, row groups and nulls of all of them, the first rows of the first.
 */
import { UserError } from '../../../core/errors.js';
import type { Progress } from '../../../core/types.js';
import { inspectFile, type DatasetSource, type Inspection } from '../../../core/commands/dataset-inspect.js';
import { resolveHfParquet, type HfDatasetRef } from './hub.js';

const OPTION = 'ftrun dataset inspect';
const TARGET = /^hf:([\w.-]+\/[\w.-]+)(?:@([^:]+))?(?::([^/]+)\/([^/]+))?$/;

/** `hf:org/name@rev:config/split` → its parts; E_USAGE showing the form otherwise. */
export function parseHfTarget(target: string): HfDatasetRef {
  const m = TARGET.exec(target);
  if (!m) throw new UserError('E_USAGE', `${OPTION}: "${target}" is not a hub dataset: expected hf:ORG/NAME[@REVISION][:CONFIG/SPLIT], e.g. hf:sentence-transformers/all-nli:triplet/train`);
  return { id: m[1]!, ...(m[2] !== undefined ? { revision: m[2] } : {}), ...(m[3] !== undefined ? { config: m[3], split: m[4]! } : {}) };
}

export async function inspectHf(target: string, opts: { rows: number; signal: AbortSignal; progress?: Progress }): Promise<Inspection> {
  const ref = parseHfTarget(target);
  const form = `${OPTION} (hf:ORG/NAME[@REVISION][:CONFIG/SPLIT])`;
  const names = { id: OPTION, config: form, split: form, eval_split: form, revision: OPTION };
  const hf = await resolveHfParquet(ref, { signal: opts.signal, ...(opts.progress ? { progress: opts.progress } : {}), names });
  // The options that read it: the config when there is a choice, the revision when not main.
  const source: DatasetSource = {
    type: 'hf',
    id: hf.id,
    ...(hf.configs.length > 1 || ref.config !== undefined ? { config: hf.config } : {}),
    split: hf.split,
    ...(hf.revision !== 'main' ? { revision: hf.revision } : {}),
  };
  const shards = hf.files.length === 1 ? '' : `, ${hf.files.length} files`;
  const label = `hf:${hf.id} (config ${hf.config}, split ${hf.split}, commit ${hf.commit.slice(0, 12)}${shards}${hf.converted ? ', from refs/convert/parquet' : ''})`;
  const [first, ...rest] = hf.files;
  const ins = await inspectFile(first!, { rows: opts.rows, source, label, option: OPTION });
  for (const file of rest) {
    const more = await inspectFile(file, { rows: 0, source, label, option: OPTION });
    ins.rows += more.rows;
    if (ins.rowGroups !== undefined && more.rowGroups !== undefined) ins.rowGroups += more.rowGroups;
    for (const c of ins.columns) {
      const e = more.columns.find((m) => m.name === c.name)?.empty;
      if (c.empty !== undefined) c.empty = e === undefined ? undefined : c.empty + e;
    }
  }
  return ins;
}
