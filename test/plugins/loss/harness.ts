/**
 * Shared test suite of the loss plugins: fixture values (losses.json) on cpu and wasm, option schema and
 * defaults, random batches for every option variant against the float64 reference, gradients (finite,
 * non-zero, matching finite differences of the reference) and wasm-vs-cpu gradients.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { configAjv } from '../../../core/config/ajv.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ExampleShape, PluginClass } from '../../../core/types.js';
import type { LossBatch, LossPlugin } from '../../../core/train/loss.js';
import { type FixtureColumns, lossFixture, lossFixtureEmbeddings } from '../../helpers/fixture-embeddings.js';
import { makeContext } from '../../helpers/context.js';
import { HAS_SHARED } from '../../helpers/shared.js';
import type { Vec } from './reference.js';

export interface ArrayBatch {
  anchor: Vec[];
  positive?: Vec[];
  negative?: Vec[];
  labels?: number[];
  pairLabels?: number[];
}

type Options = Record<string, unknown>;

export interface LossSuite {
  plugin: PluginClass<Promise<LossPlugin>> & { needs: ExampleShape };
  defaults: Options;
  /** losses.json keys and the options that reproduce them. */
  fixture: Array<{ key: string; options: Options }>;
  /** Option sets checked on random batches against `reference`. */
  variants: Options[];
  reference: (b: ArrayBatch, o: Options) => number;
  /** For pairs: also check batches with a negative column. */
  withNegatives?: boolean;
}

export function toTensors(b: ArrayBatch): LossBatch {
  return {
    anchor: tf.tensor2d(b.anchor),
    positive: b.positive && tf.tensor2d(b.positive),
    negative: b.negative && tf.tensor2d(b.negative),
    labels: b.labels && tf.tensor1d(b.labels, 'int32'),
    pairLabels: b.pairLabels && tf.tensor1d(b.pairLabels, 'float32'),
  };
}

const arr = (x: Float32Array[]): Vec[] => x.map((v) => Array.from(v));

/** The fixture batch read the way `needs` reads it (contrastive: label 1 → positive, 0 → negative). */
export function fixtureBatch(needs: ExampleShape, c: FixtureColumns): ArrayBatch {
  const fx = lossFixture();
  const anchor = arr(c.anchor);
  switch (needs) {
    case 'labelled':
      return { anchor, labels: fx.batch.labels };
    case 'pairs':
      return { anchor, positive: arr(c.positive) };
    case 'triplets':
      return { anchor, positive: arr(c.positive), negative: arr(c.negative) };
    case 'labelled-pairs': {
      const y = fx.batch.contrastive_pair_label;
      return { anchor, positive: y.map((l, i) => Array.from(l === 1 ? c.positive[i]! : c.negative[i]!)), pairLabels: y };
    }
  }
}

/** A seeded random batch of unit vectors: 12 rows, 8 dims, 4 labels × 3. */
export function randomBatch(needs: ExampleShape, seed: number, withNegatives = true): ArrayBatch {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const vecs = (n: number): Vec[] =>
    Array.from({ length: n }, () => {
      const v = Array.from({ length: 8 }, () => rnd() * 2 - 1);
      const l = Math.hypot(...v);
      return v.map((x) => Math.fround(x / l));
    });
  const n = 12;
  const anchor = vecs(n);
  switch (needs) {
    case 'labelled':
      return { anchor, labels: Array.from({ length: n }, (_, i) => [3, 1, 0, 2][i % 4]!) };
    case 'pairs':
      return withNegatives ? { anchor, positive: vecs(n), negative: vecs(n) } : { anchor, positive: vecs(n) };
    case 'triplets':
      return { anchor, positive: vecs(n), negative: vecs(n) };
    case 'labelled-pairs':
      return { anchor, positive: vecs(n), pairLabels: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)) };
  }
}

const columns = (b: ArrayBatch): Array<'anchor' | 'positive' | 'negative'> =>
  (['anchor', 'positive', 'negative'] as const).filter((k) => b[k] !== undefined);

/** Loss value and gradients w.r.t. every embedding column, on the current backend. */
export function valueAndGrads(loss: LossPlugin, b: ArrayBatch): { value: number; grads: Record<string, number[][]> } {
  const t = toTensors(b);
  const vars = Object.fromEntries(columns(b).map((k) => [k, tf.variable(t[k]!, true, `${k}_${Math.random()}`)]));
  const { value, grads } = tf.variableGrads(
    () => loss.compute({ ...t, ...(vars as Record<string, tf.Tensor2D>) }),
    Object.values(vars),
  );
  const out = {
    value: value.dataSync()[0]!,
    grads: Object.fromEntries(columns(b).map((k) => [k, grads[vars[k]!.name]!.arraySync() as number[][]])),
  };
  tf.dispose([value, ...Object.values(grads), ...Object.values(vars), ...Object.values(t).filter((x) => x !== undefined)]);
  return out;
}

function computeValue(loss: LossPlugin, b: ArrayBatch): number {
  return tf.tidy(() => loss.compute(toTensors(b)).dataSync()[0]!);
}

export function runLossSuite(s: LossSuite): void {
  // A loss's create() is async (it imports the loss helpers, and with them tfjs-core).
  const make = async (o: Options): Promise<LossPlugin> => await new s.plugin({ ...s.defaults, ...o }, makeContext());
  let fixture: ArrayBatch | undefined;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    if (HAS_SHARED) fixture = fixtureBatch(s.plugin.needs, await lossFixtureEmbeddings());
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('declares its schema with sentence-transformers defaults', async () => {
    const ajv = configAjv({ allErrors: true, useDefaults: true });
    const validate = ajv.compile(s.plugin.schema);
    const opts: Options = {};
    expect(validate(opts)).toBe(true);
    expect(opts).toEqual(s.defaults);
    expect(validate({ ...s.defaults, nope: 1 })).toBe(false);
    for (const p of Object.values((s.plugin.schema as { properties: Record<string, Options> }).properties))
      expect(typeof p['description']).toBe('string');
    expect((await make({})).needs).toBe(s.plugin.needs);
  });

  it.runIf(HAS_SHARED)('matches losses.json on the fixture batch within 1e-5 (cpu)', async () => {
    const f = lossFixture();
    for (const { key, options } of s.fixture) {
      expect(f.losses[key], key).toBeDefined();
      expect(Math.abs(computeValue(await make(options), fixture!) - f.losses[key]!.value), key).toBeLessThan(1e-5);
    }
  });

  it('matches the float64 reference on random batches for every option variant', async () => {
    for (const [i, o] of s.variants.entries()) {
      for (const neg of s.withNegatives ? [false, true] : [true]) {
        const b = randomBatch(s.plugin.needs, 100 + i, neg);
        const want = s.reference(b, { ...s.defaults, ...o });
        expect(Math.abs(computeValue(await make(o), b) - want), JSON.stringify(o)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
      }
    }
  });

  it('has finite, non-zero gradients that match finite differences of the reference (cpu)', async () => {
    for (const [i, o] of s.variants.entries()) {
      const b = randomBatch(s.plugin.needs, 200 + i);
      const { value, grads } = valueAndGrads(await make(o), b);
      expect(Number.isFinite(value)).toBe(true);
      let sq = 0;
      // Directional derivative along a fixed pseudo-random direction vs central differences in float64.
      let analytic = 0;
      const plus = structuredClone(b);
      const minus = structuredClone(b);
      const h = 1e-6;
      for (const k of columns(b)) {
        grads[k]!.forEach((row, r) =>
          row.forEach((g, c) => {
            expect(Number.isFinite(g)).toBe(true);
            sq += g * g;
            const dir = Math.sin(r * 7.1 + c * 1.3 + k.length);
            analytic += g * dir;
            plus[k]![r]![c]! += h * dir;
            minus[k]![r]![c]! -= h * dir;
          }),
        );
      }
      expect(sq, JSON.stringify(o)).toBeGreaterThan(0);
      const opts = { ...s.defaults, ...o };
      const numeric = (s.reference(plus, opts) - s.reference(minus, opts)) / (2 * h);
      expect(Math.abs(analytic - numeric), JSON.stringify(o)).toBeLessThan(1e-3 * Math.max(1, Math.abs(numeric)));
    }
  });

  it.runIf(HAS_SHARED)('gives the same values and gradients on wasm as on cpu', async () => {
    const f = lossFixture();
    const cpu: Array<ReturnType<typeof valueAndGrads>> = [];
    for (const { options } of s.fixture) cpu.push(valueAndGrads(await make(options), fixture!));
    const rnd: Array<ReturnType<typeof valueAndGrads>> = [];
    for (const [i, o] of s.variants.entries()) rnd.push(valueAndGrads(await make(o), randomBatch(s.plugin.needs, 300 + i)));
    await tf.setBackend('wasm');
    try {
      for (const [i, { key, options }] of s.fixture.entries()) {
        const w = valueAndGrads(await make(options), fixture!);
        expect(Math.abs(w.value - f.losses[key]!.value), key).toBeLessThan(1e-5);
        expect(Math.abs(w.value - cpu[i]!.value), key).toBeLessThan(1e-5);
        expectClose(w.grads, cpu[i]!.grads, key);
      }
      for (const [i, o] of s.variants.entries()) {
        const w = valueAndGrads(await make(o), randomBatch(s.plugin.needs, 300 + i));
        expect(Math.abs(w.value - rnd[i]!.value), JSON.stringify(o)).toBeLessThan(1e-5);
        expectClose(w.grads, rnd[i]!.grads, JSON.stringify(o));
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('names the missing batch field', async () => {
    const loss = await make({});
    const b = toTensors({ anchor: [[1, 0]] });
    expect(() => loss.compute(b)).toThrow(/needs batch\./);
    tf.dispose(b.anchor);
  });
}

function expectClose(a: Record<string, number[][]>, b: Record<string, number[][]>, what: string): void {
  for (const k of Object.keys(b)) {
    let m = 0;
    a[k]!.forEach((row, r) => row.forEach((v, c) => (m = Math.max(m, Math.abs(v - b[k]![r]![c]!)))));
    expect(m, `${what} d/d${k}`).toBeLessThan(1e-5);
  }
}
