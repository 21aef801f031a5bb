/**
 * dataset jsonl: what the data says is negative (`negatives`: a field holding a list, or n-tuple
 * columns), a pair score (`score`) and teacher values (`teacher`); how texts without a corpus
 * become the corpus, and corpus ids with one; the errors, in load() and in check() (validate).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configAjv } from '../../../core/config/ajv.js';
import { UserError } from '../../../core/errors.js';
import type { CheckContext } from '../../../core/types.js';
import JsonlDataset, { type JsonlDatasetOptions } from '../../../plugins/dataset/jsonl.js';
import { makeContext } from '../../helpers/context.js';

const dir = mkdtempSync(join(tmpdir(), 'ftrun-neg-'));
const ctx = makeContext({ baseDir: dir });
let n = 0;
function write(lines: Array<string | object>, ext = 'jsonl'): string {
  const name = `f${++n}.${ext}`;
  writeFileSync(join(dir, name), lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return name;
}
function withDefaults(o: Record<string, unknown>): JsonlDatasetOptions {
  const validate = configAjv({ allErrors: true, useDefaults: true }).compile(JsonlDataset.schema);
  const copy = structuredClone(o);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as JsonlDatasetOptions;
}
const load = (o: Record<string, unknown>) => new JsonlDataset(withDefaults(o), ctx).load();
async function failure(o: Record<string, unknown>): Promise<string> {
  const e = await load(o).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UserError);
  return (e as UserError).message;
}
const checkCtx: CheckContext = { resolvePath: (p) => join(dir, p), sampleRecord: () => undefined } as unknown as CheckContext;
const check = (o: Record<string, unknown>) => JsonlDataset.check!(withDefaults(o) as unknown as Record<string, unknown>, checkCtx);

const COHERE = [
  { query: 'taxi to the airport', relevant_passages: ['Ground transport'], hard_negatives: ['Airfare', 'Accommodation'] },
  { query: 'flight to Berlin', relevant_passages: ['Airfare'], hard_negatives: ['Ground transport'] },
];
const cohere = { input: 'query', expected: 'relevant_passages', negatives: 'hard_negatives' };

describe('dataset jsonl: negatives, score and teacher from the data', () => {
  it('the option schema: a field, or a list of distinct fields; score and teacher are fields', () => {
    const validate = configAjv({ allErrors: true }).compile(JsonlDataset.schema);
    expect(validate({ queries: 'q.jsonl', negatives: 'hard_negatives', score: 'score', teacher: 'margin' })).toBe(true);
    expect(validate({ queries: 'q.jsonl', negatives: ['negative_1', 'negative_2'] })).toBe(true);
    expect(validate({ queries: 'q.jsonl', negatives: [] })).toBe(false);
    expect(validate({ queries: 'q.jsonl', negatives: ['n', 'n'] })).toBe(false);
    expect(validate({ queries: 'q.jsonl', score: 3 })).toBe(false);
  });

  it('Cohere format without a corpus: negatives are texts; the corpus is every distinct passage, relevant ones and negatives', async () => {
    const data = await load({ queries: write(COHERE), ...cohere });
    expect(data.corpus).toEqual(['Accommodation', 'Airfare', 'Ground transport'].map((t) => ({ id: t, text: t })));
    expect(data.queries.map((q) => [q.text, q.relevant, q.negatives, q.label])).toEqual([
      ['taxi to the airport', ['Ground transport'], ['Airfare', 'Accommodation'], 'Ground transport'],
      ['flight to Berlin', ['Airfare'], ['Ground transport'], 'Airfare'],
    ]);
  });

  it('the eval file\'s negatives join the corpus too', async () => {
    const data = await load({ queries: write(COHERE.slice(0, 1)), eval: write([{ query: 'hotel', relevant_passages: ['Accommodation'], hard_negatives: ['Rent'] }]), ...cohere });
    expect(data.corpus.map((d) => d.id)).toEqual(['Accommodation', 'Airfare', 'Ground transport', 'Rent']);
    expect(data.eval![0]!.negatives).toEqual(['Rent']);
  });

  it('n-tuple columns: negative_1 … negative_n in the order listed, each a string', async () => {
    const q = write([{ anchor: 'a', positive: 'P', negative_1: 'N1', negative_2: 'N2' }]);
    const data = await load({ queries: q, input: 'anchor', expected: 'positive', negatives: ['negative_2', 'negative_1'] });
    expect(data.queries[0]!.negatives).toEqual(['N2', 'N1']);
    expect(data.corpus.map((d) => d.id)).toEqual(['N1', 'N2', 'P']);
  });

  it('with a corpus, negatives are corpus ids and the queries carry their texts', async () => {
    const corpus = write([{ id: 'd1', text: 'first doc' }, { id: 'd2', text: 'second doc' }, { id: 'd3', text: 'third doc' }]);
    const q = write([{ input: 'q', expected: 'd1', negatives: ['d3', 'd2'] }]);
    const data = await load({ queries: q, corpus: { path: corpus, id: 'id' }, negatives: 'negatives' });
    expect(data.queries[0]!.negatives).toEqual(['third doc', 'second doc']);
    expect(data.corpus).toHaveLength(3);
  });

  it('negatives missing from the corpus are listed at dataset.negatives, by load and by check', async () => {
    const corpus = write([{ id: 'd1', text: 'first doc' }, { id: 'd2', text: 'second doc' }]);
    const q = write([{ input: 'q', expected: 'd1', negatives: ['d2', 'd22'] }]);
    const o = { queries: q, corpus: { path: corpus, id: 'id' }, negatives: 'negatives' };
    const listed = `1 negative is not in the corpus (${join(dir, corpus)}, 2 documents):\n  ${join(dir, q)}:1: "d22" (did you mean "d2"?)`;
    expect(await failure(o)).toBe(`dataset.negatives: ${listed}`);
    expect(check(o)).toEqual([{ path: ['negatives'], message: listed.replace('\n', '\n  ') }]);
  });

  it('score and teacher: a number each; teacher also a list of numbers', async () => {
    const q = write([
      { s1: 'a', s2: 'b', score: 0.25, margin: 1.5 },
      { s1: 'c', s2: 'd', score: -1, margin: [0.9, 0.1] },
    ]);
    const data = await load({ queries: q, input: 's1', expected: 's2', score: 'score', teacher: 'margin' });
    expect(data.queries.map((x) => [x.score, x.teacher])).toEqual([
      [0.25, [1.5]],
      [-1, [0.9, 0.1]],
    ]);
    expect(data.queries[0]!.negatives).toBeUndefined();
  });

  it('a record missing a field, or with one of the wrong type, fails at its line (load and check alike)', async () => {
    const cases: Array<[Record<string, unknown>, object, string]> = [
      [cohere, { query: 'x', relevant_passages: ['P'] }, 'missing field "hard_negatives" (fields present: query, relevant_passages); set dataset.negatives to use another field'],
      [cohere, { query: 'x', relevant_passages: ['P'], hard_negatives: 'N' }, ''], // one string is one negative
      [cohere, { query: 'x', relevant_passages: ['P'], hard_negatives: { a: 1 } }, 'field "hard_negatives" (negatives) must be a string or a list of strings, got object'],
      [cohere, { query: 'x', relevant_passages: ['P'], hard_negatives: ['N', null] }, 'field "hard_negatives" (negatives) must be a string or a list of strings, got a list with null at index 1'],
      [{ negatives: ['negative_1', 'negative_2'] }, { input: 'x', expected: 'P', negative_1: 'N' }, 'missing field "negative_2" (fields present: input, expected, negative_1); set dataset.negatives to use another field'],
      [{ score: 'score' }, { input: 'x', expected: 'P', score: '0.5' }, 'field "score" (score) must be a number, got string'],
      [{ score: 'score' }, { input: 'x', expected: 'P' }, 'missing field "score" (fields present: input, expected); set dataset.score to use another field'],
      [{ teacher: 'margin' }, { input: 'x', expected: 'P', margin: [] }, 'field "margin" (teacher) must be a number or a non-empty list of numbers, got an empty list'],
      [{ teacher: 'margin' }, { input: 'x', expected: 'P', margin: [1, '2'] }, 'field "margin" (teacher) must be a number or a non-empty list of numbers, got a list with string at index 1'],
    ];
    for (const [opts, bad, message] of cases) {
      const first = { ...(bad as Record<string, unknown>) };
      // the first record is good (all fields present), the second is the bad one
      const good = { query: 'g', relevant_passages: ['P'], hard_negatives: ['N'], input: 'g', expected: 'P', negative_1: 'N', negative_2: 'M', score: 1, margin: 1 };
      const q = write([good, first]);
      const o = { queries: q, ...opts };
      if (message === '') {
        expect((await load(o)).queries[1]!.negatives).toEqual(['N']);
        expect(check(o)).toEqual([]);
        continue;
      }
      expect(await failure(o), message).toBe(`${join(dir, q)}:2: ${message}`);
      expect(check(o), message).toEqual([{ path: ['queries'], message: `${join(dir, q)}:2: ${message}` }]);
    }
  });

  it('check names a negatives field missing from the first record at the option, and each n-tuple column at its index', () => {
    const q = write([{ anchor: 'a', positive: 'P', negative_1: 'N' }]);
    expect(check({ queries: q, input: 'anchor', expected: 'positive', negatives: ['negative_1', 'negative_2'] })).toEqual([
      { path: ['negatives', 1], message: `field "negative_2" (negatives) is not in the first record of ${join(dir, q)} (line 1; fields present: anchor, positive, negative_1)` },
    ]);
    expect(check({ queries: q, input: 'anchor', expected: 'positive', negatives: 'hard_negatives', score: 'score' })).toEqual([
      { path: ['negatives'], message: `field "hard_negatives" (negatives) is not in the first record of ${join(dir, q)} (line 1; fields present: anchor, positive, negative_1)` },
      { path: ['score'], message: `field "score" (the pair score) is not in the first record of ${join(dir, q)} (line 1; fields present: anchor, positive, negative_1)` },
    ]);
  });
});
