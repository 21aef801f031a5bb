/** Shared pieces of the adapter tests: the transactions data, eval scoring, and a trainAdapter request with defaults. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterTrainRequest } from '../../../engine/adapter/request.js';
import { TrainingEvaluator } from '../../../core/train/evaluator.js';
import type { DatasetData, Encoder, RunContext } from '../../../core/types.js';
import JsonlDataset from '../../../plugins/dataset/jsonl.js';

/** The reference workflow's data (ctx.baseDir must be the transactions directory). */
export function loadTransactions(ctx: RunContext): Promise<DatasetData> {
  const options = { queries: 'train_transactions.jsonl', eval: 'eval_transactions.jsonl', corpus: { path: 'categories.json', text: 'category' }, input: 'input', expected: 'expected' };
  return new JsonlDataset(options as never, ctx).load();
}

/** MRR@1 and Recall@3 of an encoder on the eval set (brute-force cosine, as the memory store). */
export async function scoreOnEval(data: DatasetData, enc: Encoder): Promise<Record<string, number>> {
  const queries = data.eval!;
  const qv = await enc.encode(queries.map((q) => q.text), { kind: 'query' });
  const dv = await enc.encode(data.corpus.map((d) => d.text), { kind: 'document' });
  const q = new Map(queries.map((x, i) => [x.text, qv[i]!]));
  const d = new Map(data.corpus.map((x, i) => [x.text, dv[i]!]));
  const ev = new TrainingEvaluator({ test: queries, corpus: data.corpus, metrics: ['mrr', 'recall'], k: [1, 3], seed: 0 });
  return ev.evaluate({ embed: (texts, kind) => texts.map((t) => (kind === 'document' ? d : q).get(t)!) });
}

type Required = Pick<AdapterTrainRequest, 'encoder' | 'examples' | 'loss' | 'training'>;

/** A trainAdapter request in a fresh temp run directory: no test split, primary mrr@1, events ignored. */
export function adapterRequest(req: Required & Partial<AdapterTrainRequest>, prefix = 'ftrun-adapter-'): AdapterTrainRequest {
  const run = mkdtempSync(join(tmpdir(), prefix));
  return {
    test: [],
    corpus: [],
    metrics: ['mrr'],
    k: [1],
    primary: 'mrr@1',
    outDir: join(run, 'adapter'),
    checkpointDir: join(run, 'checkpoints'),
    resume: false,
    onEvent: () => {},
    ...req,
  };
}
