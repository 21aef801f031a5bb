/**
 * `ftrun dataset push <file.jsonl> --project P --name N [--split S] [--app-url URL]`: a local JSONL
 * dataset into Braintrust (plugins/dataset/braintrust/push.ts), where the `braintrust` dataset
 * reads it back. Run it once per part, e.g. `--split train` and `--split eval`. Every request's answer
 * is checked: a push the server did not take exits 1 saying how many records were stored and what
 * the server answered.
 */
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { redactUrl } from '../url.js';
import type { IO } from './run.js';

export interface DatasetPushArgs {
  file: string;
  project?: string;
  name?: string;
  split?: string;
  appUrl?: string;
}

export async function datasetPushCommand(args: DatasetPushArgs, io: IO): Promise<number> {
  const missing = (['project', 'name'] as const).filter((k) => !args[k]);
  if (missing.length) throw new UserError('E_USAGE', `ftrun dataset push: ${missing.map((m) => `--${m}`).join(' and ')} ${missing.length === 1 ? 'is' : 'are'} required. See: ftrun dataset --help`);
  const { pushDataset, PushFailed } = await import('../../plugins/dataset/braintrust/push.js');
  try {
    const r = await pushDataset({ file: resolve(args.file), project: args.project!, name: args.name!, timeoutS: 120, ...(args.split ? { split: args.split } : {}), ...(args.appUrl ? { appUrl: args.appUrl } : {}) });
    io.err(`pushed ${r.records} records to braintrust dataset ${args.project}/${args.name}${args.split ? ` (split ${args.split})` : ''} at ${redactUrl(r.appUrl)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof PushFailed)) throw e;
    // What was and was not stored; the server's answer (never the key).
    io.err(`ftrun dataset push: ${redactUrl(e.message)}\n`);
    return 1;
  }
}
