/**
 * model.truncate_dim, as sentence-transformers' truncate_dim: the layout takes it from the spec or
 * the directory's config_sentence_transformers.json, refuses one over the embedding dimension with
 * the valid range, the encoder wrapper returns each embedding's first truncate_dim values (not
 * re-normalized, as sentence-transformers), and a saved model records it where sentence-transformers
 * does (config_sentence_transformers.json truncate_dim) and reads back with it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import type { Encoder, ModelSpec } from '../../../core/types.js';
import { loadModelLayout } from '../../../engine/model/layout.js';
import { saveSentenceTransformer } from '../../../engine/model/model-dir.js';
import { truncatingEncoder } from '../../../engine/model/truncate.js';
import { TINY_BERT, describeShared } from '../../helpers/shared.js';

const spec = (o: Partial<ModelSpec> = {}): ModelSpec => ({ query_prompt: '', document_prompt: '', ...o });
const temps: string[] = [];
afterEach(() => temps.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ftrun-truncate-'));
  temps.push(d);
  return d;
};

/** A fake 4-d encoder: each text's vector is (1, 2, 3, 4) scaled by its length. */
const fake = (): Encoder => ({
  dim: 4,
  info: { backend: 'fake' },
  encode: async (texts) => texts.map((t) => Float32Array.from([1, 2, 3, 4].map((x) => x * t.length))),
  dispose: async () => {},
});

describe('truncatingEncoder', () => {
  it('returns the first truncate_dim values of every embedding, as they are (not re-normalized)', async () => {
    const enc = truncatingEncoder(fake(), 2);
    expect(enc.dim).toBe(2);
    expect(enc.info).toEqual({ backend: 'fake', truncate_dim: 2 });
    expect(await enc.encode(['a', 'bb'], { kind: 'query' })).toEqual([Float32Array.from([1, 2]), Float32Array.from([2, 4])]);
    expect(truncatingEncoder(fake(), 4).dim).toBe(4);
    const same = fake();
    expect(truncatingEncoder(same, undefined)).toBe(same);
  });

  it('refuses a truncate_dim over the embedding dimension, with the valid range', () => {
    let err: unknown;
    try {
      truncatingEncoder(fake(), 5);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('E_CONFIG');
    expect((err as UserError).message).toBe("model.truncate_dim: 5 is more than the model's embedding dimension 4; valid: integers from 1 to 4");
  });
});

describeShared('truncate_dim in model directories', () => {
  /** A copy of tiny-bert's small files (no weights), to edit. */
  const copy = () => {
    const d = temp();
    cpSync(TINY_BERT, d, { recursive: true, filter: (src) => !/\.(onnx|safetensors)$/.test(src) });
    return d;
  };
  const stConfig = (dir: string) => JSON.parse(readFileSync(join(dir, 'config_sentence_transformers.json'), 'utf8')) as Record<string, unknown>;

  it('the layout takes truncate_dim from the spec, else from config_sentence_transformers.json; none by default', () => {
    expect(loadModelLayout(TINY_BERT, spec()).truncateDim).toBeUndefined();
    expect(loadModelLayout(TINY_BERT, spec({ truncate_dim: 16 })).truncateDim).toBe(16);
    const d = copy();
    writeFileSync(join(d, 'config_sentence_transformers.json'), JSON.stringify({ ...stConfig(TINY_BERT), truncate_dim: 32 }));
    expect(loadModelLayout(d, spec()).truncateDim).toBe(32);
    expect(loadModelLayout(d, spec({ truncate_dim: 8 })).truncateDim).toBe(8);
  });

  it('refuses a truncate_dim over the hidden size, naming model.truncate_dim (or the file) and the valid range', () => {
    expect(() => loadModelLayout(TINY_BERT, spec({ truncate_dim: 65 }))).toThrow(
      `model.truncate_dim: 65 is more than the model's embedding dimension 64 (${TINY_BERT}); valid: integers from 1 to 64`,
    );
    const d = copy();
    writeFileSync(join(d, 'config_sentence_transformers.json'), JSON.stringify({ ...stConfig(TINY_BERT), truncate_dim: 100 }));
    expect(() => loadModelLayout(d, spec())).toThrow(
      `${join(d, 'config_sentence_transformers.json')} truncate_dim: 100 is more than the model's embedding dimension 64 (${d}); valid: integers from 1 to 64`,
    );
  });

  it('a saved model records truncate_dim in config_sentence_transformers.json as sentence-transformers does, and loads with it', () => {
    const out = join(temp(), 'model');
    saveSentenceTransformer(new Map(), loadModelLayout(TINY_BERT, spec({ truncate_dim: 16 })), out);
    expect(stConfig(out)).toMatchObject({ truncate_dim: 16, prompts: { query: '', document: '' }, similarity_fn_name: 'cosine' });
    expect(loadModelLayout(out, spec()).truncateDim).toBe(16);
    // without truncate_dim, none is written
    const full = join(temp(), 'model');
    saveSentenceTransformer(new Map(), loadModelLayout(TINY_BERT, spec()), full);
    expect(stConfig(full)).not.toHaveProperty('truncate_dim');
  });
});
