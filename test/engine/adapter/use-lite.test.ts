/**
 * Adapter fine-tuning on the bundled, frozen use-lite encoder (512-d, tfjs): trained on
 * ../shared/data/transactions/train_transactions.jsonl with the default adapter settings
 * (linear, apply_to query, learning rate 2e-3) and MultipleNegativesRankingLoss, it beats the base
 * model on eval_transactions.jsonl (MRR@1 and Recall@3) for three seeds. The texts are embedded
 * once for all seeds (a memoising wrapper), so the test takes seconds.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadAdapterEncoder } from '../../../engine/adapter/encoder.js';
import { trainAdapter } from '../../../engine/adapter/train.js';
import { loadBundled } from '../../../plugins/backend/tfjs/bundled/index.js';
import type { DatasetData, Encoder, EncodeOptions } from '../../../core/types.js';
import MultipleNegativesRankingLoss from '../../../plugins/loss/multiple-negatives-ranking.js';
import RandomNegativeMiner from '../../../plugins/miner/random-negative.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, TRANSACTIONS } from '../../helpers/shared.js';
import { adapterRequest, loadTransactions, scoreOnEval } from './helpers.js';

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
    data = await loadTransactions(ctx);
    base = await loadBundled('use-lite');
    enc = memo(base);
  });
  afterAll(async () => base?.dispose());

  const score = (e: Encoder) => scoreOnEval(data, e);

  it('improves MRR@1 and Recall@3 over the base model for three seeds (default adapter settings)', async () => {
    const before = await score(enc);
    const rows: string[] = [];
    for (const seed of [1, 2, 3]) {
      const examples = await new RandomNegativeMiner({ negatives_per_anchor: 1, seed }, ctx).mine(data.queries, data.corpus);
      const res = await trainAdapter(
        adapterRequest({
          encoder: enc,
          examples,
          loss: await new MultipleNegativesRankingLoss({ scale: 20, similarity: 'cos' }, ctx),
          training: { epochs: 3, batch_size: 16 },
          corpus: data.corpus,
          seed,
        }),
      );
      expect(res.info).toMatchObject({ adapter: 'linear', apply_to: 'query', learning_rate: 2e-3 });
      const after = await score(await loadAdapterEncoder(enc, res.modelDir));
      rows.push(`seed ${seed}: mrr@1 ${before['mrr@1']!.toFixed(3)} → ${after['mrr@1']!.toFixed(3)}, recall@3 ${before['recall@3']!.toFixed(3)} → ${after['recall@3']!.toFixed(3)} (${res.steps} steps, ${res.info.steps_per_second} steps/s on ${res.info.tfjs_backend})`);
      expect(after['mrr@1']).toBeGreaterThan(before['mrr@1']! + 0.1);
      expect(after['recall@3']).toBeGreaterThan(before['recall@3']!);
    }
    console.info(rows.join('\n'));
  });
});
