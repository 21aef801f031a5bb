/**
 * Trajectory parity with sentence-transformers (../shared/fixtures/sentence-transformers/trajectory.json):
 * 12 steps of BatchSemiHardTripletLoss training from the fixture model with torch's AdamW (lr 1e-3,
 * weight decay 0.01 on every parameter, no schedule, no clipping), batches = rows [16s, 16s+16) of
 * train_transactions.jsonl, through the trainer's own step function (TrainStep.step).
 */
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { loadModelLayout } from '../../engine/model/layout.js';
import { selectTfjsDevice } from '../../plugins/backend/tfjs/device.js';
import { TfjsSentenceModel } from '../../plugins/backend/tfjs/sentence.js';
import { AdamW } from '../../engine/train/optim.js';
import { TrainStep } from '../../plugins/backend/tfjs/train-step.js';
import BatchSemiHardTripletLoss from '../../plugins/loss/batch-semi-hard-triplet.js';
import { makeContext } from '../helpers/context.js';
import { cosine, trajectory } from '../helpers/trajectory.js';
import { describeShared, TINY_BERT, TRANSACTIONS } from '../helpers/shared.js';
import { LossSeam } from '../../core/train/seam.js';

describeShared('trajectory parity with sentence-transformers (wasm)', () => {
  beforeAll(async () => {
    await selectTfjsDevice('wasm', { threads: 1 });
  });

  for (const [key, margin] of [['margin_0.3', 0.3], ['margin_5.0', 5.0]] as const) {
    it(`${key}: per-step loss, gradient norm and final probe embeddings`, async () => {
      const ref = trajectory(key);
      const rows = readFileSync(`${TRANSACTIONS}/train_transactions.jsonl`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { input: string; expected: string[] });
      const model = TfjsSentenceModel.load(loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' }));
      const o = ref.optimizer;
      // torch.optim.AdamW: weight decay on every parameter (no HF exclusions).
      const optimizer = new AdamW(model.trainableVariables, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
      const loss = await new BatchSemiHardTripletLoss({ margin, distance_metric: 'euclidean' }, makeContext());
      const step = new TrainStep(model, new LossSeam(loss, rows.map((r) => r.expected[0]!)), optimizer);
      const bs = ref.batch_size;
      const got: Array<{ loss: number; gradNorm: number }> = [];
      for (let s = 0; s < ref.steps.length; s++) {
        const items = rows.slice(bs * s, bs * s + bs).map((r) => ({ anchor: r.input, label: r.expected[0]! }));
        got.push(await step.step([items], o.lr, 0));
      }
      for (let s = 0; s < ref.steps.length; s++) {
        const want = ref.steps[s]!;
        expect(Math.abs(got[s]!.loss - want.loss), `step ${s} loss ${got[s]!.loss} vs ${want.loss}`).toBeLessThan(1e-4);
        expect(Math.abs(got[s]!.gradNorm - want.grad_norm) / want.grad_norm, `step ${s} grad norm ${got[s]!.gradNorm} vs ${want.grad_norm}`).toBeLessThan(1e-3);
      }
      // The pooler is not a trainable weight: it stays exactly as loaded.
      const before = TfjsSentenceModel.load(loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' }));
      for (const [name, t] of before.bert.extras) expect(model.bert.extras.get(name)!.data).toEqual(t.data);
      before.dispose();
      const probes = model.embed(ref.probe_texts);
      const worst = Math.min(...probes.map((v, i) => cosine(v, ref.probe_embeddings_after[i]!)));
      expect(worst).toBeGreaterThanOrEqual(0.9999);
      optimizer.dispose();
      model.dispose();
    });
  }
});
