/**
 * Adapter training on a fake encoder (8-d pseudo-random text vectors): it learns, evaluates and
 * keeps the best step, caches embeddings, resumes after an interruption to identical weights,
 * and stops on a non-finite loss or on too little data.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAdapterEncoder } from '../../../engine/adapter/encoder.js';
import { loadAdapter } from '../../../engine/adapter/save.js';
import { trainAdapter, type AdapterTrainRequest } from '../../../engine/adapter/train.js';
import { UserError } from '../../../core/errors.js';
import { listCheckpoints, readCheckpoint } from '../../../core/train/checkpoint.js';
import type { LossPlugin } from '../../../core/train/loss.js';
import type { Doc, Example, Query } from '../../../core/types.js';
import MultipleNegativesRankingLoss from '../../../plugins/loss/multiple-negatives-ranking.js';
import { makeContext } from '../../helpers/context.js';
import { FakeEncoder } from './fake-encoder.js';
import { adapterRequest } from './helpers.js';

const LABELS = ['a', 'b', 'c', 'd', 'e', 'f'];
const corpus: Doc[] = LABELS.map((l) => ({ id: l, text: `document ${l}` }));
const queries: Query[] = Array.from({ length: 36 }, (_, i) => {
  const l = LABELS[i % LABELS.length]!;
  return { id: `q${i}`, text: `query ${i} about ${l}`, relevant: [l], label: l };
});
const items: Example[] = queries.map((q, i) => ({
  anchor: q.text,
  positive: `document ${q.label}`,
  negative: `document ${LABELS[(i + 1) % LABELS.length]}`,
  label: q.label,
}));
const mnrlLoss: LossPlugin = await new MultipleNegativesRankingLoss({ scale: 20, similarity: 'cos' }, makeContext());
const mnrl = (): LossPlugin => mnrlLoss;
type Ev = Record<string, any>;

function request(over: Partial<AdapterTrainRequest> = {}, training: Record<string, unknown> = {}): AdapterTrainRequest & { events: Ev[] } {
  const events: Ev[] = [];
  const req = adapterRequest(
    {
      encoder: new FakeEncoder(8),
      examples: { shapes: ['pairs', 'triplets', 'labelled'], items },
      loss: mnrl(),
      training: { epochs: 4, batch_size: 6, eval_every: 4, save_total_limit: 2, learning_rate: 0.05, adapter: { apply_to: 'query' }, ...training },
      test: queries.slice(0, 12),
      corpus,
      metrics: ['mrr', 'recall'],
      k: [1, 3],
      onEvent: (e) => events.push(e),
      seed: 5,
      ...over,
    },
    'ftrun-adapter-train-',
  );
  return { ...req, events };
}

describe('trainAdapter', () => {
  it('learns on the fake data, keeps the best step, and saves an adapter the encoder wrapper loads', async () => {
    const before = tf.memory().numTensors;
    const req = request();
    const res = await trainAdapter(req);
    expect(tf.memory().numTensors).toBe(before);
    const steps = req.events.filter((e) => e.type === 'train_step');
    expect(steps.length).toBe(res.steps);
    expect(res.steps).toBeGreaterThan(8);
    const evals = req.events.filter((e) => e.type === 'eval');
    expect(evals.map((e) => e.step)).toEqual([...Array.from({ length: Math.floor(res.steps / 4) }, (_, i) => 4 * (i + 1)), ...(res.steps % 4 ? [res.steps] : [])]);
    // the base encoder's vectors are random: the adapter must learn the mapping
    const base = new FakeEncoder(8);
    const baseMrr = await mrrAt1(base);
    const tuned = await loadAdapterEncoder(new FakeEncoder(8), res.modelDir);
    const best = Math.max(...evals.map((e) => e.metrics['mrr@1']));
    expect(best).toBeGreaterThan(baseMrr + 0.2);
    expect(res.bestStep).toBe(evals.find((e) => e.metrics['mrr@1'] === best)!.step);
    // load_best: the saved adapter is the best checkpoint's
    const saved = loadAdapter(res.modelDir);
    const ck = readCheckpoint(join(req.checkpointDir, `step-${res.bestStep}`));
    for (const [name, t] of saved.weights.tensors) expect(t.data).toEqual(ck.weights.get(name)!.data);
    expect(await mrrAt1(tuned)).toBeCloseTo(best, 10);
    expect(saved.meta.apply_to).toBe('query');
    expect(listCheckpoints(req.checkpointDir).length).toBeLessThanOrEqual(3); // 2 newest + the best
    expect(res.info).toMatchObject({ method: 'adapter', adapter: 'linear', apply_to: 'query', dim: 8, parameters: 72, texts_encoded: 36 + 6 });
    expect(existsSync(join(res.modelDir, 'cache', 'query.safetensors'))).toBe(true);
    expect(existsSync(join(res.modelDir, 'onnx'))).toBe(false); // the fake base is not an ONNX model
  });

  it('resumes after an interruption and ends with the same weights as an uninterrupted run', async () => {
    for (const training of [{}, { learning_rate: 0.02, adapter: { kind: 'mlp', hidden: 5, apply_to: 'both' }, gradient_accumulation_steps: 2 }]) {
      const whole = request({}, training);
      const a = await trainAdapter(whole);

      const ctl = new AbortController();
      const part = request({ signal: ctl.signal }, training);
      part.onEvent = (e) => {
        part.events.push(e);
        if (e.type === 'train_step' && e.step === 3) ctl.abort();
      };
      await expect(trainAdapter(part)).rejects.toThrow(/interrupted at step 3/);
      expect(existsSync(join(part.outDir, 'adapter.json'))).toBe(false);
      const encoder = new FakeEncoder(8);
      const b = await trainAdapter({ ...part, encoder, signal: new AbortController().signal, resume: true });
      expect(encoder.encoded).toBe(0); // embeddings came from the run's cache
      expect(part.events.find((e) => e.type === 'resume')).toMatchObject({ step: 3 });
      expect(b.steps).toBe(a.steps);
      expect(b.bestStep).toBe(a.bestStep);
      const wa = loadAdapter(a.modelDir).weights;
      const wb = loadAdapter(b.modelDir).weights;
      for (const [name, t] of wa.tensors) expect(wb.tensors.get(name)!.data).toEqual(t.data);
    }
  });

  it('refuses to resume with other adapter settings', async () => {
    const ctl = new AbortController();
    const req = request({ signal: ctl.signal });
    req.onEvent = (e) => e.type === 'train_step' && ctl.abort();
    await expect(trainAdapter(req)).rejects.toThrow(/interrupted/);
    const again = { ...req, signal: undefined, resume: true, training: { ...req.training, adapter: { kind: 'mlp' } } };
    await expect(trainAdapter(again)).rejects.toThrow(/adapter settings changed/);
  });

  it('stops on a non-finite loss without applying the update', async () => {
    const nan: LossPlugin = { needs: 'pairs', compute: (b) => tf.tidy(() => tf.mul(tf.sum(b.anchor), NaN) as tf.Scalar) };
    await expect(trainAdapter(request({ loss: nan }))).rejects.toThrow(/diverged at step 1 .*non-finite loss/);
  });

  it('rejects too little data and a loss the examples cannot feed', async () => {
    await expect(trainAdapter(request({}, { batch_size: 64 }))).rejects.toThrow(UserError);
    const contrastive: LossPlugin = { needs: 'labelled-pairs', compute: () => tf.scalar(0) };
    await expect(trainAdapter(request({ loss: contrastive }))).rejects.toThrow(/needs labelled-pairs examples/);
  });
});

async function mrrAt1(enc: { encode: FakeEncoder['encode'] }): Promise<number> {
  const test = queries.slice(0, 12);
  const qv = await enc.encode(test.map((q) => q.text), { kind: 'query' });
  const dv = await enc.encode(corpus.map((d) => d.text), { kind: 'document' });
  const unit = (v: Float32Array) => {
    const n = Math.hypot(...v);
    return [...v].map((x) => x / n);
  };
  let hits = 0;
  test.forEach((q, i) => {
    const s = dv.map((d) => unit(d).reduce((acc, x, j) => acc + x * unit(qv[i]!)[j]!, 0));
    const top = s.indexOf(Math.max(...s));
    if (corpus[top]!.id === q.relevant[0]) hits++;
  });
  return hits / test.length;
}
