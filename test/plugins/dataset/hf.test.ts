/**
 * dataset `hf` (issue 19 §1) against a stand-in of the hub's HTTP API (test/helpers/hub-server.ts):
 * the Parquet files of a config and split are downloaded once into the HF cache's standard layout
 * and read like local Parquet; a warm cache needs no request (online or offline); a cold cache
 * offline, a missing split or config, a refused token and an interrupted download are user errors
 * saying what to do; a pinned commit is requested as such; a split that is not Parquet comes from
 * the hub's conversion (refs/convert/parquet).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import hf, { type HfDatasetOptions } from '../../../plugins/dataset/hf.js';
import { globRegex, resolveHfParquet } from '../../../plugins/dataset/hf/hub.js';
import type { DatasetPlugin, RunContext } from '../../../core/types.js';
import { makeContext } from '../../helpers/context.js';
import { allNliRepo, CONVERTED_SHA, fakeHub, parquetOf, SHA, type FakeHub, type HubRepo, isolatedHfHome } from '../../helpers/hub-server.js';

const hfHome = isolatedHfHome('ftrun-hf-ds-');
let hub: FakeHub | undefined;

beforeEach(() => {
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

/** A data/{split}-00000-of-00001.parquet repository without card configs (splits from the file names). */
function plainRepo(extra: Partial<HubRepo> = {}): HubRepo {
  return {
    sha: SHA,
    files: {
      'README.md': '# plain\n',
      'data/train-00000-of-00001.parquet': parquetOf({ query: ['q1', 'q2', 'q3'], answer: ['d1', 'd2', 'd1'] }),
      'data/test-00000-of-00001.parquet': parquetOf({ query: ['q4'], answer: ['d2'] }),
    },
    ...extra,
  };
}

async function serve(repos: Record<string, HubRepo>): Promise<FakeHub> {
  hub = await fakeHub(repos);
  process.env.HF_ENDPOINT = hub.url;
  return hub;
}

const options = (o: Partial<HfDatasetOptions>): HfDatasetOptions => ({ id: 'org/plain', split: 'train', input: 'query', expected: 'answer', ...o });
const create = (o: Partial<HfDatasetOptions>, ctx: RunContext = makeContext()): DatasetPlugin => new hf(options(o), ctx);
const repoDir = (id: string) => join(hfHome(), 'hub', `datasets--${id.replace('/', '--')}`);

async function failure(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UserError);
  return e as UserError;
}

describe('download into the HF cache and read', () => {
  it('first load downloads the split once into the standard layout and reads its rows exactly; a second load makes no request', async () => {
    const h = await serve({ 'org/plain': plainRepo() });
    const ds = create({});
    const data = await ds.load();
    expect(data.queries.map((q) => [q.id, q.text, q.relevant])).toEqual([
      ['train-00000-of-00001.parquet:1', 'q1', ['d1']],
      ['train-00000-of-00001.parquet:2', 'q2', ['d2']],
      ['train-00000-of-00001.parquet:3', 'q3', ['d1']],
    ]);
    expect(data.corpus).toEqual([
      { id: 'd1', text: 'd1' },
      { id: 'd2', text: 'd2' },
    ]);
    expect(h.requests).toEqual(['GET /api/datasets/org/plain/revision/main', `GET /datasets/org/plain/resolve/${SHA}/data/train-00000-of-00001.parquet`]);
    const snap = join(repoDir('org/plain'), 'snapshots', SHA);
    expect(readFileSync(join(repoDir('org/plain'), 'refs', 'main'), 'utf8')).toBe(SHA);
    expect(readdirSync(join(snap, 'data'))).toEqual(['train-00000-of-00001.parquet']); // only the split asked for
    expect(ds.info!()).toEqual({ type: 'hf', id: 'org/plain', config: 'default', split: 'train', revision: 'main', commit: SHA, files: ['data/train-00000-of-00001.parquet'] });

    const again = await create({}).load();
    expect(again.queries.map((q) => q.text)).toEqual(['q1', 'q2', 'q3']);
    expect(h.requests.length).toBe(2); // warm cache: no request at all
  });

  it('eval_split is read as the eval set; the card configs name the files; limit counts rows of each split', async () => {
    const h = await serve({ 'sentence-transformers/all-nli': allNliRepo() });
    const ds = create({ id: 'sentence-transformers/all-nli', config: 'triplet', eval_split: 'test', input: 'anchor', expected: 'positive', negatives: 'negative', limit: 3 });
    const data = await ds.load();
    expect(data.queries.map((q) => [q.text, q.relevant, q.negatives])).toEqual([
      ['A man plays a guitar.', ['Someone is making music.'], ['The man is asleep.']],
      ['Two dogs run in a field.', ['Animals are outside.'], ['The dogs are indoors.']],
      ['A woman reads a book.', ['A person is reading.'], ['The woman is swimming.']],
    ]);
    expect(data.eval!.map((q) => q.text)).toEqual(['A cat sleeps on a sofa.']);
    expect(h.requests).toEqual([
      'GET /api/datasets/sentence-transformers/all-nli/revision/main',
      `GET /datasets/sentence-transformers/all-nli/resolve/${SHA}/triplet/train-00000-of-00001.parquet`,
      `GET /datasets/sentence-transformers/all-nli/resolve/${SHA}/triplet/test-00000-of-00001.parquet`,
    ]);
    expect(ds.info!()).toMatchObject({ config: 'triplet', split: 'train', eval_split: 'test', files: ['triplet/train-00000-of-00001.parquet', 'triplet/test-00000-of-00001.parquet'] });
  });

  it('HF_TOKEN is sent as a bearer token', async () => {
    const h = await serve({ 'org/plain': plainRepo({ token: 'hf_good' }) });
    process.env.HF_TOKEN = 'hf_good';
    await create({}).load();
    expect(h.auth).toEqual(['Bearer hf_good', 'Bearer hf_good']);
  });

  it('a revision pinned to a commit sha is asked for as such and recorded; no ref is written', async () => {
    const h = await serve({ 'org/plain': plainRepo() });
    const ds = create({ revision: SHA });
    await ds.load();
    expect(h.requests).toEqual([`GET /api/datasets/org/plain/revision/${SHA}`, `GET /datasets/org/plain/resolve/${SHA}/data/train-00000-of-00001.parquet`]);
    expect(existsSync(join(repoDir('org/plain'), 'refs'))).toBe(false);
    expect(ds.info!()).toMatchObject({ revision: SHA, commit: SHA });
    process.env.HF_HUB_OFFLINE = '1';
    await create({ revision: SHA }).load(); // the commit's files are cached: offline works
    expect(h.requests.length).toBe(2);
  });

  it('a split that is not Parquet in the repository is read from the hub conversion (refs/convert/parquet), recorded in info', async () => {
    const h = await serve({
      'org/csv': {
        sha: SHA,
        files: { 'train.csv': 'query,answer\nq1,d1\n', 'test.csv': 'query,answer\nq2,d2\n' },
        converted: { sha: CONVERTED_SHA, files: { 'default/train/0000.parquet': parquetOf({ query: ['q1'], answer: ['d1'] }), 'default/test/0000.parquet': parquetOf({ query: ['q2'], answer: ['d2'] }) } },
      },
    });
    const ds = create({ id: 'org/csv' });
    expect((await ds.load()).queries.map((q) => q.text)).toEqual(['q1']);
    expect(h.requests).toEqual([
      'GET /api/datasets/org/csv/revision/main',
      'GET /api/datasets/org/csv/revision/refs%2Fconvert%2Fparquet',
      `GET /datasets/org/csv/resolve/${CONVERTED_SHA}/default/train/0000.parquet`,
    ]);
    expect(ds.info!()).toMatchObject({ commit: SHA, files: ['default/train/0000.parquet'], converted: { revision: 'refs/convert/parquet', commit: CONVERTED_SHA } });
    expect(existsSync(join(repoDir('org/csv'), 'snapshots', CONVERTED_SHA, 'default', 'train', '0000.parquet'))).toBe(true);
    process.env.HF_HUB_OFFLINE = '1';
    await create({ id: 'org/csv' }).load();
    expect(h.requests.length).toBe(3);
  });
  it('a split the cached listing lacks is asked of the hub again (main may have moved); offline it is the missing-split error', async () => {
    const repo = plainRepo();
    const h = await serve({ 'org/plain': repo });
    await create({}).load();
    const moved = 'beef'.padEnd(40, '2');
    Object.assign(repo, { sha: moved, files: { ...repo.files, 'data/validation-00000-of-00001.parquet': parquetOf({ query: ['q9'], answer: ['d9'] }) } });
    process.env.HF_HUB_OFFLINE = '1';
    const e = await failure(create({ split: 'validation' }).load());
    expect(e.message).toBe('dataset.split: no split "validation" in org/plain (config default). Splits: train, test');
    delete process.env.HF_HUB_OFFLINE;
    const ds = create({ split: 'validation' });
    expect((await ds.load()).queries.map((q) => q.text)).toEqual(['q9']);
    expect(ds.info!()).toMatchObject({ commit: moved });
    expect(h.requests.slice(2)).toEqual(['GET /api/datasets/org/plain/revision/main', `GET /datasets/org/plain/resolve/${moved}/data/validation-00000-of-00001.parquet`]);
    expect(readFileSync(join(repoDir('org/plain'), 'refs', 'main'), 'utf8')).toBe(moved);
  });
});

describe('offline', () => {
  it('HF_HUB_OFFLINE=1 with a warm cache reads it with no request', async () => {
    const h = await serve({ 'org/plain': plainRepo() });
    await create({ eval_split: 'test' }).load();
    const n = h.requests.length;
    process.env.HF_HUB_OFFLINE = '1';
    const data = await create({ eval_split: 'test' }).load();
    expect(data.eval!.map((q) => q.text)).toEqual(['q4']);
    expect(h.requests.length).toBe(n);
  });

  it('a cold cache offline names the cache directory and HF_HUB_OFFLINE=1', async () => {
    process.env.HF_HUB_OFFLINE = '1';
    const e = await failure(create({}).load());
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe(
      `dataset.id: dataset "org/plain" is not in the Hugging Face cache (${repoDir('org/plain')}) and HF_HUB_OFFLINE=1: download it once with network access (unset HF_HUB_OFFLINE)`,
    );
  });

  it('offline, a split that was never downloaded is not in the cache either (TRANSFORMERS_OFFLINE)', async () => {
    await serve({ 'org/plain': plainRepo() });
    await create({}).load();
    process.env.TRANSFORMERS_OFFLINE = '1';
    const e = await failure(create({ split: 'test' }).load());
    expect(e.message).toBe(
      `dataset.id: dataset "org/plain" is not in the Hugging Face cache (${repoDir('org/plain')}) and TRANSFORMERS_OFFLINE=1: download it once with network access (unset TRANSFORMERS_OFFLINE)`,
    );
  });
});

describe('errors', () => {
  it('a missing split names the splits, with did-you-mean', async () => {
    await serve({ 'org/plain': plainRepo() });
    const e = await failure(create({ split: 'tset' }).load());
    expect(e.code).toBe('E_DATA');
    expect(e.message).toBe('dataset.split: no split "tset" in org/plain (config default). Did you mean "test"? Splits: train, test');
    const ev = await failure(create({ eval_split: 'validation' }).load());
    expect(ev.message).toBe('dataset.eval_split: no split "validation" in org/plain (config default). Splits: train, test');
  });

  it('a missing config names the configs, with did-you-mean; several configs and none chosen asks for one', async () => {
    await serve({ 'sentence-transformers/all-nli': allNliRepo() });
    const e = await failure(create({ id: 'sentence-transformers/all-nli', config: 'triplets' }).load());
    expect(e.code).toBe('E_DATA');
    expect(e.message).toBe('dataset.config: no config "triplets" in sentence-transformers/all-nli. Did you mean "triplet"? Configs: pair, pair-class, pair-score, triplet');
    const none = await failure(create({ id: 'sentence-transformers/all-nli' }).load());
    expect(none.message).toBe('dataset.config: sentence-transformers/all-nli has 4 configs; choose one. Configs: pair, pair-class, pair-score, triplet');
    const split = await failure(create({ id: 'sentence-transformers/all-nli', config: 'pair', split: 'validation' }).load());
    expect(split.message).toBe('dataset.split: no split "validation" in sentence-transformers/all-nli (config pair). Splits: train, dev, test');
  });

  it('a dataset that does not exist (404), and a revision that does not', async () => {
    await serve({ 'org/plain': plainRepo() });
    const e = await failure(create({ id: 'org/nope' }).load());
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe(`dataset.id: dataset "org/nope" not found at ${hub!.url}`);
    const r = await failure(create({ revision: 'v9' }).load());
    expect(r.message).toBe(`dataset.revision: no revision "v9" in dataset "org/plain" at ${hub!.url}`);
  });

  it('401 without a token says to set HF_TOKEN; with a refused token says so', async () => {
    await serve({ 'org/private': plainRepo({ token: 'hf_good' }) });
    const e = await failure(create({ id: 'org/private' }).load());
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe(
      `dataset.id: access denied (HTTP 401) to the file list (main) of dataset "org/private" at ${hub!.url}: it may not exist, or be private or gated (set HF_TOKEN to a token with access)`,
    );
    process.env.HF_TOKEN = 'hf_bad';
    const bad = await failure(create({ id: 'org/private' }).load());
    expect(bad.message).toBe(
      `dataset.id: access denied (HTTP 401) to the file list (main) of dataset "org/private" at ${hub!.url}: it may not exist, or be private or gated (HF_TOKEN is set but was refused)`,
    );
  });

  it('an interrupted download leaves no partial file, says which file failed, and a rerun completes', async () => {
    const h = await serve({ 'org/plain': plainRepo() });
    h.interrupt.add('data/train-00000-of-00001.parquet');
    const e = await failure(create({}).load());
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe('dataset.id: download of org/plain data/train-00000-of-00001.parquet failed: terminated (other side closed); run again to download it');
    const data = join(repoDir('org/plain'), 'snapshots', SHA, 'data');
    expect(readdirSync(data), 'the snapshot').toEqual([]); // the temp file is gone, nothing half-written
    expect(existsSync(join(repoDir('org/plain'), 'refs', 'main'))).toBe(false);
    const again = await create({}).load();
    expect(again.queries.map((q) => q.text)).toEqual(['q1', 'q2', 'q3']);
    expect(readdirSync(data)).toEqual(['train-00000-of-00001.parquet']);
  });

  it('a listed path that would land outside the snapshot (../) is ignored', async () => {
    const repo = plainRepo({ cardData: { configs: [{ config_name: 'default', data_files: [{ split: 'train', path: '**' }] }] } });
    repo.files['../../../escape.parquet'] = parquetOf({ query: ['x'], answer: ['y'] });
    const h = await serve({ 'org/plain': repo });
    const ds = create({});
    await ds.load();
    expect(ds.info!()).toMatchObject({ files: ['data/train-00000-of-00001.parquet', 'data/test-00000-of-00001.parquet'] });
    expect(h.requests.some((r) => r.includes('escape'))).toBe(false);
  });

  it('a server that is not there: the endpoint and the reason', async () => {
    await serve({});
    const url = hub!.url;
    await hub!.close();
    hub = undefined;
    const e = await failure(create({}).load());
    expect(e.message).toBe(`dataset.id: could not reach ${url} for dataset "org/plain": ECONNREFUSED. Check network access (and HF_ENDPOINT)`);
  });
});

describe('check and the resolver for ftrun dataset inspect', () => {
  it('check() looks at the option shapes only, with no request', async () => {
    const h = await serve({});
    const check = hf.check!;
    const ctx = { resolvePath: (p: string) => p } as unknown as Parameters<typeof check>[1];
    expect(check({ id: 'all-nli', split: 'train' }, ctx)).toEqual([
      { path: ['id'], message: '"all-nli" is not a Hugging Face dataset id (expected "org/name", e.g. sentence-transformers/all-nli)' },
    ]);
    expect(check({ id: 'org/x', split: 'test', eval_split: 'test' }, ctx)).toEqual([
      { path: ['eval_split'], message: 'is the training split ("test"): name another split, or leave eval_split out to let the splitter decide' },
    ]);
    expect(check({ id: 'org/x', split: 'train' }, ctx)).toEqual([]);
    expect(h.requests).toEqual([]);
  });

  it('resolveHfParquet gives the splits, configs, commit and local files', async () => {
    await serve({ 'sentence-transformers/all-nli': allNliRepo() });
    const r = await resolveHfParquet({ id: 'sentence-transformers/all-nli', config: 'pair', split: 'dev' }, { signal: new AbortController().signal });
    expect(r).toEqual({
      id: 'sentence-transformers/all-nli',
      config: 'pair',
      split: 'dev',
      splits: ['train', 'dev', 'test'],
      configs: ['pair', 'pair-class', 'pair-score', 'triplet'],
      revision: 'main',
      commit: SHA,
      files: [join(repoDir('sentence-transformers/all-nli'), 'snapshots', SHA, 'pair', 'dev-00000-of-00001.parquet')],
      repoFiles: ['pair/dev-00000-of-00001.parquet'],
    });
  });

  it('data_files globs: * stays within a directory, ** crosses them', () => {
    expect(globRegex('data/train-*').test('data/train-00000-of-00001.parquet')).toBe(true);
    expect(globRegex('data/train-*').test('data/train-x/y.parquet')).toBe(false);
    expect(globRegex('**/train/*.parquet').test('a/b/train/0.parquet')).toBe(true);
    expect(globRegex('**/train/*.parquet').test('train/0.parquet')).toBe(true);
    expect(globRegex('data/[!x]*.parquet').test('data/a.parquet')).toBe(true);
  });
});
