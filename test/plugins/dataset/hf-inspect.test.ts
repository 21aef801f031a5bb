/**
 * `ftrun dataset inspect hf:ORG/NAME[@REVISION][:CONFIG/SPLIT]` (issue 19 §1): the split's
 * Parquet files fetched into the HF cache as the hf dataset fetches them, inspected as a local
 * Parquet file, with a `dataset:` block of type hf; against the stand-in hub.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { datasetInspectCommand } from '../../../core/commands/dataset-inspect.js';
import { parseHfTarget } from '../../../plugins/dataset/hf/inspect.js';
import { cli } from '../../helpers/cli.js';
import { allNliRepo, fakeHub, parquetOf, SHA, type FakeHub, isolatedHfHome } from '../../helpers/hub-server.js';

isolatedHfHome('ftrun-hf-inspect-');
let hub: FakeHub;

beforeEach(async () => {
  hub = await fakeHub({
    'sentence-transformers/all-nli': allNliRepo(),
    // A split in two files, splits from the file names (no card configs).
    'org/sharded': {
      sha: SHA,
      files: {
        'data/train-00000-of-00002.parquet': parquetOf({ query: ['q1', 'q2'], document: ['d1', 'd2'] }),
        'data/train-00001-of-00002.parquet': parquetOf({ query: ['q3'], document: ['d3'] }),
      },
    },
  });
  process.env.HF_ENDPOINT = hub.url;
});
afterEach(async () => {
  await hub.close();
});

async function inspect(target: string, json = false): Promise<string> {
  let out = '';
  const code = await datasetInspectCommand({ target, rows: 2, json }, { out: (s) => (out += s), err: () => {}, signal: new AbortController().signal });
  expect(code).toBe(0);
  return out;
}

it('hf:ID:CONFIG/SPLIT: columns, rows, the first rows and a dataset block of type hf; a second look makes no request, offline too', async () => {
  const out = await inspect('hf:sentence-transformers/all-nli:triplet/train');
  expect(out).toBe(
    [
      'file:    hf:sentence-transformers/all-nli (config triplet, split train, commit c0ffee000000)',
      'format:  Parquet',
      'rows:    4 in 1 row group',
      '',
      '  column    type    parquet type     nulls',
      '  anchor    string  BYTE_ARRAY UTF8  0',
      '  positive  string  BYTE_ARRAY UTF8  0',
      '  negative  string  BYTE_ARRAY UTF8  0',
      '',
      'first 2 rows:',
      '  row 1',
      '    anchor:   A man plays a guitar.',
      '    positive: Someone is making music.',
      '    negative: The man is asleep.',
      '  row 2',
      '    anchor:   Two dogs run in a field.',
      '    positive: Animals are outside.',
      '    negative: The dogs are indoors.',
      '',
      'dataset options that read it (paste into an experiment; a relative path is relative to the experiment file):',
      '',
      'dataset:',
      '  type: hf',
      '  id: sentence-transformers/all-nli',
      '  config: triplet',
      '  split: train',
      '  input: anchor',
      '  expected: positive',
      '  negatives: negative',
      '',
    ].join('\n'),
  );
  expect(hub.requests).toEqual([
    'GET /api/datasets/sentence-transformers/all-nli/revision/main',
    `GET /datasets/sentence-transformers/all-nli/resolve/${SHA}/triplet/train-00000-of-00001.parquet`,
  ]);
  process.env.HF_HUB_OFFLINE = '1';
  expect(await inspect('hf:sentence-transformers/all-nli:triplet/train')).toBe(out);
  expect(hub.requests.length).toBe(2);
});

it('a split in several files: rows and row groups of all of them; --json; a revision is kept in the block', async () => {
  const ins = JSON.parse(await inspect(`hf:org/sharded@${SHA}`, true)) as Record<string, unknown>;
  expect(ins).toMatchObject({
    file: 'hf:org/sharded (config default, split train, commit c0ffee000000, 2 files)',
    rows: 3,
    row_groups: 2,
    dataset: { type: 'hf', id: 'org/sharded', split: 'train', revision: SHA, input: 'query', expected: 'document' },
  });
  expect((ins.sample as unknown[]).length).toBe(2);
});

it('several configs and none named, a missing split, a target not of the form: user errors saying what to write', async () => {
  const fail = (t: string) => inspect(t).then(() => undefined, (e: unknown) => e as UserError);
  expect((await fail('hf:sentence-transformers/all-nli'))?.message).toBe(
    'ftrun dataset inspect (hf:ORG/NAME[@REVISION][:CONFIG/SPLIT]): sentence-transformers/all-nli has 4 configs; choose one. Configs: pair, pair-class, pair-score, triplet',
  );
  expect((await fail('hf:sentence-transformers/all-nli:pair/tset'))?.message).toBe(
    'ftrun dataset inspect (hf:ORG/NAME[@REVISION][:CONFIG/SPLIT]): no split "tset" in sentence-transformers/all-nli (config pair). Did you mean "test"? Splits: train, dev, test',
  );
  const bad = await fail('hf:all-nli');
  expect(bad?.code).toBe('E_USAGE');
  expect(bad?.message).toBe('ftrun dataset inspect: "hf:all-nli" is not a hub dataset: expected hf:ORG/NAME[@REVISION][:CONFIG/SPLIT], e.g. hf:sentence-transformers/all-nli:triplet/train');
});

it('parseHfTarget reads id, revision, config and split', () => {
  expect(parseHfTarget('hf:org/name')).toEqual({ id: 'org/name' });
  expect(parseHfTarget('hf:org/name@v1.0:default/test')).toEqual({ id: 'org/name', revision: 'v1.0', config: 'default', split: 'test' });
  expect(parseHfTarget('hf:org/name:pair/dev')).toEqual({ id: 'org/name', config: 'pair', split: 'dev' });
});

it('on the command line: ftrun dataset inspect hf:… prints the inspection (exit 0); a missing config is exit 2 with the message', async () => {
  const ok = await cli(['dataset', 'inspect', 'hf:sentence-transformers/all-nli:pair/test', '--rows', '1']);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain('file:    hf:sentence-transformers/all-nli (config pair, split test, commit c0ffee000000)\nformat:  Parquet\nrows:    1 in 1 row group\n');
  const bad = await cli(['dataset', 'inspect', 'hf:sentence-transformers/all-nli:pairs/test']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toBe(
    'error[E_DATA]: ftrun dataset inspect (hf:ORG/NAME[@REVISION][:CONFIG/SPLIT]): no config "pairs" in sentence-transformers/all-nli. Did you mean "pair"? Configs: pair, pair-class, pair-score, triplet\n',
  );
});
