/**
 * The shipped Parquet dataset config (configs/parquet-transactions.yaml, issue 19 §1) runs end to
 * end on the fixture model: queries and eval queries read from Parquet files with a list column
 * and n-tuple negative columns; metrics.json written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, describeShared, readJsonl, tinyBertSets } from '../helpers/shared.js';

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
