/**
 * The shipped hf dataset config (configs/hf-all-nli.yaml, issue 19 §1) runs end to end on the
 * fixture model against a stand-in of the hub (HF_ENDPOINT, HF_HOME in a temp dir): the triplet
 * config's train and dev splits downloaded, metrics.json written, env.json records the commit;
 * a second run offline makes no request. A missing split is a user error at its line in the
 * experiment file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { allNliRepo, fakeHub, SHA, type FakeHub, isolatedHfHome } from '../helpers/hub-server.js';
import { ROOT, describeShared, readJsonl, tinyBertSets } from '../helpers/shared.js';

const CONFIG = join(ROOT, 'configs', 'hf-all-nli.yaml');
// The stand-in's train split has 4 rows: batches of 2.
const SETS = [...tinyBertSets(), '--set', 'training.batch_size=2'];
isolatedHfHome('ftrun-hf-home-');
let hub: FakeHub;

beforeEach(async () => {
  hub = await fakeHub({ 'sentence-transformers/all-nli': allNliRepo() });
  process.env.HF_ENDPOINT = hub.url;
});
afterEach(async () => {
  await hub.close();
});

describeShared('configs/hf-all-nli.yaml on tiny-bert against a stand-in hub', () => {
  it('runs ok from the hub dataset (train 4 rows, dev 1 as eval); env.json records the commit; offline, a second run makes no request', async () => {
    const r = await cli(['run', CONFIG, '--runs-dir', tempDir(), '--json', '--quiet', ...SETS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { run_dir: string; status: string };
    expect(summary.status).toBe('ok');
    expect(existsSync(join(summary.run_dir, 'metrics.json'))).toBe(true);
    const events = readJsonl(join(summary.run_dir, 'events.jsonl'));
    expect(events.find((e) => e.type === 'split')).toMatchObject({ train: 3, test: 1, eval: 1, corpus: 10 });
    const env = JSON.parse(readFileSync(join(summary.run_dir, 'env.json'), 'utf8')) as { dataset: Record<string, unknown> };
    expect(env.dataset).toEqual({
      type: 'hf',
      id: 'sentence-transformers/all-nli',
      config: 'triplet',
      split: 'train',
      eval_split: 'dev',
      revision: 'main',
      commit: SHA,
      files: ['triplet/train-00000-of-00001.parquet', 'triplet/dev-00000-of-00001.parquet'],
    });
    expect(hub.requests).toEqual([
      'GET /api/datasets/sentence-transformers/all-nli/revision/main',
      `GET /datasets/sentence-transformers/all-nli/resolve/${SHA}/triplet/train-00000-of-00001.parquet`,
      `GET /datasets/sentence-transformers/all-nli/resolve/${SHA}/triplet/dev-00000-of-00001.parquet`,
    ]);

    process.env.HF_HUB_OFFLINE = '1';
    const again = await cli(['run', CONFIG, '--runs-dir', tempDir(), '--json', '--quiet', ...SETS]);
    expect(again.code).toBe(0);
    expect(hub.requests.length).toBe(3);
  }, 240_000);

  it('a split the dataset lacks is a user error at its line, with did-you-mean and the splits', async () => {
    const dir = tempDir();
    const exp = join(dir, 'exp.yaml');
    writeFileSync(exp, `extends: ${CONFIG}\ndataset:\n  split: tset\n`);
    const r = await cli(['run', exp, '--runs-dir', tempDir(), '--quiet', ...SETS]);
    expect(r.stderr).toBe(`error[E_DATA]: ${exp}:3:10 dataset.split: no split "tset" in sentence-transformers/all-nli (config triplet). Did you mean "test"? Splits: train, dev, test\n`);
    expect(r.code).toBe(2);
  }, 120_000);
});
