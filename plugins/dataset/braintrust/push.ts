/**
 * `ftrun dataset push`: a local JSONL file of `{input, expected, …}` records into a Braintrust
 * dataset, each as `{input, expected, metadata}` (the record's other fields, plus `split` when
 * given), so the `braintrust` dataset (and the `field` splitter on `split`) can read it back.
 *
 * The SDK sends rows in the background and its flush() resolves even when every request failed
 * (it retries, then drops the rows and only tells its onFlushError). So the records go in chunks
 * of one request each, and a chunk counts as stored only when its flush reported no failure; the
 * first failure stops the push, which then says how many records were stored and what the server
 * answered (PushFailed).
 */
import { readRecords } from '../jsonl/records.js';
import { apiKey, openDataset, redact, within } from '../../common/braintrust.js';

export interface PushArgs {
  file: string;
  project: string;
  name: string;
  split?: string;
  appUrl?: string;
  timeoutS: number;
}

/** Records per flush: the SDK's batch size, so that one chunk is one request. */
const CHUNK = 100;

/** Some records were not stored (none, or the first `stored`). */
export class PushFailed extends Error {
  constructor(
    readonly stored: number,
    readonly total: number,
    message: string,
  ) {
    super(message);
    this.name = 'PushFailed';
  }
}

export async function pushDataset(args: PushArgs): Promise<{ records: number; appUrl: string }> {
  const records = await readRecords(args.file, 'the file');
  const key = apiKey('ftrun dataset push');
  const { dataset, abort, appUrl, takeFlushErrors } = await openDataset({ project: args.project, name: args.name, ...(args.appUrl ? { appUrl: args.appUrl } : {}) }, key);
  let stored = 0;
  const send = async () => {
    for (let i = 0; i < records.length; i += CHUNK) {
      const chunk = records.slice(i, i + CHUNK);
      for (const { value } of chunk) {
        const { input, expected, metadata, ...rest } = value as Record<string, unknown>;
        const meta = { ...(typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {}), ...rest, ...(args.split ? { split: args.split } : {}) };
        dataset.insert({ input, expected, metadata: meta });
      }
      await dataset.flush();
      const failed = takeFlushErrors();
      if (failed.length) throw new Error(failed[0]!);
      stored += chunk.length;
    }
  };
  try {
    await within(args.timeoutS, abort, send());
  } catch (e) {
    abort();
    const n = records.length;
    const why = redact(e instanceof Error ? e.message : String(e), key);
    const rest = n - stored;
    throw new PushFailed(
      stored,
      n,
      `stored ${stored} of ${n} records in braintrust dataset ${args.project}/${args.name}${args.split ? ` (split ${args.split})` : ''} at ${appUrl}: ${why}; ` +
        `the other ${rest} record${rest === 1 ? ' was' : 's were'} not confirmed stored`,
    );
  }
  return { records: records.length, appUrl };
}
