/**
 * Adapter fine-tuning on the bundled, frozen use-lite encoder (512-d, tfjs): trained on
 * ../shared/data/transactions/train_transactions.jsonl with the default adapter settings
 * (linear, apply_to query, learning rate 2e-3) and MultipleNegativesRankingLoss, it beats the base
 * model on eval_transactions.jsonl (MRR@1 and Recall@3) for three seeds. The texts are embedded
 * once for all seeds (a memoising wrapper), so the test takes seconds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadAdapterEncoder } from '../../core/adapter/encoder.js';
import { trainAdapter } from '../../core/adapter/train.js';
import { loadBundled } from '../../core/bundled/index.js';
import { TrainingEvaluator } from '../../core/train/evaluator.js';
import type { DatasetData, Encoder, EncodeOptions } from '../../core/types.js';
import JsonlDataset from '../../plugins/dataset/jsonl.js';
import MultipleNegativesRankingLoss from '../../plugins/loss/multiple-negatives-ranking.js';
import RandomNegativeMiner from '../../plugins/miner/random-negative.js';
import { makeContext } from '../helpers/context.js';
import { describeShared, TRANSACTIONS } from '../helpers/shared.js';

/** Encodes each (kind, text) once; does not own the base encoder. */
function memo(base: Encoder): Encoder {
  const seen = new Map<string, Float32Array>();
  return {
    dim: base.dim,
    info: base.info,
    async encode(texts: string[], opts: EncodeOptions) {
      const key = (t: string) => `${opts.kind}\u0000${t}`;
      const missing = [...new Set(texts.filter((t) => !seen.has(key(t))))];
      if (missing.length) (await base.encode(missing, { kind: opts.kind })).forEach((v, i) => seen.set(key(missing[i]!), v));
      return texts.map((t) => seen.get(key(t))!);
    },
    dispose: async () => {},
  };
}

describeShared('adapter on the bundled use-lite encoder', () => {
  const ctx = makeContext({ baseDir: TRANSACTIONS });
  let data: DatasetData;
  let base: Encoder;
  let enc: Encoder;
  beforeAll(async () => {
    data = await new JsonlDataset({ queries: 'train_transactions.jsonl', eval: 'eval_transactions.jsonl', corpus: { path: 'categories.json', text: 'category' }, input: 'input', expected: 'expected' } as never, ctx).load();
    base = await loadBundled('use-lite');
    enc = memo(base);
  });
  afterAll(async () => base?.dispose());

  async function score(e: Encoder): Promise<Record<string, number>> {
    const queries = data.eval!;
    const qv = await e.encode(queries.map((q) => q.text), { kind: 'query' });
    const dv = await e.encode(data.corpus.map((d) => d.text), { kind: 'document' });
    const q = new Map(queries.map((x, i) => [x.text, qv[i]!]));
    const d = new Map(data.corpus.map((x, i) => [x.text, dv[i]!]));
    const ev = new TrainingEvaluator({ test: queries, corpus: data.corpus, metrics: ['mrr', 'recall'], k: [1, 3], seed: 0 });
    return ev.evaluate({ embed: (texts, kind) => texts.map((t) => (kind === 'document' ? d : q).get(t)!) });
  }

  it('improves MRR@1 and Recall@3 over the base model for three seeds (default adapter settings)', async () => {
    const before = await score(enc);
    const rows: string[] = [];
    for (const seed of [1, 2, 3]) {
      const examples = await new RandomNegativeMiner({ negatives_per_anchor: 1, seed }, ctx).mine(data.queries, data.corpus);
      const run = mkdtempSync(join(tmpdir(), 'ftrun-adapter-use-'));
      const res = await trainAdapter({
        encoder: enc,
        examples,
        loss: new MultipleNegativesRankingLoss({ scale: 20, similarity: 'cos' }, ctx),
        training: { epochs: 3, batch_size: 16 },
        test: [],
        corpus: data.corpus,
        metrics: ['mrr'],
        k: [1],
        primary: 'mrr@1',
        outDir: join(run, 'adapter'),
        checkpointDir: join(run, 'checkpoints'),
        resume: false,
        onEvent: () => {},
        seed,
      });
      expect(res.info).toMatchObject({ adapter: 'linear', apply_to: 'query', learning_rate: 2e-3 });
      const after = await score(await loadAdapterEncoder(enc, res.modelDir));
      rows.push(`seed ${seed}: mrr@1 ${before['mrr@1']!.toFixed(3)} → ${after['mrr@1']!.toFixed(3)}, recall@3 ${before['recall@3']!.toFixed(3)} → ${after['recall@3']!.toFixed(3)} (${res.steps} steps, ${res.info.steps_per_second} steps/s on ${res.info.tfjs_backend})`);
      expect(after['mrr@1']).toBeGreaterThan(before['mrr@1']! + 0.1);
      expect(after['recall@3']).toBeGreaterThan(before['recall@3']!);
    }
    console.info(rows.join('\n'));
  });
});
