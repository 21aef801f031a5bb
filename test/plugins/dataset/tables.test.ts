/**
 * datasets `csv` (CSV/TSV) and `parquet` (issue 19 §1): jsonl's fields as columns, list and
 * n-tuple columns, row-located errors, Parquet read a row group at a time, and the reference
 * transactions as CSV giving the same queries as jsonl.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { userErrorOf, withDefaults as withSchemaDefaults } from '../../helpers/plugin-options.js';
import { UserError } from '../../../core/errors.js';
import CsvDataset, { csvRows } from '../../../plugins/dataset/csv.js';
import JsonlDataset from '../../../plugins/dataset/jsonl.js';
import ParquetDataset from '../../../plugins/dataset/parquet.js';
import { makeContext } from '../../helpers/context.js';
import { ROOT, describeShared, TRANSACTIONS } from '../../helpers/shared.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'datasets');
const dir = mkdtempSync(join(tmpdir(), 'ftrun-tables-'));
const ctx = makeContext({ baseDir: dir });

type Plugin = typeof CsvDataset | typeof ParquetDataset | typeof JsonlDataset;
/** Options as the config layer delivers them: validated, defaults filled. */
const withDefaults = (plugin: Plugin, o: Record<string, unknown>): never => withSchemaDefaults<never>(plugin.schema, o);
const load = (plugin: Plugin, o: Record<string, unknown>) => new plugin(withDefaults(plugin, o), ctx).load();
const failure = (plugin: Plugin, o: Record<string, unknown>): Promise<UserError> => userErrorOf(load(plugin, o));
const write = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

const NTUPLE = { negatives: ['negative_1', 'negative_2'], score: 'score' };

describe('dataset csv and parquet: the fixtures', () => {
  for (const [plugin, file] of [
    [CsvDataset, 'train.csv'],
    [CsvDataset, 'train.tsv'],
    [ParquetDataset, 'train.parquet'],
  ] as const) {
    it(`${file}: 8 queries with list expected, n-tuple negatives and scores`, async () => {
      const data = await load(plugin, { queries: join(FIXTURES, file), ...NTUPLE });
      expect(data.queries).toHaveLength(8);
      const q = data.queries[5]!;
      expect(q.id).toBe(`${file}:6`);
      expect(q.text).toBe('Name : Dundy\nCategory: Consulting, Research Services\nDepartment: Product\nAmount: 4500.23');
      expect(q.relevant).toEqual(['Data Services & Analytics', 'Professional Services']);
      expect(q.label).toBe('Data Services & Analytics');
      expect(q.negatives).toEqual(['Travel: Ground Transport', 'Internet & Network Services']);
      expect(q.score).toBeCloseTo(0.4, 6);
      // without a corpus: the sorted expected labels and negatives
      expect(data.corpus.map((d) => d.id)).toEqual([
        'Advertising & Marketing',
        'Data Services & Analytics',
        'Internet & Network Services',
        'Professional Services',
        'Subscriptions & Memberships',
        'Travel: Ground Transport',
      ]);
    });
  }

  it('the Parquet fixture has several row groups, and the rows of all of them are read in order', async () => {
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(join(FIXTURES, 'train.parquet')));
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([3, 3, 2]);
    const data = await load(ParquetDataset, { queries: join(FIXTURES, 'train.parquet'), limit: 7 });
    expect(data.queries.map((q) => q.id)).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `train.parquet:${i}`));
  });

  it('csv and parquet give the same queries', async () => {
    const strip = (qs: Array<{ id: string }>) => qs.map((q) => ({ ...q, id: q.id.split(':')[1] }));
    const csv = await load(CsvDataset, { queries: join(FIXTURES, 'train.csv'), ...NTUPLE });
    const pq = await load(ParquetDataset, { queries: join(FIXTURES, 'train.parquet'), ...NTUPLE });
    expect(strip(pq.queries)).toEqual(strip(csv.queries));
  });
});

describe('dataset csv and parquet: located errors', () => {
  it('a missing file', async () => {
    const e = await failure(CsvDataset, { queries: 'nope.csv' });
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe(`dataset.queries: file not found: ${join(dir, 'nope.csv')}`);
    const p = await failure(ParquetDataset, { queries: 'nope.parquet' });
    expect(p.message).toBe(`dataset.queries: file not found: ${join(dir, 'nope.parquet')}`);
  });

  it('a column that is not there: did you mean, and the columns', async () => {
    const e = await failure(CsvDataset, { queries: join(FIXTURES, 'train.csv'), input: 'inptu' });
    expect(e.message).toBe(`dataset.input: no column "inptu" in ${join(FIXTURES, 'train.csv').replace(process.cwd() + '/', '')}. Did you mean "input"? Columns: input, expected, negative_1, negative_2, score`);
    const p = await failure(ParquetDataset, { queries: join(FIXTURES, 'train.parquet'), negatives: ['negative_1', 'zzz'] });
    expect(p.message).toBe(`dataset.negatives: no column "zzz" in ${join(FIXTURES, 'train.parquet').replace(process.cwd() + '/', '')}. Columns: input, expected, negative_1, negative_2, score`);
  });

  it('an empty expected cell names its row', async () => {
    const f = write('train.csv', 'input,expected\na,x\nb,y\nc,z\nd,x\ne,\n');
    const e = await failure(CsvDataset, { queries: f });
    expect(e.message).toBe(`${f}:row 5: column "expected" is empty`);
  });

  it('a malformed CSV row names its line', async () => {
    const f = write('bad.csv', 'input,expected\na,x\nb,y,extra\n');
    const e = await failure(CsvDataset, { queries: f });
    expect(e.code).toBe('E_DATA');
    expect(e.message).toBe(`${f}:line 3: malformed CSV: Invalid Record Length: expect 2, got 3`);
  });

  it('a cell that starts with [ but is not a JSON array', async () => {
    const f = write('list.csv', 'input,expected\na,"[x"\n');
    const e = await failure(CsvDataset, { queries: f });
    expect(e.message).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:row 1: column "expected" starts with "\\[" but is not a JSON array: `));
  });

  it('a delimiter option, and a score that is not a number', async () => {
    const f = write('semi.csv', 'input;expected;score\na;x;0.5\nb;y;high\n');
    const e = await failure(CsvDataset, { queries: f, delimiter: ';', score: 'score' });
    expect(e.message).toBe(`${f}:row 2: field "score" (score) must be a number, got string`);
  });

  it('a read error of the CSV stream is E_FILE, not a hang (the file vanishes after the check)', async () => {
    const gone = join(dir, 'gone.csv');
    const rows = csvRows(gone, 'dataset.queries', { queries: gone, input: 'input', expected: 'expected' });
    const e = await rows.next().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).code).toBe('E_FILE');
    expect((e as UserError).message).toBe(`dataset.queries: cannot read ${gone}: ENOENT: no such file or directory, open '${gone}'`);
  }, 30_000);

  it('a file that is not Parquet', async () => {
    const f = write('fake.parquet', 'input,expected\na,x\n');
    const e = await failure(ParquetDataset, { queries: f });
    expect(e.code).toBe('E_DATA');
    expect(e.message).toMatch(/^.*fake\.parquet: cannot read the Parquet footer \(is it a Parquet file\?\): /);
  });
});

describeShared('dataset csv on the reference transactions', () => {
  it('the transactions written as CSV give exactly the queries jsonl gives', async () => {
    const jsonl = join(TRANSACTIONS, 'train_transactions.jsonl');
    const rows = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { input: string; expected: string[] });
    const cell = (v: string) => `"${v.replaceAll('"', '""')}"`;
    const csv = write('train_transactions.csv', ['input,expected', ...rows.map((r) => `${cell(r.input)},${cell(JSON.stringify(r.expected))}`)].join('\n') + '\n');
    const corpus = { path: join(TRANSACTIONS, 'categories.json'), text: 'category' };
    const a = await load(JsonlDataset, { queries: jsonl, corpus });
    const b = await load(CsvDataset, { queries: csv, corpus });
    expect(b.queries).toHaveLength(260);
    expect(b.corpus).toEqual(a.corpus);
    const same = (qs: typeof a.queries) => qs.map(({ id, text, relevant, label, fields }) => ({ id: id.replace(/^[^:]+/, ''), text, relevant, label, fields }));
    expect(same(b.queries)).toEqual(same(a.queries));
  });
});
