import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configAjv } from '../../../core/config/ajv.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import JsonlDataset, { type JsonlDatasetOptions } from '../../../plugins/dataset/jsonl.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, TRANSACTIONS } from '../../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'ftrun-ds-'));
const ctx = makeContext({ baseDir: dir });
function write(name: string, lines: Array<string | object>): string {
  writeFileSync(join(dir, name), lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return name;
}
/** Options as the config layer delivers them: validated, defaults filled. */
function withDefaults(o: Record<string, unknown>): JsonlDatasetOptions {
  const ajv = configAjv({ allErrors: true, useDefaults: true });
  const validate = ajv.compile(JsonlDataset.schema);
  const copy = structuredClone(o);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as JsonlDatasetOptions;
}
const load = (o: Record<string, unknown>) => new JsonlDataset(withDefaults(o), ctx).load();
async function failure(o: Record<string, unknown>): Promise<UserError> {
  try {
    await load(o);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('load() did not fail');
}

describeShared('dataset jsonl on the transactions data', () => {
  let categories: string[];
  // read in beforeAll: a skipped describe still runs its body
  beforeAll(() => {
    categories = (JSON.parse(readFileSync(join(TRANSACTIONS, 'categories.json'), 'utf8')) as Array<{ category: string }>).map((c) => c.category);
  });
  const opts = {
    queries: join(TRANSACTIONS, 'train_transactions.jsonl'),
    eval: join(TRANSACTIONS, 'eval_transactions.jsonl'),
    corpus: { path: join(TRANSACTIONS, 'categories.json'), text: 'category' },
  };

  it('loads 260 queries, 66 eval queries and the 27 categories in file order', async () => {
    const data = await load(opts);
    expect(data.queries).toHaveLength(260);
    expect(data.eval).toHaveLength(66);
    expect(data.corpus.map((d) => d.id)).toEqual(categories);
    expect(data.corpus.every((d) => d.id === d.text)).toBe(true);
    const q = data.queries[0]!;
    expect(q.id).toBe('train_transactions.jsonl:1');
    expect(q.text.startsWith('\nName : Tooly\n')).toBe(true);
    expect(q.relevant).toEqual(['Subscriptions & Memberships']);
    expect(q.label).toBe('Subscriptions & Memberships');
    expect(Object.keys(q.fields!)).toEqual(['input', 'expected']);
    expect(data.queries[259]!.id).toBe('train_transactions.jsonl:260');
    expect(data.eval![65]!.id).toBe('eval_transactions.jsonl:66');
  });

  it('without a corpus, uses the sorted expected labels (same 27 here)', async () => {
    const data = await load({ queries: opts.queries, eval: opts.eval });
    expect(data.corpus.map((d) => d.id)).toEqual([...categories].sort());
    expect(data.corpus.every((d) => d.id === d.text)).toBe(true);
  });

  it('limit reads only the first N of each file', async () => {
    const data = await load({ ...opts, limit: 10 });
    expect(data.queries).toHaveLength(10);
    expect(data.eval).toHaveLength(10);
    expect(data.corpus).toHaveLength(27);
  });

  it('names the corpus file and suggests corrections for unknown labels', async () => {
    const q = write('typos.jsonl', [
      { input: 'uber', expected: ['Travel: Airfar'] },
      { input: 'x', expected: 'Nonsense Category' },
      { input: 'y', expected: ['Insurance'] },
    ]);
    const corpusPath = join(TRANSACTIONS, 'categories.json');
    const e = await failure({ queries: q, corpus: { path: corpusPath, text: 'category' } });
    expect(e.code).toBe('E_DATA');
    expect(e.message).toBe(
      [
        `dataset.corpus: 2 expected labels are not in the corpus (${corpusPath}, 27 documents):`,
        `  ${join(dir, q)}:1: "Travel: Airfar" (did you mean "Travel: Airfare"?)`,
        `  ${join(dir, q)}:2: "Nonsense Category"`,
      ].join('\n'),
    );
  });
});

describe('dataset jsonl on small files', () => {
  it('reads a JSONL corpus with id and text fields, a string "expected" and a label field', async () => {
    const q = write('q1.jsonl', [{ q: 'hello', gold: 'd2', cls: 7 }, '', { q: 'bye', gold: ['d1', 'd2'], cls: 'b' }]);
    const c = write('c1.jsonl', [{ key: 'd1', body: 'first' }, { key: 'd2', body: 'second' }]);
    const data = await load({ queries: q, corpus: { path: c, text: 'body', id: 'key' }, input: 'q', expected: 'gold', label: 'cls' });
    expect(data.queries).toEqual([
      { id: 'q1.jsonl:1', text: 'hello', relevant: ['d2'], label: '7', fields: { q: 'hello', gold: 'd2', cls: 7 } },
      { id: 'q1.jsonl:3', text: 'bye', relevant: ['d1', 'd2'], label: 'b', fields: { q: 'bye', gold: ['d1', 'd2'], cls: 'b' } },
    ]);
    expect(data.eval).toBeUndefined();
    expect(data.corpus).toEqual([
      { id: 'd1', text: 'first' },
      { id: 'd2', text: 'second' },
    ]);
  });

  it('reads a JSON array corpus of strings given as a plain path', async () => {
    const q = write('q2.jsonl', [{ input: 'a', expected: ['B'] }]);
    writeFileSync(join(dir, 'c2.json'), '["A", "B"]');
    expect((await load({ queries: q, corpus: 'c2.json' })).corpus).toEqual([
      { id: 'A', text: 'A' },
      { id: 'B', text: 'B' },
    ]);
  });

  it('missing files name the option', async () => {
    expect((await failure({ queries: 'nope.jsonl' })).message).toBe(`dataset.queries: file not found: ${join(dir, 'nope.jsonl')}`);
    const q = write('q3.jsonl', [{ input: 'a', expected: 'A' }]);
    const e = await failure({ queries: q, corpus: 'missing.json' });
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe(`dataset.corpus: file not found: ${join(dir, 'missing.json')}`);
    expect((await failure({ queries: q, eval: 'e.jsonl' })).message).toBe(`dataset.eval: file not found: ${join(dir, 'e.jsonl')}`);
  });

  it('a malformed line is file:line: invalid JSON', async () => {
    const q = write('bad.jsonl', [{ input: 'a', expected: 'A' }, '{"input": "b", "expected": }']);
    const e = await failure({ queries: q });
    expect(e.code).toBe('E_DATA');
    expect(e.message).toBe(`${join(dir, q)}:2: invalid JSON: Unexpected token '}' (column 28)`);
  });

  it('a record without the input or expected field names the fields present', async () => {
    const q = write('noinput.jsonl', [{ input: 'a', expected: 'A' }, { text: 'b', expected: 'A' }]);
    expect((await failure({ queries: q })).message).toBe(
      `${join(dir, q)}:2: missing field "input" (fields present: text, expected); set dataset.input to use another field`,
    );
    const q2 = write('noexp.jsonl', [{ input: 'a', labels: ['A'] }]);
    expect((await failure({ queries: q2 })).message).toBe(
      `${join(dir, q2)}:1: missing field "expected" (fields present: input, labels); set dataset.expected to use another field`,
    );
  });

  it('rejects wrong types and empty expected lists', async () => {
    const cases: Array<[object | string, string]> = [
      [{ input: 'a', expected: 3 }, 'field "expected" must be a string or a list of strings, got number'],
      [{ input: 'a', expected: ['A', 1] }, 'field "expected" must be a string or a list of strings, got array'],
      [{ input: 'a', expected: [] }, 'field "expected" is an empty list'],
      [{ input: null, expected: 'A' }, 'field "input" must be a string, got null'],
      ['["input", "expected"]', 'expected a JSON object, got array'],
    ];
    for (const [i, [rec, msg]] of cases.entries()) {
      const q = write(`types${i}.jsonl`, [rec]);
      const e = await failure({ queries: q });
      expect(e.code).toBe('E_DATA');
      expect(e.message).toBe(`${join(dir, q)}:1: ${msg}`);
    }
  });

  it('an empty file has no records', async () => {
    const q = write('empty.jsonl', ['', '  ']);
    expect((await failure({ queries: q })).message).toBe(`${join(dir, q)}: no records`);
    const ok = write('ok.jsonl', [{ input: 'a', expected: 'A' }]);
    writeFileSync(join(dir, 'empty.json'), '[]');
    expect((await failure({ queries: ok, corpus: 'empty.json' })).message).toBe(`${join(dir, 'empty.json')}: no records`);
  });

  it('lists at most 5 unknown labels', async () => {
    const q = write('many.jsonl', Array.from({ length: 7 }, (_, i) => ({ input: `t${i}`, expected: `L${i}` })));
    writeFileSync(join(dir, 'few.json'), '[{"text": "L0"}]');
    const lines = (await failure({ queries: q, corpus: 'few.json' })).message.split('\n');
    expect(lines[0]).toBe(`dataset.corpus: 6 expected labels are not in the corpus (${join(dir, 'few.json')}, 1 documents):`);
    expect(lines.slice(1, 6)).toEqual([1, 2, 3, 4, 5].map((i) => `  ${join(dir, q)}:${i + 1}: "L${i}" (did you mean "L0"?)`));
    expect(lines[6]).toBe('  … and 1 more');
  });

  it('rejects duplicate ids and bad corpus entries', async () => {
    const q = write('q4.jsonl', [{ input: 'a', expected: 'A' }]);
    writeFileSync(join(dir, 'dup.json'), '[\n  "A",\n  "B",\n  "A"\n]');
    expect((await failure({ queries: q, corpus: 'dup.json' })).message).toBe(`${join(dir, 'dup.json')}:4: duplicate document id "A" (first at line 2)`);
    writeFileSync(join(dir, 'num.json'), '["A", 5]');
    expect((await failure({ queries: q, corpus: 'num.json' })).message).toBe(`${join(dir, 'num.json')}:1: expected a string or an object, got number`);
    writeFileSync(join(dir, 'obj.json'), '[{"name": "A"}]');
    expect((await failure({ queries: q, corpus: 'obj.json' })).message).toBe(
      `${join(dir, 'obj.json')}:1: missing field "text" (fields present: name); set dataset.corpus.text to use another field`,
    );
  });

  it('has a schema that strict ajv accepts, with defaults', () => {
    expect(withDefaults({ queries: 'q.jsonl' })).toEqual({ queries: 'q.jsonl', input: 'input', expected: 'expected' });
    expect(() => withDefaults({ queries: 'q', corpus: { path: 'c', txt: 'x' } })).toThrow();
    expect(() => withDefaults({ queries: 'q', limit: 0 })).toThrow();
  });
});
