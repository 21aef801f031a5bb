/**
 * The SentencePiece (unigram) tokenizer of Universal Sentence Encoder lite, written to give the
 * same ids as the tokenizer of `@tensorflow-models/universal-sentence-encoder` (its
 * `Tokenizer.encode`, a port of SentencePiece's `EncodeAsIds`):
 *  - NFKC normalisation; a non-empty text gets a leading '▁' and every ASCII space becomes '▁'
 *    (tabs and newlines are not touched: they are unknown characters);
 *  - the vocabulary is a list of [piece, score] pairs; ids 0–5 are reserved (0 = unknown) and are
 *    never matched; a null score counts as 0 (JavaScript's `null + x`), a duplicated piece keeps
 *    its last id;
 *  - a lattice of every vocabulary piece that matches at every position (a character where no
 *    piece starts becomes one unknown, score 0), then a Viterbi pass that keeps the best total
 *    score per end position, with the reference's tie and "0 = unset" rules, and a backward pass
 *    that steps back by each chosen piece's length;
 *  - consecutive unknowns are merged into one id 0.
 * Iteration is by Unicode code point, so astral characters (emoji) are one symbol each.
 *
 * Option `whitespace: 'collapse'` (not the reference's behaviour) first turns every run of
 * whitespace (newlines and tabs included) into one space and trims the ends, as SentencePiece's
 * own default normaliser (nmt_nfkc, remove_extra_whitespaces) does; the reference port instead
 * keeps every space and sends newlines and tabs through as unknowns.
 */

export const SEPARATOR = '\u2581';
/** Ids below this are reserved (unknown, control and user-defined symbols). */
export const RESERVED_IDS = 6;
export const UNKNOWN_ID = 0;

/** A SentencePiece vocabulary as shipped in vocab.json: [piece, score] (score may be null). */
export type Vocabulary = ReadonlyArray<readonly [string, number | null]>;

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Vocabulary id when a piece ends here, else -1. */
  id: number;
  score: number;
}

const newNode = (): TrieNode => ({ children: new Map(), id: -1, score: 0 });

/** `reference`: as @tensorflow-models/universal-sentence-encoder; `collapse`: whitespace runs become one space, ends trimmed. */
export type WhitespaceMode = 'reference' | 'collapse';

export interface TokenizerOptions {
  /** Default `reference`. */
  whitespace?: WhitespaceMode;
}

/** Normalise: NFKC (then, with `collapse`, one space per whitespace run, trimmed), then '▁' before the text and for each ASCII space. */
export function normalizeInput(text: string, whitespace: WhitespaceMode = 'reference'): string {
  let nfkc = text.normalize('NFKC');
  if (whitespace === 'collapse') nfkc = nfkc.replace(/\s+/g, ' ').trim();
  return nfkc.length > 0 ? SEPARATOR + nfkc.replace(/ /g, SEPARATOR) : nfkc;
}

export class SentencePieceTokenizer {
  private readonly root = newNode();
  /**
   * UTF-16 length of each piece (at least 1): the step of the backward pass, as in the reference.
   * It equals the code-point length for vocabularies without astral characters (use-lite's).
   */
  private readonly stepOf: Int32Array;

  readonly whitespace: WhitespaceMode;

  constructor(
    readonly vocabulary: Vocabulary,
    options: TokenizerOptions = {},
  ) {
    this.whitespace = options.whitespace ?? 'reference';
    if (vocabulary.length <= RESERVED_IDS) throw new Error(`SentencePiece vocabulary has only ${vocabulary.length} entries`);
    this.stepOf = new Int32Array(vocabulary.length);
    for (let id = 0; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id]!;
      this.stepOf[id] = Math.max(1, piece.length);
      if (id < RESERVED_IDS || piece.length === 0) continue;
      let node = this.root;
      for (const ch of piece) {
        let next = node.children.get(ch);
        if (!next) node.children.set(ch, (next = newNode()));
        node = next;
      }
      node.id = id;
      node.score = score ?? 0;
    }
  }

  get size(): number {
    return this.vocabulary.length;
  }

  /** The piece string of an id. */
  piece(id: number): string {
    const entry = this.vocabulary[id];
    if (!entry) throw new Error(`token id ${id} is outside the vocabulary (size ${this.vocabulary.length})`);
    return entry[0];
  }

  /** Token ids of one text (an empty text gives no ids). */
  encode(text: string): number[] {
    const symbols = Array.from(normalizeInput(text, this.whitespace));
    const n = symbols.length;
    // Candidates ending at each position, in ascending start order (the reference's order).
    const startAt: number[][] = Array.from({ length: n + 1 }, () => []);
    const idAt: number[][] = Array.from({ length: n + 1 }, () => []);
    const scoreAt: number[][] = Array.from({ length: n + 1 }, () => []);
    for (let i = 0; i < n; i++) {
      let node = this.root.children.get(symbols[i]!);
      let found = false;
      for (let j = i; node; ) {
        if (node.id >= 0) {
          startAt[j + 1]!.push(i);
          idAt[j + 1]!.push(node.id);
          scoreAt[j + 1]!.push(node.score);
          found = true;
        }
        j++;
        node = j < n ? node.children.get(symbols[j]!) : undefined;
      }
      if (!found) {
        startAt[i + 1]!.push(i);
        idAt[i + 1]!.push(UNKNOWN_ID);
        scoreAt[i + 1]!.push(0);
      }
    }

    // Viterbi: best total score per end position; 0 means "not set yet", ties go to the later
    // (shorter) candidate, exactly as the reference compares.
    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);
    for (let end = 0; end <= n; end++) {
      const starts = startAt[end]!;
      for (let c = 0; c < starts.length; c++) {
        const score = scoreAt[end]![c]! + best[starts[c]!]!;
        if (best[end] === 0 || score >= best[end]!) {
          best[end] = score;
          words[end] = idAt[end]![c]!;
        }
      }
    }

    const reversed: number[] = [];
    for (let pos = n; pos > 0; pos -= this.stepOf[words[pos]!]!) reversed.push(words[pos]!);

    const ids: number[] = [];
    for (let k = reversed.length - 1; k >= 0; k--) {
      const id = reversed[k]!;
      if (id === UNKNOWN_ID && ids.length > 0 && ids[ids.length - 1] === UNKNOWN_ID) continue;
      ids.push(id);
    }
    return ids;
  }

  /** Token pieces of one text (for inspection and tests). */
  tokenize(text: string): string[] {
    return this.encode(text).map((id) => this.piece(id));
  }
}
