import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@lancedb/lancedb';
import { configAjv } from '../../../core/config/ajv.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { createRng } from '../../../core/rng.js';
import type { Doc } from '../../../core/types.js';
import LanceDbStore, { tableName } from '../../../plugins/store/lancedb.js';
import MemoryStore from '../../../plugins/store/memory.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, TRANSACTIONS } from '../../helpers/shared.js';

function randomVectors(n: number, dim: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => rng.normal()));
}

describe('store lancedb', () => {
  it('has a strict schema: cosine only, uri optional', () => {
    const validate = configAjv({ useDefaults: true }).compile(LanceDbStore.schema);
    const o: Record<string, unknown> = {};
    expect(validate(o)).toBe(true);
    expect(o).toEqual({ metric: 'cosine' });
    expect(validate({ metric: 'l2' })).toBe(false);
    expect(validate({ url: 'x' })).toBe(false);
  });

  it('names tables <runId>__<name>, sanitised', () => {
    expect(tableName('20240101T000000Z-ab12', 'base')).toBe('20240101T000000Z-ab12__base');
    expect(tableName('run 1', 'fine/tuned:x')).toBe('run_1__fine_tuned_x');
  });

  it('stores in <runDir>/lancedb by default, refuses to replace a table, and closes', async () => {
    const ctx = makeContext({ runId: 'r1' });
    const docs: Doc[] = [
      { id: 'a', text: 'a' },
      { id: 'b', text: 'b' },
      { id: 'c', text: 'c' },
    ];
    const vecs = [Float32Array.from([0, 1]), Float32Array.from([1, 0]), Float32Array.from([1, 0])];
    const s = new LanceDbStore({ metric: 'cosine' }, ctx);
    await s.index('base', docs, vecs);
    const [hits] = await s.search('base', [Float32Array.from([2, 0.5])], 2);
    // b and c tie: corpus order decides
    expect(hits!.map((h) => h.id)).toEqual(['b', 'c']);
    expect(hits![0]!.score).toBeCloseTo(2 / Math.sqrt(4.25), 5);
    await s.close();

    const db = await connect(join(ctx.runDir, 'lancedb'));
    expect(await db.tableNames()).toEqual(['r1__base']);
    db.close();

    // another store instance of the same run id, same database: the table is not replaced
    const again = new LanceDbStore({ metric: 'cosine' }, ctx);
    let err: unknown;
    try {
      await again.index('base', docs, vecs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(
      `store lancedb: table "r1__base" already exists in ${join(ctx.runDir, 'lancedb')}; it belongs to another run and is not replaced`,
    );
    await again.close();
  });

  it('resolves a relative uri against the config directory', async () => {
    const ctx = makeContext();
    const s = new LanceDbStore({ uri: 'db', metric: 'cosine' }, makeContext({ baseDir: ctx.runDir }));
    expect(s.uri).toBe(join(ctx.runDir, 'db'));
    await s.close();
  });
});

describeShared('stores agree on the transactions corpus (27 categories × 66 eval queries)', () => {
  let categories: string[];
  let docs: Doc[];
  let nEval: number;
  // read in beforeAll: a skipped describe still runs its body
  beforeAll(() => {
    categories = (JSON.parse(readFileSync(join(TRANSACTIONS, 'categories.json'), 'utf8')) as Array<{ category: string }>).map((c) => c.category);
    docs = categories.map((c) => ({ id: c, text: c }));
    nEval = readFileSync(join(TRANSACTIONS, 'eval_transactions.jsonl'), 'utf8').trim().split('\n').length;
  });

  it('memory and lancedb give the same top-5 ids and scores within 1e-5', async () => {
    expect(docs).toHaveLength(27);
    expect(nEval).toBe(66);
    const docVecs = randomVectors(27, 64, 1);
    const queryVecs = randomVectors(nEval, 64, 2);
    const ctx = makeContext();
    const mem = new MemoryStore({}, ctx);
    const lance = new LanceDbStore({ metric: 'cosine' }, ctx);
    await mem.index('base', docs, docVecs);
    await lance.index('base', docs, docVecs);
    const a = await mem.search('base', queryVecs, 5);
    const b = await lance.search('base', queryVecs, 5);
    expect(a).toHaveLength(66);
    expect(b).toHaveLength(66);
    for (let i = 0; i < a.length; i++) {
      expect(b[i]!.map((h) => h.id)).toEqual(a[i]!.map((h) => h.id));
      for (let j = 0; j < 5; j++) expect(Math.abs(b[i]![j]!.score - a[i]![j]!.score)).toBeLessThan(1e-5);
    }
    // scores are cosine similarities of the raw vectors
    const cos = (x: Float32Array, y: Float32Array) => {
      let d = 0, nx = 0, ny = 0;
      for (let k = 0; k < x.length; k++) { d += x[k]! * y[k]!; nx += x[k]! ** 2; ny += y[k]! ** 2; }
      return d / Math.sqrt(nx * ny);
    };
    const top = a[0]![0]!;
    expect(top.score).toBeCloseTo(cos(queryVecs[0]!, docVecs[categories.indexOf(top.id)]!), 6);
    await mem.close();
    await lance.close();
  });

  it('and on deterministic vectors: documents on an arc, each query near one of them', async () => {
    // document i at angle θ_i = 0.1·i; query j at θ_(j mod 27) + 0.013·(j mod 5 + 1): the ranking is
    // by angular distance, which has no ties here
    const theta = docs.map((_, i) => 0.1 * i);
    const phi = Array.from({ length: nEval }, (_, j) => theta[j % 27]! + 0.013 * ((j % 5) + 1));
    const docVecs = theta.map((t) => Float32Array.from([Math.cos(t), Math.sin(t)]));
    const queryVecs = phi.map((p) => Float32Array.from([3 * Math.cos(p), 3 * Math.sin(p)]));
    const ctx = makeContext();
    const mem = new MemoryStore({}, ctx);
    const lance = new LanceDbStore({ metric: 'cosine' }, ctx);
    await mem.index('m', docs, docVecs);
    await lance.index('m', docs, docVecs);
    const a = await mem.search('m', queryVecs, 5);
    const b = await lance.search('m', queryVecs, 5);
    for (let j = 0; j < nEval; j++) {
      const expected = theta
        .map((t, i) => ({ i, d: Math.abs(phi[j]! - t) }))
        .sort((x, y) => x.d - y.d)
        .slice(0, 5);
      expect(a[j]!.map((h) => h.id)).toEqual(expected.map((e) => categories[e.i]));
      expect(b[j]!.map((h) => h.id)).toEqual(a[j]!.map((h) => h.id));
      for (let r = 0; r < 5; r++) {
        expect(Math.abs(a[j]![r]!.score - Math.cos(expected[r]!.d))).toBeLessThan(1e-6);
        expect(Math.abs(b[j]![r]!.score - a[j]![r]!.score)).toBeLessThan(1e-5);
      }
    }
    await mem.close();
    await lance.close();
  });

  it('duplicate documents tie; both stores order them by corpus position, also at the cut-off', async () => {
    // docs 3, 10 and 20 share one vector that is the best match; k = 2 cuts inside the tie
    const rng = createRng(11);
    const docVecs = randomVectors(27, 16, 5);
    docVecs[10] = docVecs[3]!.slice();
    docVecs[20] = docVecs[3]!.slice();
    const query = Float32Array.from(docVecs[3]!, (x) => x + 0.001 * rng.normal());
    const ctx = makeContext();
    const mem = new MemoryStore({}, ctx);
    const lance = new LanceDbStore({ metric: 'cosine' }, ctx);
    await mem.index('t', docs, docVecs);
    await lance.index('t', docs, docVecs);
    const want = [categories[3], categories[10]];
    expect((await mem.search('t', [query], 2))[0]!.map((h) => h.id)).toEqual(want);
    expect((await lance.search('t', [query], 2))[0]!.map((h) => h.id)).toEqual(want);
    await mem.close();
    await lance.close();
  });
});

it('a LanceDB failure reads as ftrun\'s: what, where and the first line of the reason', async () => {
  const ctx = makeContext();
  const store = new LanceDbStore({ metric: 'cosine' }, ctx);
  await store.index('m', [{ id: 'a', text: 'a' }, { id: 'b', text: 'b' }], [Float32Array.of(1, 0, 0, 0), Float32Array.of(0, 1, 0, 0)]);
  const err = await store.search('m', [Float32Array.of(1, 0, 0)], 1).catch((e: unknown) => e as Error);
  await store.close();
  expect(err).toBeInstanceOf(Error);
  expect(err.message.startsWith(`store lancedb: cannot search table of m in ${join(ctx.runDir, 'lancedb')}: `)).toBe(true);
  expect(err.message).not.toMatch(/Caused by|\n|\/build\//);
});
