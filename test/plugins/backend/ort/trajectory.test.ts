/**
 * Trajectory parity of the ort trainer with sentence-transformers (trajectory.json): 12 steps of
 * BatchSemiHardTripletLoss from the fixture model with torch's AdamW (lr 1e-3, weight decay 0.01
 * on every parameter, no schedule, no clipping), batches = rows [16s, 16s+16) of
 * train_transactions.jsonl, through OrtTrainStep.step — the same bounds the tfjs trainer meets.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { loadModelLayout } from '../../../../engine/model/layout.js';
import { readSafetensors } from '../../../../core/safetensors.js';
import { OrtBertEngine } from '../../../../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep } from '../../../../plugins/backend/ort/train-step.js';
import BatchSemiHardTripletLoss from '../../../../plugins/loss/batch-semi-hard-triplet.js';
import { makeContext } from '../../../helpers/context.js';
import { cosine, trajectory } from '../../../helpers/trajectory.js';
import { describeShared, TINY_BERT, TRANSACTIONS } from '../../../helpers/shared.js';
import { LossSeam } from '../../../../core/train/seam.js';

describeShared('trajectory parity with sentence-transformers (ort)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [key, margin] of [['margin_0.3', 0.3], ['margin_5.0', 5.0]] as const) {
    it(`${key}: per-step loss, gradient norm and final probe embeddings`, async () => {
      const ref = trajectory(key);
      const rows = readFileSync(`${TRANSACTIONS}/train_transactions.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { input: string; expected: string[] });
      const layout = loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' });
      const engine = await OrtBertEngine.load(layout, { threads: 1, executionProviders: ['cpu'] });
      const o = ref.optimizer;
      const loss = await new BatchSemiHardTripletLoss({ margin, distance_metric: 'euclidean' }, makeContext());
      // torch.optim.AdamW: weight decay on every parameter (no HF exclusions).
      const step = new OrtTrainStep(engine, new LossSeam(loss, rows.map((r) => r.expected[0]!)), { betas: o.betas, eps: o.eps, weightDecay: o.weight_decay, decay: () => true });
      const bs = ref.batch_size;
      for (let s = 0; s < ref.steps.length; s++) {
        const items = rows.slice(bs * s, bs * s + bs).map((r) => ({ anchor: r.input, label: r.expected[0]! }));
        const got = await step.step([items], o.lr, 0);
        const want = ref.steps[s]!;
        expect(Math.abs(got.loss - want.loss), `step ${s} loss ${got.loss} vs ${want.loss}`).toBeLessThanOrEqual(1e-5);
        expect(Math.abs(got.gradNorm - want.grad_norm) / want.grad_norm, `step ${s} grad norm ${got.gradNorm} vs ${want.grad_norm}`).toBeLessThanOrEqual(1e-4);
      }
      // The pooler is not trained: written back exactly as loaded.
      const before = readSafetensors(layout.weightsFile!);
      const after = engine.exportTensors();
      for (const [name, t] of before) if (name.includes('pooler')) expect(after.get(name)!.data).toEqual(t.data);
      const probes = await engine.embed(ref.probe_texts);
      const worst = Math.min(...probes.map((v, i) => cosine(v, ref.probe_embeddings_after[i]!)));
      expect(worst).toBeGreaterThanOrEqual(0.99999);
      await engine.dispose();
    });
  }
});
