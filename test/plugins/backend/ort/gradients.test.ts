/**
 * The ort backward graph against the tfjs encoder's gradients (whose ops are checked against
 * tfjs' stock gradients in test/plugins/backend/tfjs/ops.test.ts): every weight gradient of one batch, for the
 * tiny-bert fixture as it is (dropout 0), and for a copy with dropout 0.1 (hidden and attention)
 * under CLS and mean pooling, where both engines draw the same keep-masks from the same seed.
 * Also checks the forward pass (last hidden state via embeddings) against tfjs.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadModelLayout } from '../../../../engine/model/layout.js';
import { selectTfjsDevice } from '../../../../plugins/backend/tfjs/device.js';
import { TfjsSentenceModel } from '../../../../plugins/backend/tfjs/sentence.js';
import { AdamW } from '../../../../engine/train/optim.js';
import { TrainStep } from '../../../../plugins/backend/tfjs/train-step.js';
import type { Example } from '../../../../core/types.js';
import BatchSemiHardTripletLoss from '../../../../plugins/loss/batch-semi-hard-triplet.js';
import MultipleNegativesRankingLoss from '../../../../plugins/loss/multiple-negatives-ranking.js';
import { OrtBertEngine } from '../../../../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep } from '../../../../plugins/backend/ort/train-step.js';
import { parseBertConfig, bertWeightShapes } from '../../../../engine/model/bert-config.js';
import { Rng } from '../../../../core/rng.js';
import { writeSafetensors, type TensorToWrite } from '../../../../core/safetensors.js';
import { makeContext } from '../../../helpers/context.js';
import { describeShared, TINY_BERT, TRANSACTIONS } from '../../../helpers/shared.js';
import { LossSeam } from '../../../../core/train/seam.js';

const rows = (): Array<{ input: string; expected: string[] }> =>
  readFileSync(`${TRANSACTIONS}/train_transactions.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { input: string; expected: string[] });

/** A copy of the fixture with dropout and the given pooling. */
function variant(dropout: number, pooling: 'cls' | 'mean' | 'max'): string {
  const dir = mkdtempSync(join(tmpdir(), 'ftrun-ort-grad-'));
  cpSync(TINY_BERT, dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout }));
  const pool = JSON.parse(readFileSync(join(dir, '1_Pooling', 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ ...pool, pooling_mode_cls_token: pooling === 'cls', pooling_mode_mean_tokens: pooling === 'mean', pooling_mode_max_tokens: pooling === 'max' }));
  return dir;
}

/**
 * A BERT with every weight random (LayerNorm scales and shifts, biases included; hidden 48, 4 heads,
 * 2 layers), the fixture's tokenizer and pooling, dropout 0.1: random inputs for every op.
 */
function randomBert(): string {
  const dir = variant(0.1, 'cls');
  const cfg = { model_type: 'bert', hidden_act: 'gelu', vocab_size: 1200, hidden_size: 48, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 96, max_position_embeddings: 128, type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  const rng = new Rng(2024);
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, shape] of bertWeightShapes(parseBertConfig(cfg))) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const centre = name.endsWith('LayerNorm.weight') ? 1 : 0;
    for (let i = 0; i < data.length; i++) data[i] = centre + (shape.length === 1 ? 0.3 : 0.08) * rng.normal();
    tensors.set(name, { shape, data });
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

describeShared('ort backward graph vs tfjs gradients', () => {
  beforeAll(async () => {
    await selectTfjsDevice('cpu', { threads: 1 });
  });
  afterAll(async () => {
    await selectTfjsDevice('cpu', { threads: 1 });
  });

  const cases = [
    { name: 'fixture (dropout 0, cls), batch semi-hard triplet', dir: () => TINY_BERT, loss: 'bsh' },
    { name: 'dropout 0.1, cls, batch semi-hard triplet', dir: () => variant(0.1, 'cls'), loss: 'bsh' },
    { name: 'dropout 0.1, mean pooling, multiple negatives ranking (two columns)', dir: () => variant(0.1, 'mean'), loss: 'mnrl' },
    { name: 'dropout 0, max pooling, batch semi-hard triplet', dir: () => variant(0, 'max'), loss: 'bsh' },
    { name: 'random weights everywhere (biases, LayerNorm), dropout 0.1, multiple negatives ranking', dir: randomBert, loss: 'mnrl' },
  ] as const;

  for (const c of cases) {
    it(c.name, async () => {
      const dir = c.dir();
      const layout = loadModelLayout(dir, { query_prompt: '', document_prompt: '' });
      const data = rows().slice(0, 16);
      const items: Example[] = data.map((r) => ({ anchor: r.input, label: r.expected[0]!, positive: r.expected[0]! }));
      const loss = c.loss === 'bsh'
        ? await new BatchSemiHardTripletLoss({ margin: 5, distance_metric: 'euclidean' }, makeContext())
        : await new MultipleNegativesRankingLoss({ scale: 20, similarity: 'cosine' }, makeContext());
      const labels = data.map((r) => r.expected[0]!);

      const model = TfjsSentenceModel.load(layout);
      const tfStep = new TrainStep(model, new LossSeam(loss, labels), new AdamW(model.trainableVariables, { lr: 1e-3 }));
      const ref = await tfStep.lossAndGrads(items, 1, 1234);
      const names = new Map([...model.bert.weights].map(([file, v]) => [v.name, file]));
      const want = new Map<string, Float32Array>();
      for (const [k, g] of Object.entries(ref.grads)) want.set(names.get(k)!, g.dataSync() as Float32Array);
      tf.dispose(Object.values(ref.grads));

      const engine = await OrtBertEngine.load(layout, { threads: 1, executionProviders: ['cpu'] });
      const step = new OrtTrainStep(engine, new LossSeam(loss, labels), { weightDecay: 0.01 });
      const got = await step.gradients([items], [1234]);
      expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
      expect([...got.grads.keys()].sort()).toEqual([...want.keys()].sort());
      // Errors relative to the tensor's largest gradient (or 1e-3 of the largest of all: the key
      // bias's true gradient is 0, softmax being shift-invariant, so both engines give rounding noise).
      let globalMax = 0;
      for (const w of want.values()) for (const x of w) globalMax = Math.max(globalMax, Math.abs(x));
      let worst = { name: '', err: 0 };
      for (const [name, g] of got.grads) {
        const w = want.get(name)!;
        let maxRef = 0;
        let maxErr = 0;
        for (let i = 0; i < g.length; i++) {
          maxRef = Math.max(maxRef, Math.abs(w[i]!));
          maxErr = Math.max(maxErr, Math.abs(g[i]! - w[i]!));
        }
        const rel = maxErr / Math.max(maxRef, 1e-3 * globalMax);
        if (process.env.FTRUN_DEBUG) console.log(name, maxRef.toExponential(2), maxErr.toExponential(2));
        if (rel > worst.err) worst = { name, err: rel };
      }
      expect(worst.err, `worst gradient ${worst.name}`).toBeLessThan(1e-4);
      // Eval-mode embeddings equal the tfjs encoder's.
      const texts = data.slice(0, 5).map((r) => r.input);
      const a = await engine.embed(texts, 'query');
      const b = model.embed(texts, 'query');
      for (let i = 0; i < texts.length; i++) for (let k = 0; k < a[i]!.length; k++) expect(Math.abs(a[i]![k]! - b[i]![k]!)).toBeLessThan(1e-5);
      await engine.dispose();
      model.dispose();
    });
  }
});
