import { configAjv } from '../../../core/config/ajv.js';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import type { Doc, EncodeOptions, Encoder, Query, TextKind } from '../../../core/types.js';
import HardNegativeMiner, { type HardNegativeOptions } from '../../../plugins/miner/hard-negative.js';
import { makeContext } from '../../helpers/context.js';

const IDS = ['A', 'B', 'C', 'D', 'E', 'F'];
const corpus: Doc[] = IDS.map((id) => ({ id, text: `doc ${id}` }));

/**
 * Documents are one-hot vectors (doc C scaled ×100, so a dot product would misrank it); a query's
 * vector is its wanted cosine scores, so its cosine with doc i is scores[i] / |scores|: the
 * ranking and every score ratio the margin guard looks at are the wanted ones.
 */
class FakeEncoder implements Encoder {
  readonly dim = IDS.length;
  readonly info = { fake: true };
  readonly calls: Array<{ kind: TextKind; texts: string[] }> = [];
  constructor(private readonly queries: Record<string, number[]>) {}
  async encode(texts: string[], opts: EncodeOptions): Promise<Float32Array[]> {
    this.calls.push({ kind: opts.kind, texts });
    return texts.map((t) => {
      if (opts.kind === 'document') {
        const v = new Float32Array(this.dim);
        const i = IDS.indexOf(t.slice(4));
        v[i] = i === 2 ? 100 : 1;
        return v;
      }
      return Float32Array.from(this.queries[t]!);
    });
  }
  async dispose(): Promise<void> {}
}

//                                A     B     C    D    E    F
const STEEP = [1.0, 0.99, 0.9, 0.8, 0.7, 0.6];
const q = (id: string, relevant = ['A']): Query => ({ id, text: `query ${id}`, relevant, label: relevant[0] });
const DEFAULTS: HardNegativeOptions = { range_min: 0, range_max: 10, margin: 0.05, num_negatives: 1, output_format: 'triplet', sampling_strategy: 'top', explicit_negatives: 'first' };

function setup(o: Partial<HardNegativeOptions> = {}, seed = 42) {
  const warnings: string[] = [];
  const infos: string[] = [];
  const ctx = makeContext({ seed, logger: { info: (m) => infos.push(m), debug() {}, warn: (m) => warnings.push(m) } });
  return { miner: new HardNegativeMiner({ ...DEFAULTS, ...o }, ctx), warnings, infos };
}
async function negatives(o: Partial<HardNegativeOptions>, scores = STEEP, relevant = ['A']): Promise<string[]> {
  const ex = await setup(o).miner.mine([q('1', relevant)], corpus, new FakeEncoder({ 'query 1': scores }));
  return ex.items.map((e) => e.negative!.slice(4));
}

describe('miner hard-negative', () => {
  it('has a strict schema with its defaults; margin may be null', () => {
    const validate = configAjv({ allErrors: true, useDefaults: true }).compile(HardNegativeMiner.schema);
    const o: Record<string, unknown> = {};
    expect(validate(o)).toBe(true);
    expect(o).toEqual(DEFAULTS);
    expect(validate({ margin: 0 })).toBe(true);
    expect(validate({ margin: null })).toBe(false); // null in a file removes an inherited key; 0 turns the guard off
    expect(validate({ margin: 1 })).toBe(false);
    expect(validate({ sampling_strategy: 'hardest' })).toBe(false);
    expect(validate({ num_negatives: 0 })).toBe(false);
    expect(validate({ range_min: -1 })).toBe(false);
    expect(validate({ explicit_negatives: 'prepend' })).toBe(false);
    // model: a model spec, as the experiment's model section (its defaults filled)
    const withModel: Record<string, unknown> = { model: { path: 'm', pooling: 'mean' } };
    expect(validate(withModel)).toBe(true);
    expect(withModel.model).toEqual({ path: 'm', pooling: 'mean', revision: 'main', query_prompt: '', document_prompt: '' });
    expect(validate({ model: { path: 'm', pooling: 'sum' } })).toBe(false);
    expect(validate({ model: { path: 'm', dims: 3 } })).toBe(false);
  });

  it('declares that it needs the encoder and the shapes it produces', () => {
    expect(HardNegativeMiner.needsEncoder).toBe(true);
    expect(HardNegativeMiner.provides).toEqual(['triplets', 'pairs', 'labelled', 'labelled-pairs']);
    expect(setup().miner.provides).toEqual(['triplets', 'pairs', 'labelled', 'labelled-pairs']);
  });

  it('rejects an empty rank window', () => {
    expect(() => setup({ range_min: 3, range_max: 3 })).toThrow(UserError);
    expect(() => setup({ range_min: 3, range_max: 3 })).toThrow(/miner\.range_max: must be greater than range_min \(3\)/);
  });

  it('fails clearly without an encoder', async () => {
    await expect(setup().miner.mine([q('1')], corpus)).rejects.toThrow(/needs an encoder \(the base model, or its model:\)/);
  });

  it('encodes queries as queries and the corpus as documents, ranking by cosine', async () => {
    const enc = new FakeEncoder({ 'query 1': STEEP, 'query 2': STEEP });
    const ex = await setup({ margin: 0 }).miner.mine([q('1'), q('2'), q('1')], corpus, enc);
    expect(enc.calls).toEqual([
      { kind: 'query', texts: ['query 1', 'query 2'] },
      { kind: 'document', texts: corpus.map((d) => d.text) },
    ]);
    // doc C is 100× longer than the others: still ranked by cosine (after B)
    expect(ex.items.map((e) => e.negative)).toEqual(['doc B', 'doc B', 'doc B']);
    expect(ex.items.map((e) => [e.anchor, e.positive, e.label])).toEqual([
      ['query 1', 'doc A', 'A'],
      ['query 2', 'doc A', 'A'],
      ['query 1', 'doc A', 'A'],
    ]);
    expect(ex.items.map((e) => e.pairLabel)).toEqual([1, 0, 1]);
    expect(ex.shapes).toEqual(['triplets', 'pairs', 'labelled', 'labelled-pairs']);
  });

  it('takes negatives from the rank window over the non-relevant documents', async () => {
    expect(await negatives({ margin: 0, num_negatives: 5 })).toEqual(['B', 'C', 'D', 'E', 'F']);
    expect(await negatives({ margin: 0, range_min: 2, range_max: 4, num_negatives: 5 })).toEqual(['D', 'E']);
    expect(await negatives({ margin: 0, range_min: 1, range_max: 2, num_negatives: 5 })).toEqual(['C']);
    // relevant documents are never negatives and do not take a rank
    expect(await negatives({ margin: 0, num_negatives: 2 }, STEEP, ['A', 'B'])).toEqual(['C', 'D']);
  });

  it('skips candidates within the relative margin of the positive score (false-negative guard)', async () => {
    expect(await negatives({})).toEqual(['C']); // B 0.99 > 1.0 × 0.95
    expect(await negatives({ margin: 0 })).toEqual(['B']);
    expect(await negatives({ margin: 0 })).toEqual(['B']);
    expect(await negatives({ margin: 0.25, num_negatives: 3 })).toEqual(['E', 'F']); // only ≤ 0.75
    // the positive is not the top document: candidates above it are skipped too
    expect(await negatives({ margin: 0.05, num_negatives: 2 }, [0.8, 0.99, 0.9, 0.7, 0.5, 0.1])).toEqual(['D', 'E']);
  });

  it('takes num_negatives per anchor, hardest first, capped by the candidates left', async () => {
    expect(await negatives({ num_negatives: 3 })).toEqual(['C', 'D', 'E']);
    expect(await negatives({ num_negatives: 9, range_max: 3 })).toEqual(['C', 'D']); // window B C D, B guarded
  });

  it('samples randomly within the window, deterministically for a seed', async () => {
    const train = Array.from({ length: 40 }, (_, i) => q(`${i}`));
    const enc = () => new FakeEncoder(Object.fromEntries(train.map((x) => [x.text, STEEP])));
    const run = async (seed: number, o: Partial<HardNegativeOptions> = {}) =>
      (await setup({ sampling_strategy: 'random', margin: 0, range_min: 1, range_max: 4, num_negatives: 2, ...o }, seed).miner.mine(train, corpus, enc())).items.map(
        (e) => e.negative!.slice(4),
      );
    const a = await run(1);
    expect(a).toHaveLength(80);
    expect(new Set(a)).toEqual(new Set(['C', 'D', 'E']));
    for (let i = 0; i < a.length; i += 2) expect(a[i]).not.toBe(a[i + 1]);
    expect(await run(1)).toEqual(a);
    expect(await run(2)).not.toEqual(a);
    expect(await run(2, { seed: 1 })).toEqual(a);
  });

  it('skips queries with no candidate left and warns once with the count', async () => {
    const enc = new FakeEncoder({ 'query 1': STEEP, 'query 2': STEEP, 'query 3': [1, 0.2, 0.1, 0, 0, 0] });
    const { miner, warnings } = setup({ margin: 0.5, range_max: 2 });
    const ex = await miner.mine([q('1'), q('2'), q('3')], corpus, enc);
    expect(ex.items.map((e) => [e.anchor, e.negative])).toEqual([['query 3', 'doc B']]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 2 of 3 queries .*ranks \[0, 2\).*margin/);
  });

  it('fails when no query keeps a negative', async () => {
    const enc = new FakeEncoder({ 'query 1': STEEP });
    await expect(setup({ margin: 0.5, range_max: 2 }).miner.mine([q('1')], corpus, enc)).rejects.toThrow(/lower miner\.margin or widen the window/);
  });

  it('rejects a query whose relevant document is not in the corpus', async () => {
    const enc = new FakeEncoder({ 'query 1': STEEP });
    await expect(setup().miner.mine([q('1', ['Z'])], corpus, enc)).rejects.toThrow(/"Z" is not in the corpus/);
  });

  describe("the data's own negatives (explicit_negatives)", () => {
    const own: Query = { ...q('1'), negatives: ['own X', 'own Y'], score: 0.7, teacher: [0.9, 0.1, 0.2] };
    const mine = async (explicit: HardNegativeOptions['explicit_negatives'], query: Query = own, o: Partial<HardNegativeOptions> = {}) =>
      (await setup({ explicit_negatives: explicit, ...o }).miner.mine([query], corpus, new FakeEncoder({ 'query 1': STEEP }))).items;

    it('first: the query\'s own negatives, then the mined one; score and teacher passed on', async () => {
      expect(await mine('first')).toEqual([
        { anchor: 'query 1', positive: 'doc A', negative: 'own X', negatives: ['own X', 'own Y', 'doc C'], label: 'A', pairLabel: 1, score: 0.7, teacher: [0.9, 0.1, 0.2] },
      ]);
    });

    it('replace: a query with its own negatives is not mined', async () => {
      expect(await mine('replace')).toEqual([
        { anchor: 'query 1', positive: 'doc A', negative: 'own X', negatives: ['own X', 'own Y'], label: 'A', pairLabel: 1, score: 0.7, teacher: [0.9, 0.1, 0.2] },
      ]);
      // a query without any is mined as before
      expect((await mine('replace', q('1'))).map((e) => [e.negative, e.negatives])).toEqual([['doc C', undefined]]);
    });

    it('ignore: mined negatives only', async () => {
      expect((await mine('ignore')).map((e) => [e.negative, e.negatives])).toEqual([['doc C', undefined]]);
    });

    it('first: a query with no candidate left in the window keeps its own negatives', async () => {
      // range [5, 6) holds F only, which the margin guard drops when every score is near A's
      const flat = [1.0, 0.99, 0.99, 0.99, 0.99, 0.99];
      const items = (await setup({ range_min: 4, range_max: 5 }).miner.mine([own], corpus, new FakeEncoder({ 'query 1': flat }))).items;
      expect(items.map((e) => e.negatives)).toEqual([['own X', 'own Y']]);
      const ignored = setup({ range_min: 4, range_max: 5, explicit_negatives: 'ignore' });
      await expect(ignored.miner.mine([own], corpus, new FakeEncoder({ 'query 1': flat }))).rejects.toThrow(/no training query has a negative left/);
    });
  });
  describe("sentence-transformers' guards (absolute_margin, margin as relative_margin, max_score)", () => {
    // a unit query vector: its cosines are these values (A .6; B and C tie at .5, B first by corpus order)
    const UNIT = [0.6, 0.5, 0.5, 0.3, 0.2, 0.1];

    it('absolute_margin skips candidates with score + absolute_margin > positive score', async () => {
      expect(await negatives({ margin: 0, absolute_margin: 0.15, num_negatives: 5 }, UNIT)).toEqual(['D', 'E', 'F']);
      expect(await negatives({ margin: 0, absolute_margin: 0.05, num_negatives: 5 }, UNIT)).toEqual(['B', 'C', 'D', 'E', 'F']); // .5 + .05 ≤ .6
    });

    it('max_score skips candidates scoring above it', async () => {
      expect(await negatives({ margin: 0, max_score: 0.4, num_negatives: 5 }, UNIT)).toEqual(['D', 'E', 'F']);
      expect(await negatives({ margin: 0, max_score: 0.25, num_negatives: 5 }, UNIT)).toEqual(['E', 'F']);
    });

    it('margin is relative to |positive score| (positive − |positive| × margin), also when the positive scores below 0', async () => {
      // A −.3: threshold −.3 − .3 × .5 = −.45 keeps D (−.5) and E (−.6); (1 − margin) × positive would keep F and C too
      expect(await negatives({ margin: 0.5, num_negatives: 5 }, [-0.3, -0.1, -0.4, -0.5, -0.6, -0.35])).toEqual(['D', 'E']);
    });

    it('the guards act before the rank window, on the top range_max + max_positives documents', async () => {
      // pool A B C D (range_max 3 + 1 positive); A is relevant, B guarded: the survivors C D take ranks 0, 1
      expect(await negatives({ range_min: 1, range_max: 3, num_negatives: 5 })).toEqual(['D']);
      expect(await negatives({ margin: 0, range_min: 0, range_max: 3, num_negatives: 9 })).toEqual(['B', 'C', 'D']);
    });

    it('with several relevant documents, the guards compare with the lowest-scoring one', async () => {
      // relevant A (.6) and D (.3): absolute_margin .15 removes scores above .15: B, C; E (.2) too
      expect(await negatives({ margin: 0, absolute_margin: 0.15, num_negatives: 5 }, UNIT, ['A', 'D'])).toEqual(['F']);
    });

    it('reports how many candidates each guard removed', async () => {
      const { miner, infos } = setup({ margin: 0, absolute_margin: 0.15, max_score: 0.25, num_negatives: 5 });
      const ex = await miner.mine([q('1')], corpus, new FakeEncoder({ 'query 1': UNIT }));
      expect(ex.items.map((e) => e.negative)).toEqual(['doc E', 'doc F']);
      // the same counts go with the examples, for the run's mined event (events.jsonl)
      expect(ex.stats).toEqual({ removed_by_absolute_margin: 2, removed_by_margin: 0, removed_by_max_score: 1, skipped_queries: 0 });
      expect(infos).toEqual([
        'miner hard-negative: the false-negative guards removed 2 candidates by absolute_margin, 0 by margin, 1 by max_score (pool: the top 11 documents per query)',
      ]);
    });
  });
});

describe('hard-negative output_format n-tuple', () => {
  it('makes one example per query holding its num_negatives negatives, hardest first', async () => {
    const ex = await setup({ margin: 0, num_negatives: 3, output_format: 'n-tuple' }).miner.mine([q('1')], corpus, new FakeEncoder({ 'query 1': STEEP }));
    expect(ex.items).toEqual([{ anchor: 'query 1', positive: 'doc A', negative: 'doc B', negatives: ['doc B', 'doc C', 'doc D'], label: 'A', pairLabel: 1 }]);
  });

  it('sorts randomly sampled negatives hardest first, as sentence-transformers does', async () => {
    const ex = await setup({ margin: 0, num_negatives: 3, range_max: 5, output_format: 'n-tuple', sampling_strategy: 'random' }).miner.mine([q('1')], corpus, new FakeEncoder({ 'query 1': STEEP }));
    const negs = ex.items[0]!.negatives!;
    expect(negs).toHaveLength(3);
    expect([...negs].sort()).toEqual(negs); // doc B … doc F score in corpus order
  });

  it("puts the query's own negatives first (explicit_negatives first)", async () => {
    const own: Query = { ...q('1'), negatives: ['own X'] };
    const ex = await setup({ margin: 0, num_negatives: 2, output_format: 'n-tuple' }).miner.mine([own], corpus, new FakeEncoder({ 'query 1': STEEP }));
    expect(ex.items.map((e) => [e.negative, e.negatives])).toEqual([['own X', ['own X', 'doc B', 'doc C']]]);
  });

  it('skips a query with fewer than num_negatives left, and says so', async () => {
    const enc = new FakeEncoder({ 'query 1': STEEP, 'query 2': [1, 0.2, 0.1, 0, 0, 0] });
    const { miner, warnings } = setup({ margin: 0.25, num_negatives: 3, output_format: 'n-tuple' });
    const ex = await miner.mine([q('1'), q('2')], corpus, enc);
    expect(ex.items.map((e) => [e.anchor, e.negatives])).toEqual([['query 2', ['doc B', 'doc C', 'doc D']]]);
    expect(warnings).toEqual([
      'miner hard-negative: skipped 1 of 2 queries with fewer than 3 negatives (output_format n-tuple) left in ranks [0, 10) after the margin guard (0.25)',
    ]);
    await expect(setup({ margin: 0.25, num_negatives: 3, output_format: 'n-tuple' }).miner.mine([q('1')], corpus, enc)).rejects.toThrow(
      'miner hard-negative: no training query has 3 negatives (output_format n-tuple) left in ranks [0, 10) under the margin guard (0.25): lower miner.margin or widen the window',
    );
  });
});
