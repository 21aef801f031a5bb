/**
 * The `hard-negative` miner against an independent reference of sentence-transformers'
 * mine_hard_negatives (util/hard_negatives.py), written here step by step over the very embeddings
 * the miner was given: the fixture tiny-bert (ort backend) on ../shared/data/transactions (train
 * queries, the 27 category names as corpus). Steps: normalize, score matrix, top range_max +
 * max_positives per query, positives to −inf, absolute_margin / relative_margin / max_score to −inf
 * (against the query's lowest positive score), top range_max of what is left, drop the first
 * range_min, then the first num_negatives (top) or a seeded sample of the finite ones, resorted
 * (random); triplet keeps the finite ones, n-tuple only rows with num_negatives finite ones.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRng } from '../../../core/rng.js';
import type { DatasetData, Encoder, EncodeOptions } from '../../../core/types.js';
import OrtBackend from '../../../plugins/backend/ort.js';
import HardNegativeMiner, { type HardNegativeOptions } from '../../../plugins/miner/hard-negative.js';
import { loadTransactions } from '../../engine/adapter/helpers.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, TINY_BERT, TRANSACTIONS } from '../../helpers/shared.js';

interface Opts {
  range_min: number;
  range_max: number;
  num_negatives: number;
  absolute_margin?: number;
  relative_margin?: number;
  max_score?: number;
  sampling: 'top' | 'random';
  format: 'triplet' | 'n-tuple';
  seed: number;
}

/** mine_hard_negatives' algorithm over given query/corpus embeddings → per query, the negative corpus indices. */
function reference(qEmb: Float32Array[], dEmb: Float32Array[], positives: number[][], o: Opts, removed: Record<'absolute_margin' | 'relative_margin' | 'max_score', number>): number[][] {
  const unit = (v: Float32Array) => {
    const n = Math.hypot(...v);
    return Array.from(v, (x) => x / n);
  };
  const Q = qEmb.map(unit);
  const D = dEmb.map(unit);
  const maxPositives = Math.max(...positives.map((p) => p.length));
  const k = Math.min(o.range_max + maxPositives, D.length);
  const rng = createRng(o.seed);
  return Q.map((q, qi) => {
    const sim = D.map((d) => d.reduce((s, x, j) => s + x * q[j]!, 0));
    // torch.topk over the row (ties: lower index first)
    const idx = sim.map((_, i) => i).sort((a, b) => sim[b]! - sim[a]! || a - b).slice(0, k);
    const scores = idx.map((i) => sim[i]!);
    const posScore = Math.min(...positives[qi]!.map((p) => sim[p]!));
    idx.forEach((i, c) => {
      if (positives[qi]!.includes(i)) scores[c] = -Infinity;
    });
    const drop = (guard: keyof typeof removed, out: (s: number) => boolean) =>
      scores.forEach((s, c) => {
        if (out(s)) [scores[c], removed[guard]] = [-Infinity, removed[guard] + 1];
      });
    if (o.absolute_margin !== undefined) drop('absolute_margin', (s) => s + o.absolute_margin! > posScore);
    if (o.relative_margin !== undefined) drop('relative_margin', (s) => s > posScore - Math.abs(posScore) * o.relative_margin!);
    if (o.max_score !== undefined) drop('max_score', (s) => s > o.max_score!);
    // topk(range_max) of the masked scores, then drop range_min
    const order = scores.map((_, c) => c).sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, o.range_max).slice(o.range_min);
    let picked: number[];
    if (o.sampling === 'top') picked = order.slice(0, o.num_negatives);
    else {
      const finite = order.filter((c) => scores[c] !== -Infinity);
      const positions = finite.map((_, p) => p);
      picked = finite.length === 0 ? [] : rng.sample(positions, Math.min(o.num_negatives, finite.length)).map((p) => finite[p]!);
      picked.sort((a, b) => scores[b]! - scores[a]! || a - b);
    }
    const kept = picked.filter((c) => scores[c] !== -Infinity).map((c) => idx[c]!);
    if (o.format === 'n-tuple' && kept.length < o.num_negatives) return [];
    return kept;
  });
}

describeShared('hard-negative matches a reference of sentence-transformers mine_hard_negatives (tiny-bert, transactions)', () => {
  const ctx = makeContext({ baseDir: TRANSACTIONS });
  let data: DatasetData;
  let base: Encoder;
  beforeAll(async () => {
    data = await loadTransactions(ctx);
    base = await new OrtBackend({ intra_op_threads: 2, batch_size: 32, execution_providers: ['cpu'] }, ctx).loadEncoder(
      { path: TINY_BERT, query_prompt: '', document_prompt: '' },
      'base',
    );
  }, 300_000);
  afterAll(async () => base?.dispose());

  async function compare(o: Opts) {
    const seen: Record<string, Float32Array[]> = {};
    const recording: Encoder = {
      dim: base.dim,
      info: base.info,
      encode: async (t: string[], e: EncodeOptions) => (seen[e.kind] = await base.encode(t, e)),
      dispose: async () => {},
    };
    const train = data.queries;
    const options: HardNegativeOptions = {
      range_min: o.range_min,
      range_max: o.range_max,
      margin: o.relative_margin ?? 0,
      num_negatives: o.num_negatives,
      output_format: o.format,
      sampling_strategy: o.sampling,
      seed: o.seed,
      explicit_negatives: 'ignore',
      ...(o.absolute_margin !== undefined ? { absolute_margin: o.absolute_margin } : {}),
      ...(o.max_score !== undefined ? { max_score: o.max_score } : {}),
    };
    const warn: string[] = [];
    const info: string[] = [];
    const mctx = makeContext({ seed: o.seed, logger: { info: (m) => info.push(m), debug() {}, warn: (m) => warn.push(m) } });
    const ex = await new HardNegativeMiner(options, mctx).mine(train, data.corpus, recording);
    // the miner encodes each distinct query text once: map every training query to its row
    const texts = [...new Set(train.map((q) => q.text))];
    const qRow = train.map((q) => seen.query![texts.indexOf(q.text)]!);
    const ids = data.corpus.map((d) => d.id);
    const positives = train.map((q) => [...new Set(q.relevant.filter((r) => ids.includes(r)))].map((r) => ids.indexOf(r)));
    const removed = { absolute_margin: 0, relative_margin: 0, max_score: 0 };
    const want = reference(qRow, seen.document!, positives, o, removed);
    const pool = o.range_max + Math.max(...positives.map((p) => p.length));
    expect(info).toEqual([
      `miner hard-negative: the false-negative guards removed ${removed.absolute_margin} candidates by absolute_margin, ${removed.relative_margin} by margin, ${removed.max_score} by max_score (pool: the top ${pool} documents per query)`,
    ]);
    const got: string[][] = [];
    if (o.format === 'n-tuple') {
      let at = 0;
      for (const [qi, q] of train.entries()) {
        if (want[qi]!.length === 0) continue;
        const e = ex.items[at++]!;
        expect(e.anchor).toBe(q.text);
        got.push(e.negatives!);
      }
      expect(at).toBe(ex.items.length);
    } else {
      const byAnchor = ex.items.map((e) => e.negative!);
      got.push(byAnchor);
    }
    const wanted = o.format === 'n-tuple' ? want.filter((w) => w.length > 0).map((w) => w.map((i) => data.corpus[i]!.text)) : [want.flat().map((i) => data.corpus[i]!.text)];
    expect(got).toEqual(wanted);
    return { mined: wanted.flat().length, removed };
  }

  it('top, n-tuple, 3 negatives, rank window [1, 12), relative margin 0.05, absolute margin 0.01, max_score 0.9', async () => {
    const r = await compare({ range_min: 1, range_max: 12, num_negatives: 3, relative_margin: 0.05, absolute_margin: 0.01, max_score: 0.9, sampling: 'top', format: 'n-tuple', seed: 42 });
    expect(r.mined).toBeGreaterThan(0);
    // every guard bites on this data, so each is compared with the reference
    expect(Object.values(r.removed).every((n) => n > 0)).toBe(true);
  }, 300_000);

  it('random, triplet, 2 negatives of [0, 8), relative margin 0.02, seed 7', async () => {
    const r = await compare({ range_min: 0, range_max: 8, num_negatives: 2, relative_margin: 0.02, sampling: 'random', format: 'triplet', seed: 7 });
    expect(r.mined).toBeGreaterThan(0);
  }, 300_000);
});
