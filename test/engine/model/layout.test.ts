import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { loadModelLayout } from '../../../engine/model/layout.js';
import type { ModelSpec } from '../../../core/types.js';
import { TINY_BERT, describeShared } from '../../helpers/shared.js';

const spec = (o: Partial<ModelSpec> = {}): ModelSpec => ({ query_prompt: '', document_prompt: '', ...o });
const temps: string[] = [];
afterEach(() => temps.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of tiny-bert's small files (no weights) in a temp dir, to edit. */
function copy(): string {
  const d = mkdtempSync(join(tmpdir(), 'ftrun-layout-'));
  temps.push(d);
  cpSync(TINY_BERT, d, { recursive: true, filter: (src) => !/\.(onnx|safetensors)$/.test(src) });
  return d;
}
const write = (dir: string, file: string, v: unknown) => writeFileSync(join(dir, file), JSON.stringify(v));

describeShared('loadModelLayout', () => {
  it('reads the tiny-bert fixture', () => {
    const l = loadModelLayout(TINY_BERT, spec());
    expect(l).toMatchObject({
      dir: TINY_BERT,
      tokenizerFile: join(TINY_BERT, 'tokenizer.json'),
      onnxFile: join(TINY_BERT, 'model.onnx'),
      weightsFile: join(TINY_BERT, 'model.safetensors'),
      pooling: 'cls',
      normalize: true,
      maxSeqLength: 64, // no max_seq_length in sentence_bert_config.json: from the tokenizer's truncation
      queryPrompt: '',
      documentPrompt: '',
      hiddenSize: 64,
    });
    expect(l.config.model_type).toBe('bert');
  });

  it('lets the spec override pooling, normalize, max_seq_length and prompts', () => {
    const l = loadModelLayout(TINY_BERT, spec({ pooling: 'mean', normalize: false, max_seq_length: 16, query_prompt: 'q: ' }));
    expect(l).toMatchObject({ pooling: 'mean', normalize: false, maxSeqLength: 16, queryPrompt: 'q: ' });
    expect(() => loadModelLayout(TINY_BERT, spec({ max_seq_length: 512 }))).toThrow(/exceeds the model's max_position_embeddings 128/);
  });

  it('reads pooling flags, Normalize from modules.json, sbert max_seq_length, directory prompts', () => {
    const d = copy();
    write(d, '1_Pooling/config.json', { word_embedding_dimension: 64, pooling_mode_cls_token: false, pooling_mode_mean_tokens: false, pooling_mode_max_tokens: true });
    write(d, 'modules.json', [{ idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' }, { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' }]);
    rmSync(join(d, '2_Normalize'), { recursive: true });
    write(d, 'sentence_bert_config.json', { max_seq_length: 32, do_lower_case: false });
    write(d, 'config_sentence_transformers.json', { prompts: { query: 'query: ', passage: 'passage: ' } });
    const l = loadModelLayout(d, spec({ document_prompt: 'doc: ' }));
    expect(l).toMatchObject({ pooling: 'max', normalize: false, maxSeqLength: 32, queryPrompt: 'query: ', documentPrompt: 'doc: ' });
    expect(l.onnxFile).toBeUndefined();
    expect(l.weightsFile).toBeUndefined();
  });

  it('finds onnx/model.onnx, defaults to mean pooling without a Pooling module', () => {
    const d = copy();
    mkdirSync(join(d, 'onnx'));
    writeFileSync(join(d, 'onnx', 'model.onnx'), '');
    rmSync(join(d, '1_Pooling'), { recursive: true });
    rmSync(join(d, 'modules.json'));
    const l = loadModelLayout(d, spec());
    expect(l.onnxFile).toBe(join(d, 'onnx', 'model.onnx'));
    expect(l.pooling).toBe('mean');
    expect(l.normalize).toBe(true); // 2_Normalize still exists
  });

  it('refuses unsupported pooling modes naming the file and the choices', () => {
    const d = copy();
    write(d, '1_Pooling/config.json', { pooling_mode: 'lasttoken' });
    expect(() => loadModelLayout(d, spec())).toThrow(/1_Pooling\/config.json: pooling lasttoken is not supported; supported: cls, mean, max/);
    expect(loadModelLayout(d, spec({ pooling: 'cls' })).pooling).toBe('cls');
  });

  it('names the directory and what is missing', () => {
    const d = copy();
    rmSync(join(d, 'config.json'));
    rmSync(join(d, 'tokenizer.json'));
    let err: unknown;
    try {
      loadModelLayout(d, spec());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('E_MODEL');
    expect((err as UserError).message).toBe(
      `unreadable model directory ${d}: missing config.json and tokenizer.json (expected a Hugging Face model directory with config.json and tokenizer.json)`,
    );
    expect(() => loadModelLayout(join(d, 'nope'), spec())).toThrow(/does not exist/);
  });
});
