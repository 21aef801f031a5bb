import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configAjv } from '../../../core/config/ajv.js';
import { describe, expect, it } from 'vitest';
import { AdapterEncoder, loadAdapterEncoder } from '../../../engine/adapter/encoder.js';
import { initAdapter, mapVectors, type AdapterWeights } from '../../../engine/adapter/model.js';
import { ADAPTER_META_FILE, ADAPTER_WEIGHTS_FILE, loadAdapter, saveAdapter, writeAdapterWeights } from '../../../engine/adapter/save.js';
import { ADAPTER_SCHEMA, readAdapterOptions } from '../../../core/train/adapter-schema.js';
import { UserError } from '../../../core/errors.js';
import { Rng } from '../../../core/rng.js';
import { FakeEncoder } from './fake-encoder.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ftrun-adapter-'));

function trained(kind: 'linear' | 'mlp', dim = 8): AdapterWeights {
  const w = initAdapter(kind, dim, 6, 1);
  const rng = new Rng(2);
  for (const t of w.tensors.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! + 0.2 * rng.normal();
  return w;
}

const meta = (apply_to: 'query' | 'both') => ({ apply_to, base_model: { id: 'fake' }, created: '2025-01-01T00:00:00.000Z' });
const texts = ['alpha', 'beta', 'gamma delta'];

describe('adapter save / load', () => {
  it('round-trips the weights and metadata exactly', () => {
    for (const kind of ['linear', 'mlp'] as const) {
      const dir = tmp();
      const w = trained(kind);
      saveAdapter(dir, w, meta('both'));
      const back = loadAdapter(dir);
      expect(back.weights.kind).toBe(kind);
      expect(back.weights.dim).toBe(8);
      for (const [name, t] of w.tensors) expect(back.weights.tensors.get(name)!.data).toEqual(t.data);
      expect(back.meta).toMatchObject({ format: 'ftrun-adapter', version: 1, kind, dim: 8, hidden: kind === 'mlp' ? 6 : 0, apply_to: 'both', normalize: true, base_model: { id: 'fake' } });
    }
  });

  it('a loaded adapter encoder gives exactly what the in-memory adapter gives', async () => {
    const dir = tmp();
    const w = trained('mlp');
    saveAdapter(dir, w, meta('both'));
    const base = new FakeEncoder(8);
    const enc = await loadAdapterEncoder(base, dir);
    const expected = mapVectors(w, await base.encode(texts, { kind: 'query' }));
    expect(await enc.encode(texts, { kind: 'query' })).toEqual(expected);
    expect(await enc.encode(texts, { kind: 'document' })).toEqual(expected);
    expect(enc.info).toMatchObject({ backend: 'fake', adapter: 'mlp', apply_to: 'both', adapter_dir: dir });
    await enc.dispose();
    expect(base.disposed).toBe(true);
  });

  it('apply_to query maps queries and leaves document vectors bit for bit unchanged', async () => {
    const w = trained('linear');
    const base = new FakeEncoder(8, false);
    const enc = new AdapterEncoder(base, w, 'query');
    const docs = await enc.encode(texts, { kind: 'document' });
    expect(docs).toEqual(texts.map((t) => base.vector(t)));
    const queries = await enc.encode(texts, { kind: 'query' });
    expect(queries).toEqual(mapVectors(w, texts.map((t) => base.vector(t))));
    expect(queries[0]).not.toEqual(docs[0]);
  });

  it('a fresh adapter encodes like the base model (normalised)', async () => {
    const base = new FakeEncoder(8, true);
    const enc = new AdapterEncoder(base, initAdapter('linear', 8, 0, 1), 'both');
    const out = await enc.encode(texts, { kind: 'query' });
    out.forEach((v, i) => v.forEach((x, j) => expect(Math.abs(x - base.vector(texts[i]!)[j]!)).toBeLessThan(1e-7)));
  });

  it('errors name the file and what is wrong', async () => {
    const empty = tmp();
    expect(() => loadAdapter(empty)).toThrow(UserError);
    expect(() => loadAdapter(empty)).toThrow(/adapter.json not found/);
    const dir = tmp();
    saveAdapter(dir, trained('linear'), meta('query'));
    writeAdapterWeights(join(dir, ADAPTER_WEIGHTS_FILE), trained('linear', 4));
    expect(() => loadAdapter(dir)).toThrow(/says linear 8-d .* holds linear 4-d/);
    writeFileSync(join(dir, ADAPTER_META_FILE), '{"format":"x"}');
    expect(() => loadAdapter(dir)).toThrow(/format must be "ftrun-adapter"/);
    const other = tmp();
    saveAdapter(other, trained('linear', 8), meta('query'));
    expect(() => new AdapterEncoder(new FakeEncoder(16), trained('linear', 8), 'query')).toThrow(/maps 8-d vectors but the base encoder makes 16-d/);
    await expect(loadAdapterEncoder(new FakeEncoder(16), other)).rejects.toThrow(UserError);
  });
});

describe('adapter options schema', () => {
  it('is strict, documented, and fills its defaults', () => {
    const check = configAjv({ allErrors: true, useDefaults: true }).compile({ type: 'object', properties: { adapter: ADAPTER_SCHEMA } });
    const doc: { adapter?: unknown } = {};
    expect(check(doc)).toBe(true);
    expect(doc.adapter).toEqual({ kind: 'linear', hidden: 256, apply_to: 'query' });
    expect(check({ adapter: { kind: 'conv' } })).toBe(false);
    expect(check({ adapter: { apply_to: 'document' } })).toBe(false);
    expect(check({ adapter: { hiden: 3 } })).toBe(false);
    for (const p of Object.values(ADAPTER_SCHEMA.properties as Record<string, { description?: string }>)) expect(p.description!.length).toBeGreaterThan(10);
    expect(readAdapterOptions({ adapter: { kind: 'mlp' } })).toEqual({ kind: 'mlp', hidden: 256, apply_to: 'query' });
    expect(() => readAdapterOptions({ adapter: { kind: 'conv' } })).toThrow(/kind must be one of linear, mlp/);
  });
});
