/**
 * The shipped Parquet dataset config (configs/parquet-transactions.yaml, issue 19 §1) runs end to
 * end on the fixture model: queries and eval queries read from Parquet files with a list column
 * and n-tuple negative columns; metrics.json written. `ftrun validate` names a column the options
 * name that a CSV header or a Parquet schema lacks, and a missing file, at their options.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared, readJsonl, tinyBertSets } from '../helpers/shared.js';

const CONFIG = join(ROOT, 'configs', 'parquet-transactions.yaml');

describeShared('configs/parquet-transactions.yaml on tiny-bert', () => {
  it('runs ok from the Parquet files: 6 queries (5 train, 1 test), 2 eval, the 6 categories; metrics.json written', async () => {
    const r = await cli(['run', CONFIG, '--runs-dir', tempDir(), '--json', '--quiet', ...tinyBertSets()]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { run_dir: string; status: string };
    expect(summary.status).toBe('ok');
    const events = readJsonl(join(summary.run_dir, 'events.jsonl'));
    expect(events.find((e) => e.type === 'split')).toMatchObject({ train: 5, test: 1, eval: 2, corpus: 6 });
    expect(existsSync(join(summary.run_dir, 'metrics.json'))).toBe(true);
    const metrics = JSON.parse(readFileSync(join(summary.run_dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(metrics).length).toBeGreaterThan(0);
  }, 180_000);
});

describeShared('ftrun validate on csv and parquet datasets', () => {
  it('a column not in the header or the Parquet schema (did you mean, the columns) and a missing file are config problems at their options', async () => {
    const dir = tempDir();
    for (const f of ['train.tsv', 'train.parquet']) copyFileSync(join(ROOT, 'test', 'fixtures', 'datasets', f), join(dir, f));
    const exp = (type: string, queries: string, field: string) =>
      `name: t\ndataset:\n  type: ${type}\n  queries: ${queries}\n  ${field}\n  eval: nope.csv\nmodel: { path: ${TINY_BERT} }\n`;
    writeFileSync(join(dir, 'c.yaml'), exp('csv', 'train.tsv', 'input: inptu'));
    writeFileSync(join(dir, 'p.yaml'), exp('parquet', 'train.parquet', 'negatives: [negative_1, negativ_2]'));
    const c = await cli(['validate', join(dir, 'c.yaml')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 2 problems:\n` +
        `  ${join(dir, 'c.yaml')}:5:10 dataset.input: no column "inptu" in ${join(dir, 'train.tsv')}. Did you mean "input"? Columns: input, expected, negative_1, negative_2, score\n` +
        `  ${join(dir, 'c.yaml')}:6:9 dataset.eval: file not found: ${join(dir, 'nope.csv')}\n`,
    );
    const p = await cli(['validate', join(dir, 'p.yaml')]);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain(
      `  ${join(dir, 'p.yaml')}:5:3 dataset.negatives: no column "negativ_2" in ${join(dir, 'train.parquet')}. Did you mean "negative_2"? Columns: input, expected, negative_1, negative_2, score\n`,
    );
  }, 60_000);
});
