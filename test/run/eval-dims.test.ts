/**
 * evaluate.dims (Matryoshka evaluation): each embedding cut to its first d values and re-normalized,
 * searched and scored again, per model, in metrics.json `dims`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { evaluateModel, truncateNormalize } from '../../core/run/evaluate.js';
import type { RunMetrics } from '../../core/run/records.js';
import type { Encoder } from '../../core/types.js';
import ConsoleSink from '../../plugins/sink/console.js';
import MemoryStore from '../../plugins/store/memory.js';
import { cli, tempDir } from '../helpers/cli.js';
import { makeContext } from '../helpers/context.js';
import { fixtureEmbeddings } from '../helpers/fixture-embeddings.js';
import { TINY_BERT, TRANSACTIONS, TRANSACTIONS_EXPERIMENT, describeShared } from '../helpers/shared.js';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('truncateNormalize', () => {
  it('keeps the first d values and L2-normalizes them', () => {
    const [a, b] = truncateNormalize([v(3, 4, 12), v(0, 0, 5)], 2);
    expect([...a!]).toEqual([expect.closeTo(0.6, 7), expect.closeTo(0.8, 7)]);
    expect([...b!]).toEqual([0, 0]); // a zero prefix stays zero
    const [c] = truncateNormalize([v(3, 4, 12)], 3);
    expect([...c!].map((x) => x * 13)).toEqual([expect.closeTo(3, 5), expect.closeTo(4, 5), expect.closeTo(12, 5)]);
  });

  it('refuses a dimension over the embedding dimension, naming evaluate.dims and the valid range', () => {
    expect(() => truncateNormalize([v(1, 2)], 3)).toThrow(UserError);
    expect(() => truncateNormalize([v(1, 2)], 3)).toThrow("evaluate.dims: 3 is more than the model's embedding dimension 2; valid: integers from 1 to 2");
  });
});

describe('evaluateModel with evaluate.dims', () => {
  it('scores the truncated embeddings: a ranking that differs at dim 1 from the full one', async () => {
    // query (1,1); doc A (1,-1) is relevant, doc B (0.2,1).
    // full: cos(q,A) = 0, cos(q,B) = 1.2/(√2·√1.04) ≈ 0.83 → B, A: mrr@1 0, mrr@3 1/2
    // dim 1: q → (1), A → (1), B → (1): a tie, broken by corpus order → A, B: mrr@1 1, mrr@3 1
    const vectors: Record<string, Float32Array> = { q: v(1, 1), A: v(1, -1), B: v(0.2, 1) };
    const encoder: Encoder = {
      dim: 2,
      info: {},
      encode: async (texts) => texts.map((t) => vectors[t]!),
      dispose: async () => {},
    };
    const ctx = makeContext();
    const r = await evaluateModel(
      'base',
      encoder,
      new MemoryStore({}, ctx),
      [{ id: 'A', text: 'A' }, { id: 'B', text: 'B' }],
      [{ id: 'q1', text: 'q', relevant: ['A'] }],
      { compare: ['base'], metrics: ['mrr', 'hit'], k: [1, 3], primary: 'mrr@1', dims: [2, 1] },
      ctx,
    );
    expect(r.summary).toEqual({ 'mrr@1': 0, 'mrr@3': 0.5, 'hit@1': 0, 'hit@3': 1 });
    expect(r.dims).toEqual({
      '2': { 'mrr@1': 0, 'mrr@3': 0.5, 'hit@1': 0, 'hit@3': 1 },
      '1': { 'mrr@1': 1, 'mrr@3': 1, 'hit@1': 1, 'hit@3': 1 },
    });
  });

  it('adds no dims section when evaluate.dims is not set', async () => {
    const encoder: Encoder = { dim: 1, info: {}, encode: async (t) => t.map(() => v(1)), dispose: async () => {} };
    const ctx = makeContext();
    const r = await evaluateModel('base', encoder, new MemoryStore({}, ctx), [{ id: 'A', text: 'A' }], [{ id: 'q', text: 'q', relevant: ['A'] }], { compare: ['base'], metrics: ['hit'], k: [1], primary: 'hit@1' }, ctx);
    expect(r.dims).toBeUndefined();
  });
});

/** Independent reference: exact cosine ranking of the truncated fixture embeddings, ties by corpus order. */
function reference(queries: Float32Array[], docs: Float32Array[], docIds: string[], relevant: string[][], d: number) {
  const unit = (x: Float32Array) => {
    const y = Array.from(x.slice(0, d));
    const n = Math.hypot(...y);
    return y.map((e) => e / n);
  };
  const D = docs.map(unit);
  let mrr1 = 0;
  let hit3 = 0;
  queries.forEach((q, i) => {
    const Q = unit(q);
    const ranked = D.map((e, j) => ({ j, s: e.reduce((a, x, t) => a + x * Q[t]!, 0) }))
      .sort((a, b) => b.s - a.s || a.j - b.j)
      .map((h) => docIds[h.j]!);
    if (relevant[i]!.includes(ranked[0]!)) mrr1 += 1;
    if (ranked.slice(0, 3).some((id) => relevant[i]!.includes(id))) hit3 += 1;
  });
  return { 'mrr@1': mrr1 / queries.length, 'hit@3': hit3 / queries.length };
}

describeShared('ftrun run with evaluate.dims (tiny-bert)', () => {
  it('records per-dimension metrics for base and fine-tuned that match an independent computation', async () => {
    const dir = tempDir('ftrun-dims-');
    writeFileSync(
      join(dir, 'x.yaml'),
      `name: dims
${TRANSACTIONS_EXPERIMENT}backend: { type: ort, intra_op_threads: 1 }
miner: { type: random-negative }
loss: { type: multiple-negatives-ranking }
training: { method: full, epochs: 1 }
evaluate: { compare: [base, finetuned], metrics: [mrr, hit], k: [1, 3], dims: [32, 8] }
sinks: [{ type: markdown }, { type: html }]
`,
    );
    const r = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const runDir = JSON.parse(r.stdout).run_dir as string;
    const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as RunMetrics;
    expect(Object.keys(m.dims!).sort()).toEqual(['base', 'finetuned']);
    for (const model of ['base', 'finetuned']) expect(Object.keys(m.dims![model]!).sort()).toEqual(['32', '8']);
    // the top-level metrics stay the full (64) dimension ones
    expect(Object.keys(m.models.base!)).toEqual(['mrr@1', 'mrr@3', 'hit@1', 'hit@3']);

    const evalRows = readFileSync(join(TRANSACTIONS, 'eval_transactions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { input: string; expected: string[] });
    const docIds = (JSON.parse(readFileSync(join(TRANSACTIONS, 'categories.json'), 'utf8')) as Array<{ category: string }>).map((c) => c.category);
    const q = await fixtureEmbeddings(evalRows.map((e) => e.input));
    const docs = await fixtureEmbeddings(docIds);
    const relevant = evalRows.map((e) => e.expected);
    const full = reference(q, docs, docIds, relevant, 64);
    expect(m.models.base!['mrr@1']).toBeCloseTo(full['mrr@1'], 9);
    for (const d of [32, 8]) {
      const ref = reference(q, docs, docIds, relevant, d);
      expect(m.dims!.base![String(d)]!['mrr@1']).toBeCloseTo(ref['mrr@1'], 9);
      expect(m.dims!.base![String(d)]!['hit@3']).toBeCloseTo(ref['hit@3'], 9);
    }
    // the truncation changes the results (on this data: mrr@1 at 64, 32 and 8 are 19/66, 21/66, 16/66)
    expect(new Set([m.models.base!['mrr@1'], m.dims!.base!['32']!['mrr@1'], m.dims!.base!['8']!['mrr@1']]).size).toBe(3);

    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain('## Truncated dimensions');
    expect(report).toMatch(/\| metric \| base @32 \| base @8 \| fine-tuned @32 \| fine-tuned @8 \|/);
    // report.html: the primary metric against the dimension, one line per model, then the table
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    const section = html.slice(html.indexOf('<h2>Truncated dimensions</h2>'));
    expect(section).toMatch(/^<h2>Truncated dimensions<\/h2>[^]*<svg[^]*MRR@1 by embedding dimension[^]*<\/svg>\s*<table><thead><tr><th>metric<\/th><th class="num">base @32<\/th>/);
  }, 180_000);

  it('validate refuses a dimension over the model\'s (tiny-bert: 64)', async () => {
    const dir = tempDir('ftrun-dims-');
    writeFileSync(join(dir, 'x.yaml'), `name: dims\ndataset:\n  type: jsonl\n  queries: ${TRANSACTIONS}/train_transactions.jsonl\n  corpus: { path: ${TRANSACTIONS}/categories.json, text: category }\nmodel: { path: ${TINY_BERT} }\ntraining: { method: none }\nevaluate: { dims: [32, 128] }\n`);
    const r = await cli(['validate', join(dir, 'x.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`evaluate.dims[1]: 128 is more than the model's embedding dimension 64 (${TINY_BERT}); valid: integers from 1 to 64`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('console sink with evaluate.dims', () => {
  it('prints a table with one column per model and dimension, largest first', () => {
    const s = new ConsoleSink({ digits: 3 }, makeContext());
    const out: string[] = [];
    s.write = (t) => void out.push(t);
    s.close({
      name: 'm',
      runDir: '/runs/m/1',
      status: 'ok',
      primary: 'mrr@1',
      models: { base: { 'mrr@1': 0.3 }, finetuned: { 'mrr@1': 0.5 } },
      delta: { 'mrr@1': 0.2 },
      dims: { base: { '64': { 'mrr@1': 0.25 }, '256': { 'mrr@1': 0.28 } }, finetuned: { '64': { 'mrr@1': 0.4 }, '256': { 'mrr@1': 0.47 } } },
      timings: {},
    });
    expect(out.join('')).toContain(
      ['truncated dimensions (evaluate.dims):', 'metric  base @256  base @64  fine-tuned @256  fine-tuned @64', 'MRR@1       0.280     0.250            0.470           0.400'].join('\n'),
    );
  });
});

describeShared('ftrun diff with evaluate.dims', () => {
  it('compares each dimension both runs evaluated, as model "<model> @<d>"', async () => {
    const dir = tempDir('ftrun-dims-diff-');
    const yaml = (dims: string) => `name: d\n${TRANSACTIONS_EXPERIMENT}backend: { type: ort, intra_op_threads: 1 }\ntraining: { method: none }\nevaluate: { metrics: [mrr], k: [1], dims: ${dims} }\nsinks: [{ type: json }]\n`;
    const runs: string[] = [];
    for (const [i, dims] of ['[32, 8]', '[32, 16]'].entries()) {
      writeFileSync(join(dir, `${i}.yaml`), yaml(dims));
      const r = await cli(['run', join(dir, `${i}.yaml`), '--runs-dir', join(dir, `runs${i}`), '--json', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      runs.push(JSON.parse(r.stdout).run_dir as string);
    }
    const d = await cli(['diff', runs[0]!, runs[1]!, '--json']);
    expect(d.code, d.stderr).toBe(0);
    const m0 = JSON.parse(readFileSync(join(runs[0]!, 'metrics.json'), 'utf8')) as RunMetrics;
    const v = m0.dims!.base!['32']!['mrr@1']!;
    // the full-dimension row pairs the same 66 queries (the same base model: no difference); a dimension has no per-query results, so no interval
    expect(JSON.parse(d.stdout).metrics).toEqual({ base: { 'mrr@1': { a: m0.models.base!['mrr@1'], b: m0.models.base!['mrr@1'], delta: 0, ci: { low: 0, high: 0, p: 1, significant: false } } }, 'base @32': { 'mrr@1': { a: v, b: v, delta: 0 } } });
    expect(JSON.parse(d.stdout).queries).toEqual({ base: { paired: 66, only_a: 0, only_b: 0 }, 'base @32': { paired: 0, only_a: 0, only_b: 0, missing: 'per-query results are not kept per truncated dimension' } });
  }, 120_000);
});
