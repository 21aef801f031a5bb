/**
 * `ftrun dataset push`: a local JSONL file of `{input, expected, …}` records into a Braintrust
 * dataset, each as `{input, expected, metadata}` (the record's other fields, plus `split` when
 * given), so the `braintrust` dataset (and the `field` splitter on `split`) can read it back.
 */
import { readRecords } from '../jsonl/records.js';
import { apiKey, openDataset, within } from '../../common/braintrust.js';

export interface PushArgs {
  file: string;
  project: string;
  name: string;
  split?: string;
  appUrl?: string;
  timeoutS: number;
}

export async function pushDataset(args: PushArgs): Promise<{ records: number; appUrl: string }> {
  const records = await readRecords(args.file, 'the file');
  const { dataset, abort, appUrl } = await openDataset({ project: args.project, name: args.name, ...(args.appUrl ? { appUrl: args.appUrl } : {}) }, apiKey('ftrun dataset push'));
  for (const { value } of records) {
    const { input, expected, metadata, ...rest } = value as Record<string, unknown>;
    const meta = { ...(typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {}), ...rest, ...(args.split ? { split: args.split } : {}) };
    dataset.insert({ input, expected, metadata: meta });
  }
  try {
    await within(args.timeoutS, abort, dataset.flush());
  } catch (e) {
    throw new Error(`could not push to braintrust dataset ${args.project}/${args.name} (${appUrl}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return { records: records.length, appUrl };
}
