/**
 * A re-implementation of the Hugging Face `tokenizers` pipeline for BERT-family (WordPiece)
 * tokenizer.json files, matching Python exactly, batching included:
 *   added tokens (split first) → BertNormalizer → BertPreTokenizer → WordPiece
 *   → truncation (content cut to max − special tokens, right side) → post-processor
 *   (TemplateProcessing / BertProcessing / RobertaProcessing) → padding to the batch's longest.
 * Other model types (BPE, Unigram…) are refused with E_MODEL.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';

type Json = Record<string, any>;

interface AddedToken {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
}

export interface PaddedBatch {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
  seqLen: number;
}

/** The special tokens a post-processor adds around one sequence. */
interface Template {
  prefix: number[];
  prefixTypes: number[];
  suffix: number[];
  suffixTypes: number[];
  typeId: number;
}

const WS = /^\p{White_Space}$/u;
const CONTROL = /^\p{C}$/u;
const PUNCT = /^[\p{P}!-/:-@[-`{-~]$/u;
const MARK_NONSPACING = /\p{Mn}/gu;
const WORD_CHAR = /^[\p{L}\p{N}_]$/u;

const ASCII_ONLY = /^[\x00-\x7f]*$/;
const SURROGATE = /[\ud800-\udfff]/;
/** ASCII fast path: 1 = whitespace, 2 = control (other than \t \n \r), 4 = punctuation. */
const ASCII_CLASS = new Uint8Array(128).map((_, cp) => {
  const c = String.fromCharCode(cp);
  return (WS.test(c) ? 1 : 0) | (CONTROL.test(c) && !'\t\n\r'.includes(c) ? 2 : 0) | (PUNCT.test(c) ? 4 : 0);
});

const isWhitespace = (c: string): boolean => {
  const cp = c.charCodeAt(0);
  return cp < 128 ? (ASCII_CLASS[cp]! & 1) !== 0 : WS.test(c);
};
const isControl = (c: string): boolean => {
  const cp = c.charCodeAt(0);
  return cp < 128 ? (ASCII_CLASS[cp]! & 2) !== 0 : CONTROL.test(c);
};
const isPunct = (c: string): boolean => {
  const cp = c.charCodeAt(0);
  return cp < 128 ? (ASCII_CLASS[cp]! & 4) !== 0 : PUNCT.test(c);
};

function isChinese(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export class Tokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly padTypeId: number;
  private readonly vocab: Map<string, number>;
  private readonly unkId: number;
  private readonly prefix: string;
  private readonly maxWordChars: number;
  private readonly normalizer: ((s: string) => string) | null;
  private readonly template: Template;
  /** Added tokens matched on the raw text / on normalized text, indexed by first UTF-16 unit, longest first. */
  private readonly rawAdded: Map<string, AddedToken[]>;
  private readonly normAdded: Map<string, AddedToken[]>;

  static fromFile(path: string): Tokenizer {
    let json: Json;
    try {
      json = JSON.parse(readFileSync(path, 'utf8')) as Json;
    } catch (e) {
      throw new UserError('E_MODEL', `unreadable tokenizer file ${path}: ${(e as Error).message}`, { cause: e });
    }
    return new Tokenizer(json, path);
  }

  constructor(json: Json, source = 'tokenizer.json') {
    const fail = (what: string): never => {
      throw new UserError('E_MODEL', `${source}: ${what}`);
    };
    const model = (json.model ?? {}) as Json;
    if (model.type !== 'WordPiece') {
      fail(`unsupported tokenizer model type "${model.type}"; supported: WordPiece (BERT-family tokenizers)`);
    }
    this.vocab = new Map(Object.entries(model.vocab as Record<string, number>));
    this.prefix = model.continuing_subword_prefix ?? '##';
    this.maxWordChars = model.max_input_chars_per_word ?? 100;
    const unk = this.vocab.get(model.unk_token ?? '[UNK]');
    this.unkId = unk ?? fail(`unknown token "${model.unk_token}" is not in the vocabulary`);

    const norm = json.normalizer as Json | null;
    if (norm && norm.type !== 'BertNormalizer') fail(`unsupported normalizer "${norm.type}"; supported: BertNormalizer or none`);
    this.normalizer = norm ? bertNormalizer(norm) : null;

    const added = (json.added_tokens ?? []) as AddedToken[];
    const ids = new Set(this.vocab.values());
    for (const t of added) ids.add(t.id);
    this.vocabSize = ids.size;
    const normalize = (t: AddedToken): AddedToken =>
      t.normalized && this.normalizer ? { ...t, content: this.normalizer(t.content) } : t;
    this.rawAdded = indexTokens(added.filter((t) => !t.normalized));
    this.normAdded = indexTokens(added.filter((t) => t.normalized).map(normalize));
    const pre = json.pre_tokenizer as Json | null;
    if (pre && pre.type !== 'BertPreTokenizer') fail(`unsupported pre_tokenizer "${pre.type}"; supported: BertPreTokenizer`);
    this.template = parsePostProcessor(json.post_processor as Json | null, fail);

    const padding = json.padding as Json | null;
    this.padId = padding?.pad_id ?? this.vocab.get('[PAD]') ?? 0;
    this.padTypeId = padding?.pad_type_id ?? 0;
  }

  /** Token ids (special tokens included) and token type ids of one text, truncated to maxLength. */
  encode(text: string, maxLength: number): { ids: number[]; typeIds: number[] } {
    const t = this.template;
    const content = this.tokenize(text).slice(0, Math.max(0, maxLength - t.prefix.length - t.suffix.length));
    return {
      ids: [...t.prefix, ...content, ...t.suffix],
      typeIds: [...t.prefixTypes, ...content.map(() => t.typeId), ...t.suffixTypes],
    };
  }

  /** Encodes every text and pads (right) to the longest of the batch. */
  encodeBatch(texts: string[], maxLength: number): PaddedBatch {
    return this.pad(texts.map((s) => this.encode(s, maxLength)));
  }

  /** Pads encodings (right) to the longest with padId / padTypeId; the attention mask marks real tokens. */
  pad(enc: Array<{ ids: number[]; typeIds: number[] }>): PaddedBatch {
    const seqLen = enc.reduce((m, e) => Math.max(m, e.ids.length), 0);
    const pad = (a: number[], v: number): number[] => a.concat(new Array<number>(seqLen - a.length).fill(v));
    return {
      inputIds: enc.map((e) => pad(e.ids, this.padId)),
      attentionMask: enc.map((e) => pad(e.ids.map(() => 1), 0)),
      tokenTypeIds: enc.map((e) => pad(e.typeIds, this.padTypeId)),
      seqLen,
    };
  }

  /** Content token ids, without special tokens or truncation. */
  tokenize(text: string): number[] {
    const out: number[] = [];
    for (const piece of this.splitAdded(text, this.rawAdded)) {
      if (typeof piece === 'number') {
        out.push(piece);
        continue;
      }
      const norm = this.normalizer ? this.normalizer(piece) : piece;
      for (const sub of this.splitAdded(norm, this.normAdded)) {
        if (typeof sub === 'number') out.push(sub);
        else for (const word of preTokenize(sub)) this.wordPiece(word, out);
      }
    }
    return out;
  }

  /** Splits on added tokens (leftmost-longest, with single_word / lstrip / rstrip like HF). */
  private splitAdded(text: string, tokens: Map<string, AddedToken[]>): Array<string | number> {
    if (tokens.size === 0 || text.length === 0) return text ? [text] : [];
    const parts: Array<string | number> = [];
    let last = 0; // end of the previous accepted match
    let i = 0;
    while (i < text.length) {
      const tok = tokens.get(text[i]!)?.find((t) => text.startsWith(t.content, i));
      if (!tok) {
        i++;
        continue;
      }
      let start = i;
      let stop = i + tok.content.length;
      if (tok.single_word) {
        const before = start > 0 ? lastChar(text.slice(0, start)) : '';
        const after = stop < text.length ? String.fromCodePoint(text.codePointAt(stop)!) : '';
        if (WORD_CHAR.test(before) || WORD_CHAR.test(after)) {
          i = stop;
          continue;
        }
      }
      if (tok.lstrip) while (start > last && isWhitespace(text[start - 1]!)) start--;
      if (tok.rstrip) while (stop < text.length && isWhitespace(text[stop]!)) stop++;
      if (start > last) parts.push(text.slice(last, start));
      parts.push(tok.id);
      last = i = stop;
    }
    if (last < text.length) parts.push(text.slice(last));
    return parts;
  }

  private wordPiece(word: string, out: number[]): void {
    // Code points; a word without surrogates is sliced as a plain string.
    const chars: string | string[] = SURROGATE.test(word) ? Array.from(word) : word;
    if (chars.length > this.maxWordChars) {
      out.push(this.unkId);
      return;
    }
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let id: number | undefined;
      while (start < end) {
        const part = typeof chars === 'string' ? chars.slice(start, end) : chars.slice(start, end).join('');
        const sub = start > 0 ? this.prefix + part : part;
        id = this.vocab.get(sub);
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) {
        out.push(this.unkId);
        return;
      }
      pieces.push(id);
      start = end;
    }
    out.push(...pieces);
  }
}

function indexTokens(tokens: AddedToken[]): Map<string, AddedToken[]> {
  const map = new Map<string, AddedToken[]>();
  for (const t of tokens) {
    if (!t.content) continue;
    const list = map.get(t.content[0]!) ?? [];
    list.push(t);
    map.set(t.content[0]!, list);
  }
  for (const list of map.values()) list.sort((a, b) => b.content.length - a.content.length);
  return map;
}

function lastChar(s: string): string {
  const cp = s.codePointAt(s.length - 1)!;
  return cp >= 0xdc00 && cp <= 0xdfff && s.length > 1 ? s.slice(-2) : s.slice(-1);
}

/** HF BertNormalizer: clean_text, handle_chinese_chars, strip_accents (null → lowercase), lowercase. */
function bertNormalizer(cfg: Json): (s: string) => string {
  const clean = cfg.clean_text !== false;
  const chinese = cfg.handle_chinese_chars !== false;
  const lowercase = cfg.lowercase !== false;
  const strip = (cfg.strip_accents ?? lowercase) as boolean;
  return (s: string) => {
    let out = '';
    for (const c of s) {
      const cp = c.codePointAt(0)!;
      if (clean) {
        if (cp === 0 || cp === 0xfffd || isControl(c)) continue;
        if (isWhitespace(c)) {
          out += ' ';
          continue;
        }
      }
      out += chinese && isChinese(cp) ? ` ${c} ` : c;
    }
    const ascii = ASCII_ONLY.test(out);
    if (strip && !ascii) out = out.normalize('NFD').replace(MARK_NONSPACING, '');
    if (lowercase && ascii) out = out.toLowerCase();
    else if (lowercase) {
      let low = '';
      for (const c of out) low += c.toLowerCase(); // per character, like Rust's char::to_lowercase
      out = low;
    }
    return out;
  };
}

/** HF BertPreTokenizer: split on whitespace (removed), isolate each punctuation character. */
function preTokenize(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  for (const c of s) {
    if (isWhitespace(c) || isPunct(c)) {
      if (cur) words.push(cur);
      cur = '';
      if (!isWhitespace(c)) words.push(c);
    } else cur += c;
  }
  if (cur) words.push(cur);
  return words;
}

function parsePostProcessor(pp: Json | null, fail: (what: string) => never): Template {
  const t: Template = { prefix: [], prefixTypes: [], suffix: [], suffixTypes: [], typeId: 0 };
  if (!pp) return t;
  if (pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing') {
    return { prefix: [pp.cls[1]], prefixTypes: [0], suffix: [pp.sep[1]], suffixTypes: [0], typeId: 0 };
  }
  if (pp.type !== 'TemplateProcessing') {
    fail(`unsupported post_processor "${pp.type}"; supported: TemplateProcessing, BertProcessing, RobertaProcessing or none`);
  }
  let seen = false;
  for (const item of pp.single as Json[]) {
    if (item.Sequence) {
      seen = true;
      t.typeId = item.Sequence.type_id ?? 0;
    } else if (item.SpecialToken) {
      const special = (pp.special_tokens as Json)[item.SpecialToken.id] as Json | undefined;
      const ids = (special?.ids as number[] | undefined) ?? fail(`post_processor special token "${item.SpecialToken.id}" is not defined`);
      (seen ? t.suffix : t.prefix).push(...ids);
      (seen ? t.suffixTypes : t.prefixTypes).push(...ids.map(() => item.SpecialToken.type_id ?? 0));
    }
  }
  return t;
}
