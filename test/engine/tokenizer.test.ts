import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { Tokenizer } from '../../engine/tokenizer.js';
import { FIXTURE_DIR, ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

interface EncodeFixture {
  texts: string[];
  input_ids: number[][];
  attention_mask: number[][];
  max_seq_length: number;
}

describeShared('Tokenizer on the tiny-bert fixture', () => {
  const fx = JSON.parse(readFileSync(join(FIXTURE_DIR, 'encode.json'), 'utf8')) as EncodeFixture;
  const tok = Tokenizer.fromFile(join(TINY_BERT, 'tokenizer.json'));

  it('reproduces the HF input_ids and attention_mask of the 20 probe texts', () => {
    const b = tok.encodeBatch(fx.texts, fx.max_seq_length);
    expect(b.inputIds).toEqual(fx.input_ids);
    expect(b.attentionMask).toEqual(fx.attention_mask);
    expect(b.seqLen).toBe(fx.input_ids[0]!.length);
    expect(b.tokenTypeIds.every((row) => row.every((v) => v === 0))).toBe(true);
  });

  it('encodes one text like the batch, without padding, and follows the file (no [CLS]/[SEP])', () => {
    const one = tok.encode(fx.texts[3]!, fx.max_seq_length);
    const n = fx.attention_mask[3]!.reduce((a, v) => a + v, 0);
    expect(one.ids).toEqual(fx.input_ids[3]!.slice(0, n));
    expect(one.ids).not.toContain(2);
    expect(tok.vocabSize).toBe(1200);
    expect(tok.padId).toBe(0);
  });

  it('truncates to maxLength', () => {
    expect(tok.encode(fx.texts[0]!, 5).ids).toEqual(fx.input_ids[0]!.slice(0, 5));
  });
});

describe('Tokenizer with BertProcessing (hand-made tokenizer.json)', () => {
  const tok = Tokenizer.fromFile(join(ROOT, 'test', 'fixtures', 'tokenizer-bert.json'));
  const V = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'tokenizer-bert.json'), 'utf8')).model.vocab as Record<string, number>;
  const ids = (...toks: string[]) => toks.map((t) => V[t]!);

  it('wraps content in [CLS] … [SEP]', () => {
    expect(tok.encode('Hello world', 64).ids).toEqual(ids('[CLS]', 'hello', 'world', '[SEP]'));
  });

  it('truncation keeps the final [SEP]', () => {
    expect(tok.encode('hello world hello world', 4).ids).toEqual(ids('[CLS]', 'hello', 'world', '[SEP]'));
    expect(tok.encode('hello world', 2).ids).toEqual(ids('[CLS]', '[SEP]'));
  });

  it('splits WordPiece subwords, punctuation, accents, Chinese characters, control chars', () => {
    expect(tok.encode('Héllo, worlds!', 64).ids).toEqual(ids('[CLS]', 'hello', ',', 'world', '##s', '!', '[SEP]'));
    expect(tok.encode('hello\u0007\u00a0中world', 64).ids).toEqual(ids('[CLS]', 'hello', '中', 'world', '[SEP]'));
    expect(tok.encode('$5', 64).ids).toEqual(ids('[CLS]', '$', '[UNK]', '[SEP]'));
  });

  it('matches special tokens written in the text', () => {
    expect(tok.encode('hello [SEP] world', 64).ids).toEqual(ids('[CLS]', 'hello', '[SEP]', 'world', '[SEP]'));
  });

  it('pads to the longest with pad id and mask 0', () => {
    const b = tok.encodeBatch(['hello', 'hello world'], 64);
    expect(b.seqLen).toBe(4);
    expect(b.inputIds[0]).toEqual([...ids('[CLS]', 'hello', '[SEP]'), V['[PAD]']]);
    expect(b.attentionMask).toEqual([[1, 1, 1, 0], [1, 1, 1, 1]]);
    expect(b.tokenTypeIds).toEqual([[0, 0, 0, 0], [0, 0, 0, 0]]);
  });

  it('refuses other tokenizer models with E_MODEL naming what is supported', () => {
    const bad = { model: { type: 'BPE', vocab: {}, merges: [] } };
    expect(() => new Tokenizer(bad, 'x/tokenizer.json')).toThrow(UserError);
    expect(() => new Tokenizer(bad, 'x/tokenizer.json')).toThrow(/x\/tokenizer.json: unsupported tokenizer model type "BPE"; supported: WordPiece/);
  });
});

describe('Tokenizer against Python tokenizers on tricky Unicode (test/fixtures/tokenizer-unicode.json)', () => {
  const fx = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'tokenizer-unicode.json'), 'utf8'));
  const texts = fx.texts as string[];
  for (const [name, variant] of Object.entries(fx.variants as Record<string, object>)) {
    it(`matches encode(), type ids and truncation for the ${name} variant`, () => {
      const tok = new Tokenizer({ ...fx.tokenizer, ...variant }, name);
      const exp = fx.expected[name];
      expect(texts.map((s) => tok.encode(s, 1e6).ids)).toEqual(exp.full);
      expect(texts.map((s) => tok.encode(s, 1e6).typeIds)).toEqual(exp.types);
      expect(texts.map((s) => tok.encode(s, 6).ids)).toEqual(exp.trunc6);
    });
  }
  it('matches transformers batch padding + truncation', () => {
    const b = new Tokenizer(fx.tokenizer).encodeBatch(texts, 8);
    expect(b.inputIds).toEqual(fx.hf_batch8.input_ids);
    expect(b.attentionMask).toEqual(fx.hf_batch8.attention_mask);
  });
});
