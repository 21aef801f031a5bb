/**
 * `ftrun dataset inspect FILE` (issue 19 §1): each format's columns and types, row count, first
 * rows and the dataset: block guessed from the column names — and that block, pasted into an
 * experiment, passes `ftrun validate` and loads every row with its dataset plugin. --json, empty
 * counts, a file whose columns match no field, and the errors with their exact messages.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configAjv } from '../../core/config/ajv.js';
import CsvDataset from '../../plugins/dataset/csv.js';
import JsonlDataset from '../../plugins/dataset/jsonl.js';
import ParquetDataset from '../../plugins/dataset/parquet.js';
import { makeContext } from '../helpers/context.js';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TRANSACTIONS, describeShared } from '../helpers/shared.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'datasets');
const fixture = (name: string) => join(FIXTURES, name);
/** The file line shows the path relative to the working directory. */
const shown = (path: string) => relative(process.cwd(), path);

const PLUGINS = { csv: CsvDataset, parquet: ParquetDataset, jsonl: JsonlDataset } as const;

/** The text between `from` and the next blank line. */
function section(text: string, from: string): string {
  const start = text.indexOf(from);
  expect(start, `"${from}" in:\n${text}`).toBeGreaterThanOrEqual(0);
  const end = text.indexOf('\n\n', start);
  return text.slice(start, end < 0 ? undefined : end + 1);
}

/**
 * The dataset: block that inspect printed works: an experiment holding it passes `ftrun validate`
 * (exit 0), and its dataset plugin loads one query a row.
 */
async function blockWorks(yamlBlock: string, rows: number): Promise<void> {
  const dir = tempDir('ftrun-inspect-');
  const exp = join(dir, 'experiment.yaml');
  writeFileSync(exp, `name: inspected\n${yamlBlock}model: { id: BAAI/bge-small-en-v1.5 }\n`);
  const v = await cli(['validate', exp]);
  expect(v.stderr).toBe(`${exp}: valid\n`);
  expect(v.code).toBe(0);
  const { type, ...options } = (parse(yamlBlock) as { dataset: Record<string, unknown> }).dataset;
  const plugin = PLUGINS[type as keyof typeof PLUGINS];
  const validate = configAjv({ allErrors: true, useDefaults: true }).compile(plugin.schema);
  expect(validate(options)).toBe(true);
  const data = await new plugin(options as never, makeContext({ baseDir: dir })).load();
  expect(data.queries).toHaveLength(rows);
}

describe('ftrun dataset inspect: the fixtures, and the dataset: block each suggests works', () => {
  const TRAIN_BLOCK = (type: string, file: string) =>
    `dataset:\n  type: ${type}\n  queries: ${file}\n  input: input\n  expected: expected\n  negatives: [negative_1, negative_2]\n  score: score\n`;

  for (const name of ['train.csv', 'train.tsv']) {
    it(`${name}: 5 columns inferred from every cell, 8 rows, the n-tuple negatives and the score`, async () => {
      const file = fixture(name);
      const r = await cli(['dataset', 'inspect', file]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^file: {4}${shown(file)}\nformat: {2}${name.endsWith('.tsv') ? 'TSV \\(tab' : 'CSV \\(comma'}-separated, a header row\\)\nrows: {4}8\n\n`));
      expect(section(r.stdout, '  column')).toBe(
        '  column      type          empty\n' +
          '  input       string        0\n' +
          '  expected    list<string>  0\n' +
          '  negative_1  string        0\n' +
          '  negative_2  string        0\n' +
          '  score       number        0\n',
      );
      expect(r.stdout).toContain('first 5 rows:\n  row 1\n');
      expect(r.stdout).toContain('\n  row 5\n');
      expect(r.stdout).not.toContain('\n  row 6\n');
      expect(r.stdout.endsWith(`\n\n${TRAIN_BLOCK('csv', file)}`)).toBe(true);
      await blockWorks(TRAIN_BLOCK('csv', file), 8);
    }, 60_000);
  }

  it('train.csv --rows 1: the whole text, long cells cut with …', async () => {
    const file = fixture('train.csv');
    const r = await cli(['dataset', 'inspect', file, '--rows', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `file:    ${shown(file)}\n` +
        'format:  CSV (comma-separated, a header row)\n' +
        'rows:    8\n' +
        '\n' +
        '  column      type          empty\n' +
        '  input       string        0\n' +
        '  expected    list<string>  0\n' +
        '  negative_1  string        0\n' +
        '  negative_2  string        0\n' +
        '  score       number        0\n' +
        '\n' +
        'first row:\n' +
        '  row 1\n' +
        '    input:      Name : Tooly\\nCategory: Survey Software, SaaS\\nDepartment: Marketing\\nAmount: 2…\n' +
        '    expected:   ["Subscriptions & Memberships"]\n' +
        '    negative_1: Advertising & Marketing\n' +
        '    negative_2: Professional Services\n' +
        '    score:      0.9\n' +
        '\n' +
        'dataset options that read it (paste into an experiment; a relative path is relative to the experiment file):\n' +
        '\n' +
        TRAIN_BLOCK('csv', file),
    );
  });

  it('train.parquet: types from the footer (physical and logical), nulls from its statistics, rows from its metadata', async () => {
    const file = fixture('train.parquet');
    const r = await cli(['dataset', 'inspect', file, '--rows', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`file:    ${shown(file)}\nformat:  Parquet\nrows:    8 in 3 row groups\n\n`);
    expect(section(r.stdout, '  column')).toBe(
      '  column      type    parquet type     nulls\n' +
        '  input       string  BYTE_ARRAY UTF8  0\n' +
        '  expected    json    BYTE_ARRAY JSON  0\n' +
        '  negative_1  string  BYTE_ARRAY UTF8  0\n' +
        '  negative_2  string  BYTE_ARRAY UTF8  0\n' +
        '  score       double  DOUBLE           0\n',
    );
    expect(r.stdout).toContain('first 2 rows:\n  row 1\n');
    expect(r.stdout).toContain('    expected:   ["Subscriptions & Memberships"]\n');
    expect(r.stdout.endsWith(`\n\n${TRAIN_BLOCK('parquet', file)}`)).toBe(true);
    await blockWorks(TRAIN_BLOCK('parquet', file), 8);
  }, 60_000);

  it('query-negatives.parquet: a 3-level LIST<STRING> column is list<string>; query/positive/negatives; rows shown from the first row group only', async () => {
    const file = fixture('query-negatives.parquet');
    const r = await cli(['dataset', 'inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rows:    8 in 3 row groups\n');
    expect(section(r.stdout, '  column')).toBe(
      '  column     type          parquet type             nulls\n' +
        '  query      string        BYTE_ARRAY STRING        0\n' +
        '  positive   string        BYTE_ARRAY STRING        0\n' +
        '  negatives  list<string>  LIST<BYTE_ARRAY STRING>  0\n',
    );
    expect(r.stdout).toContain('first 3 rows (the first row group holds 3 rows):\n  row 1\n');
    expect(r.stdout).toContain('    negatives: ["Advertising & Marketing","Professional Services"]\n');
    expect(r.stdout).not.toContain('  row 4\n');
    const block = `dataset:\n  type: parquet\n  queries: ${file}\n  input: query\n  expected: positive\n  negatives: negatives\n`;
    expect(r.stdout.endsWith(`\n\n${block}`)).toBe(true);
    await blockWorks(block, 8);
  }, 60_000);

  it('triplets.jsonl: anchor/positive/negative, rows at their lines', async () => {
    const file = fixture('triplets.jsonl');
    const r = await cli(['dataset', 'inspect', file, '--rows', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`file:    ${shown(file)}\nformat:  JSONL (a JSON object a line)\nrows:    8\n\n`);
    expect(section(r.stdout, '  column')).toBe('  column    type    empty\n  anchor    string  0\n  positive  string  0\n  negative  string  0\n');
    expect(r.stdout).toContain('first 2 rows:\n  line 1\n');
    expect(r.stdout).toContain('\n  line 2\n    anchor:   Name : CloudFlare Inc.\\nCategory: Internet & Network Services, SaaS\\nDepartment…\n    positive: Internet & Network Services\n');
    const block = `dataset:\n  type: jsonl\n  queries: ${file}\n  input: anchor\n  expected: positive\n  negatives: negative\n`;
    expect(r.stdout.endsWith(`\n\n${block}`)).toBe(true);
    await blockWorks(block, 8);
  }, 60_000);

  it('qa.json (a JSON array): question/answer and a label column', async () => {
    const file = fixture('qa.json');
    const r = await cli(['dataset', 'inspect', file, '--rows', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`format:  JSON (an array of objects)\nrows:    8\n\n`);
    expect(section(r.stdout, '  column')).toBe('  column    type    empty\n  question  string  0\n  answer    string  0\n  label     string  0\n');
    expect(r.stdout).toContain('first row:\n  line 2\n');
    const block = `dataset:\n  type: jsonl\n  queries: ${file}\n  input: question\n  expected: answer\n  label: label\n`;
    expect(r.stdout.endsWith(`\n\n${block}`)).toBe(true);
    await blockWorks(block, 8);
  }, 60_000);
});

describe('ftrun dataset inspect: types, empty values and what to set', () => {
  it('CSV: an empty cell is empty; numbers among text are text; columns that match no field name the options to set', async () => {
    const dir = tempDir('ftrun-inspect-');
    const file = join(dir, 'notes.csv');
    writeFileSync(file, 'text,category,n,tags\n"a","x",1,"[""p"",""q""]"\n"","y",,[]\n"c",,abc,\n');
    const r = await cli(['dataset', 'inspect', file, '--rows', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `file:    ${file}\n` +
        'format:  CSV (comma-separated, a header row)\n' +
        'rows:    3\n' +
        '\n' +
        '  column    type          empty\n' +
        '  text      string        1\n' +
        '  category  string        1\n' +
        '  n         string        1\n' +
        '  tags      list<string>  1\n' +
        '\n' +
        'no rows shown (--rows 0)\n' +
        '\n' +
        'dataset options that read it (paste into an experiment; a relative path is relative to the experiment file):\n' +
        '\n' +
        'dataset:\n' +
        '  type: csv\n' +
        `  queries: ${file}\n` +
        '  # input: ?  (the column holding the query text)\n' +
        "  # expected: ?  (the column holding the relevant document's text or id)\n" +
        '\n' +
        'input: no column is named anchor, query, question, sentence1 or input (a string); set input to the column that holds the query text (columns: text, category, n, tags)\n' +
        "expected: no column is named positive, positives, pos, document, answer, sentence2 or expected (a string or a list of strings); set expected to the column that holds the relevant document's text or id (columns: text, category, n, tags)\n",
    );
  });

  it('JSONL: a missing field, null, "" and [] are empty; mixed types listed most first; a score column that is not a number is not suggested', async () => {
    const dir = tempDir('ftrun-inspect-');
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(file, '{"query":"a","document":["x"],"score":"high","m":1}\n{"query":"","document":[],"m":"two","m2":2}\n\n{"query":null,"document":["y",2],"extra":{"k":1},"m":3}\n');
    const r = await cli(['dataset', 'inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rows:    3\n');
    expect(section(r.stdout, '  column')).toBe(
      '  column    type                   empty\n' +
        '  query     string                 2\n' +
        '  document  list<string | number>  1\n' +
        '  score     string                 2\n' +
        '  m         number | string        0\n' +
        '  m2        number                 2\n' +
        '  extra     object                 2\n',
    );
    expect(r.stdout).toContain('  line 4\n    query:    null\n    document: ["y",2]\n    m:        3\n    extra:    {"k":1}\n');
    // document holds a number: not a list of strings, so expected is not guessed
    expect(r.stdout).toContain(`dataset:\n  type: jsonl\n  queries: ${file}\n  input: query\n  # expected: ?  (the column holding the relevant document's text or id)\n\nexpected: no column is named`);
  });

  it('a CSV file separated by ";" (none of its first line\'s commas outside quotes): read with it, and the block sets delimiter', async () => {
    const dir = tempDir('ftrun-inspect-');
    const file = join(dir, 'semi.csv');
    writeFileSync(file, 'query;positive;score\nq1;d1;0.5\n"q;2, with a comma";d2;1\n');
    const r = await cli(['dataset', 'inspect', file, '--rows', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('format:  CSV (";"-separated, a header row)\nrows:    2\n\n  column    type    empty\n  query     string  0\n  positive  string  0\n  score     number  0\n');
    const block = `dataset:\n  type: csv\n  queries: ${file}\n  delimiter: ;\n  input: query\n  expected: positive\n  score: score\n`;
    expect(r.stdout.endsWith(`\n\n${block}`)).toBe(true);
    await blockWorks(block, 2);
  }, 60_000);

  it("FlagEmbedding's query/pos/neg lists are read as input/expected/negatives; an unmatched field stays a comment in its place", async () => {
    const dir = tempDir('ftrun-inspect-');
    const bge = join(dir, 'bge.jsonl');
    writeFileSync(bge, '{"query":"q1","pos":["d1"],"neg":["d2","d3"]}\n{"query":"q2","pos":["d2"],"neg":["d1"]}\n');
    const r = await cli(['dataset', 'inspect', bge, '--json']);
    const block = `dataset:\n  type: jsonl\n  queries: ${bge}\n  input: query\n  expected: pos\n  negatives: neg\n`;
    expect((JSON.parse(r.stdout) as { yaml: string }).yaml).toBe(block);
    await blockWorks(block, 2);
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, '{"query":"q1","relevant_passages":["d1"],"hard_negatives":["d2"]}\n');
    const o = await cli(['dataset', 'inspect', other]);
    expect(o.stdout).toContain(`dataset:\n  type: jsonl\n  queries: ${other}\n  input: query\n  # expected: ?  (the column holding the relevant document's text or id)\n  negatives: hard_negatives\n\nexpected: no column is named`);
  }, 60_000);

  it('Parquet: nulls of a flat column from the statistics; a list column with nulls or empty lists is ? (its leaf counts both)', async () => {
    const dir = tempDir('ftrun-inspect-');
    const file = join(dir, 'nulls.parquet');
    parquetWriteFile({
      filename: file,
      schema: [
        { name: 'root', num_children: 3 },
        { name: 'sentence1', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'sentence2', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'score', type: 'INT64', repetition_type: 'OPTIONAL' },
      ],
      columnData: [
        { name: 'sentence1', data: ['a', null, 'c'] },
        { name: 'sentence2', data: [['x'], [], null] },
        { name: 'score', data: [1n, 2n, null] },
      ],
    });
    const r = await cli(['dataset', 'inspect', file]);
    expect(r.code).toBe(0);
    expect(section(r.stdout, '  column')).toBe(
      '  column     type          parquet type           nulls\n' +
        '  sentence1  string        BYTE_ARRAY UTF8        1\n' +
        '  sentence2  list<string>  LIST<BYTE_ARRAY UTF8>  ?\n' +
        '  score      int64         INT64                  1\n',
    );
    expect(r.stdout).toContain('first 3 rows:\n  row 1\n    sentence1: a\n    sentence2: ["x"]\n    score:     1\n  row 2\n    sentence1: null\n    sentence2: []\n');
    expect(r.stdout.endsWith(`dataset:\n  type: parquet\n  queries: ${file}\n  input: sentence1\n  expected: sentence2\n  score: score\n`)).toBe(true);
  });

  it('--json: one JSON object on stdout, the same fields, the block as yaml', async () => {
    const file = fixture('query-negatives.parquet');
    const r = await cli(['dataset', 'inspect', file, '--json', '--rows', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['file', 'format', 'rows', 'row_groups', 'columns', 'sample', 'dataset', 'hints', 'yaml']);
    expect(out).toEqual({
      file: shown(file),
      format: 'parquet',
      rows: 8,
      row_groups: 3,
      columns: [
        { name: 'query', type: 'string', parquet: 'BYTE_ARRAY STRING', empty: 0 },
        { name: 'positive', type: 'string', parquet: 'BYTE_ARRAY STRING', empty: 0 },
        { name: 'negatives', type: 'list<string>', parquet: 'LIST<BYTE_ARRAY STRING>', empty: 0 },
      ],
      sample: [
        {
          at: 'row 1',
          values: {
            query: 'Name : Tooly\nCategory: Survey Software, SaaS\nDepartment: Marketing\nAmount: 2000.0',
            positive: 'Subscriptions & Memberships',
            negatives: ['Advertising & Marketing', 'Professional Services'],
          },
        },
      ],
      dataset: { type: 'parquet', queries: file, input: 'query', expected: 'positive', negatives: 'negatives' },
      hints: [],
      yaml: `dataset:\n  type: parquet\n  queries: ${file}\n  input: query\n  expected: positive\n  negatives: negatives\n`,
    });
    const csv = JSON.parse((await cli(['dataset', 'inspect', fixture('train.csv'), '--json', '--rows', '0'])).stdout) as { columns: unknown[]; sample: unknown[] };
    expect(csv.columns[1]).toEqual({ name: 'expected', type: 'list<string>', empty: 0 });
    expect(csv.sample).toEqual([]);
  });
});

describe('ftrun dataset inspect: errors (exit 2, one line)', () => {
  const dir = tempDir('ftrun-inspect-');
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const cases: Array<[string, () => string[], string]> = [
    ['a missing file', () => ['dataset', 'inspect', join(dir, 'nope.csv')], `error[E_FILE]: ftrun dataset inspect: file not found: ${join(dir, 'nope.csv')}\n`],
    ['a directory', () => (mkdirSync(join(dir, 'd.csv'), { recursive: true }), ['dataset', 'inspect', join(dir, 'd.csv')]), `error[E_FILE]: ftrun dataset inspect: is a directory, not a file: ${join(dir, 'd.csv')}\n`],
    ['an unknown extension', () => ['dataset', 'inspect', put('data.txt', 'x\n')], `error[E_USAGE]: ftrun dataset inspect: cannot tell the format of ${join(dir, 'data.txt')} from its extension ".txt"; supported: .csv, .tsv, .parquet, .jsonl, .ndjson, .json\n`],
    ['a CSV row with a field too many', () => ['dataset', 'inspect', put('bad.csv', 'a,b\n1,2\n3,4,5\n')], `error[E_DATA]: ${join(dir, 'bad.csv')}:line 3: malformed CSV: Invalid Record Length: expect 2, got 3\n`],
    ['a JSONL line cut short', () => ['dataset', 'inspect', put('bad.jsonl', '{"a":1}\n{"a":\n')], `error[E_DATA]: ${join(dir, 'bad.jsonl')}:2: invalid JSON: Unexpected end of JSON input\n`],
    ['a JSONL record that is not an object', () => ['dataset', 'inspect', put('str.jsonl', '{"a":1}\n\n"x"\n')], `error[E_DATA]: ${join(dir, 'str.jsonl')}:3: expected a JSON object, got string\n`],
    ['a .parquet file that is not Parquet', () => ['dataset', 'inspect', put('bad.parquet', 'hello\n')], `error[E_DATA]: ${join(dir, 'bad.parquet')}: cannot read the Parquet footer (is it a Parquet file?): parquet file invalid (footer != PAR1)\n`],
    ['no subcommand', () => ['dataset'], 'error[E_USAGE]: ftrun dataset: expected "push <file.jsonl>", "inspect <file>" or "generate <config.yaml>", got nothing. See: ftrun dataset --help\n'],
    ['an unknown subcommand', () => ['dataset', 'inspekt', 'x.csv'], 'error[E_USAGE]: ftrun dataset: expected "push <file.jsonl>", "inspect <file>" or "generate <config.yaml>", got inspekt x.csv. See: ftrun dataset --help\n'],
    ['inspect without a file', () => ['dataset', 'inspect'], 'error[E_USAGE]: ftrun dataset inspect: expected one data file, got nothing. See: ftrun dataset --help\n'],
    ['inspect with two files', () => ['dataset', 'inspect', 'a.csv', 'b.csv'], 'error[E_USAGE]: ftrun dataset inspect: expected one data file, got a.csv b.csv. See: ftrun dataset --help\n'],
    ['--rows not a count', () => ['dataset', 'inspect', 'a.csv', '--rows', '-1'], 'error[E_USAGE]: ftrun dataset inspect: --rows must be a whole number in decimal (e.g. 5), got "-1"\n'],
    ["push's flags on inspect", () => ['dataset', 'inspect', 'a.csv', '--project', 'p'], 'error[E_USAGE]: ftrun dataset inspect: --project goes with ftrun dataset push. See: ftrun dataset --help\n'],
    ["--rows on push", () => ['dataset', 'push', 'a.jsonl', '--rows', '2'], 'error[E_USAGE]: ftrun dataset push: --rows goes with ftrun dataset inspect. See: ftrun dataset --help\n'],
    ["--json on push", () => ['dataset', 'push', 'a.jsonl', '--json'], 'error[E_USAGE]: ftrun dataset push: --json goes with ftrun dataset inspect or generate. See: ftrun dataset --help\n'],
  ];
  it.each(cases)('%s', async (_what, argv, message) => {
    const r = await cli(argv());
    expect(r.stderr).toBe(message);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  });

  it('ftrun dataset --help names inspect', async () => {
    const r = await cli(['dataset', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('       ftrun dataset inspect <file> [--rows N] [--json]\n');
    expect((await cli(['--help'])).stdout).toContain('  ftrun dataset inspect <file> [--rows N] [--json]  columns, types, rows and the dataset: options of a data file\n');
  });
});

describeShared('ftrun dataset inspect: the reference transactions', () => {
  it('train_transactions.jsonl: 260 rows, input (string), expected (list<string>), read by the block it suggests', async () => {
    const file = join(TRANSACTIONS, 'train_transactions.jsonl');
    const r = await cli(['dataset', 'inspect', file, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { rows: number; columns: unknown[]; sample: unknown[]; yaml: string };
    expect(out.rows).toBe(260);
    expect(out.columns).toEqual([
      { name: 'input', type: 'string', empty: 0 },
      { name: 'expected', type: 'list<string>', empty: 0 },
    ]);
    expect(out.sample).toHaveLength(5);
    expect(out.yaml).toBe(`dataset:\n  type: jsonl\n  queries: ${file}\n  input: input\n  expected: expected\n`);
    await blockWorks(out.yaml, 260);
  }, 60_000);
});
