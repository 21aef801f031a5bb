/**
 * The ort trainer's host-side pieces: HostAdamW against the tfjs AdamW (dense, row-sparse, with a
 * clipping scale, state round trip), gradient accumulation, and the NaN/Inf guard.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { loadModelLayout } from '../../../../engine/model/layout.js';
import { HostAdamW } from '../../../../engine/train/host-adamw.js';
import type { LossPlugin } from '../../../../core/train/loss.js';
import { AdamW } from '../../../../engine/train/optim.js';
import { NonFiniteLossError } from '../../../../core/train/engine.js';
import type { Example } from '../../../../core/types.js';
import { OrtBertEngine } from '../../../../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep } from '../../../../plugins/backend/ort/train-step.js';
import BatchSemiHardTripletLoss from '../../../../plugins/loss/batch-semi-hard-triplet.js';
import { makeContext } from '../../../helpers/context.js';
import { describeShared, TINY_BERT } from '../../../helpers/shared.js';
import { examples } from '../../../train/fixture-data.js';
import { LossSeam } from '../../../../core/train/seam.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function rand(n: number, seed: number, sparseRows?: { width: number; rows: number[] }): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 0.2;
  }
  if (sparseRows) {
    const keep = new Set(sparseRows.rows);
    for (let i = 0; i < n; i++) if (!keep.has(Math.floor(i / sparseRows.width))) out[i] = 0;
  }
  return out;
}

it('HostAdamW updates exactly as the tfjs AdamW (dense, row-sparse, clipping scale, state round trip)', () => {
  const shapes = { table: [40, 8], dense: [8, 8], bias: [8] } as const;
  const init = Object.fromEntries(Object.entries(shapes).map(([k, sh], i) => [k, rand(sh.reduce((a, b) => a * b, 1), 10 + i)]));
  const vars = Object.entries(shapes).map(([k, sh]) => tf.variable(tf.tensor(init[k]!, [...sh]), true, k));
  const ref = new AdamW(vars, { lr: 1e-2, weightDecay: 0.01, decay: (n) => n !== 'bias', rowSparse: (n) => n === 'table' });
  const host = Object.entries(shapes).map(([k, sh]) => ({ name: k, shape: [...sh], data: Float32Array.from(init[k]!), decay: k !== 'bias', rowSparse: k === 'table' }));
  let opt = new HostAdamW(host, { weightDecay: 0.01 });
  for (let step = 0; step < 6; step++) {
    const rows = [step % 5, 7, 20 + step];
    const g = {
      table: rand(320, 100 + step, { width: 8, rows }),
      dense: rand(64, 200 + step),
      bias: rand(8, 300 + step),
    };
    const scale = step % 2 ? 0.5 : 1;
    ref.step(Object.fromEntries(Object.entries(g).map(([k, v]) => [k, tf.tensor(v, [...shapes[k as keyof typeof shapes]])])), 1e-2 * (step + 1), scale);
    opt.step(new Map(Object.entries(g)), 1e-2 * (step + 1), scale, new Map([['table', rows]]));
    if (step === 2) {
      // A checkpoint round trip mid-run.
      const state = opt.getState();
      opt = new HostAdamW(host, { weightDecay: 0.01 });
      opt.setState(state);
    }
  }
  for (const v of vars) {
    const want = v.dataSync();
    const got = host.find((h) => h.name === v.name)!.data;
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!), `${v.name}[${i}]`).toBeLessThanOrEqual(1e-7);
  }
  const refState = ref.getState();
  for (const s of opt.getState().params) {
    const r = refState.params.find((p) => p.name === s.name)!;
    expect(s.step).toBe(r.step);
    for (let i = 0; i < s.m.length; i++) expect(Math.abs(s.m[i]! - r.m[i]!)).toBeLessThanOrEqual(1e-8);
  }
});

const semiHard: LossPlugin = await new BatchSemiHardTripletLoss({ margin: 5, distance_metric: 'euclidean' }, makeContext());

describeShared('OrtTrainStep', () => {
  const load = () => OrtBertEngine.load(loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' }), { threads: 1, executionProviders: ['cpu'] });
  const loss = (): LossPlugin => semiHard;

  it('accumulates Σ loss/batches gradients over micro-batches', async () => {
    const engine = await load();
    const items: Example[] = examples(32);
    const step = new OrtTrainStep(engine, new LossSeam(loss(), items.map((e) => e.label!)), { weightDecay: 0 });
    const copy = (g: Map<string, Float32Array>) => new Map([...g].map(([k, v]) => [k, Float32Array.from(v)]));
    const a = await step.gradients([items.slice(0, 16)], [1]);
    const ga = copy(a.grads);
    step.clearTables(a.touched, a.positions);
    const b = await step.gradients([items.slice(16)], [2]);
    const gb = copy(b.grads);
    step.clearTables(b.touched, b.positions);
    const both = await step.gradients([items.slice(0, 16), items.slice(16)], [1, 2]);
    expect(both.loss).toBeCloseTo((a.loss + b.loss) / 2, 6);
    for (const [name, g] of both.grads) {
      const x = ga.get(name)!;
      const y = gb.get(name)!;
      for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - (x[i]! + y[i]!) / 2), name).toBeLessThanOrEqual(1e-7);
    }
    step.clearTables(both.touched, both.positions);
    await engine.dispose();
  });

  it('a non-finite loss throws NonFiniteLossError and leaves the weights untouched', async () => {
    const engine = await load();
    const nan: LossPlugin = { needs: 'labelled', compute: (b) => tf.mul(tf.sum(b.anchor), NaN) as tf.Scalar };
    const step = new OrtTrainStep(engine, new LossSeam(nan, ['a', 'b']), { weightDecay: 0.01 });
    const before = new Map([...engine.weights].map(([k, v]) => [k, Float32Array.from(v)]));
    const items: Example[] = examples(16);
    const err = await step.step([items], 1e-3, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    for (const [k, v] of engine.weights) expect(v).toEqual(before.get(k));
    // The embedding accumulators were cleared: a good step afterwards is unaffected.
    const ok = new OrtTrainStep(engine, new LossSeam(loss(), items.map((e) => e.label!)), { weightDecay: 0.01 });
    const r = await ok.step([items], 1e-3, 1);
    expect(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm)).toBe(true);
    await engine.dispose();
  });
});
