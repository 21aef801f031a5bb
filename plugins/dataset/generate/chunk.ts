/**
 * Long documents split into chunks of words for query generation. A document of at most
 * max_words words stays whole (its id and text unchanged); a longer one becomes windows of
 * max_words words, each starting max_words − overlap words after the previous one, the last
 * ending at the document's last word. Chunk texts are the words joined by single spaces; chunk ids
 * are `<document id>#<n>` (n from 1). The chunks are the corpus the generated queries retrieve.
 */
import { UserError } from '../../../core/errors.js';
import type { Doc } from '../../../core/types.js';

export interface ChunkOptions {
  max_words: number;
  overlap: number;
}

/** The chunks of `text` (the text itself when it is short enough). */
export function chunkText(text: string, o: ChunkOptions): string[] {
  const words = text.split(/\s+/).filter((w) => w !== '');
  if (words.length <= o.max_words) return [text];
  const step = o.max_words - o.overlap;
  const out: string[] = [];
  for (let start = 0; ; start += step) {
    const end = Math.min(start + o.max_words, words.length);
    out.push(words.slice(start, end).join(' '));
    if (end === words.length) break;
  }
  return out;
}

/** The documents as chunks, and for each document id the ids of its chunks. */
export function chunkCorpus(docs: Doc[], o: ChunkOptions): { chunks: Doc[]; of: Map<string, string[]> } {
  const chunks: Doc[] = [];
  const of = new Map<string, string[]>();
  const docIds = new Set(docs.map((d) => d.id));
  for (const d of docs) {
    const parts = chunkText(d.text, o);
    const ids = parts.length === 1 ? [d.id] : parts.map((_, i) => `${d.id}#${i + 1}`);
    const taken = parts.length > 1 ? ids.find((id) => docIds.has(id)) : undefined;
    if (taken !== undefined) {
      throw new UserError('E_DATA', `dataset.chunk: document "${d.id}" (${parts.length} chunks of chunk.max_words ${o.max_words} words) would have a chunk "${taken}", which is another document's id; rename that document or raise chunk.max_words`);
    }
    parts.forEach((text, i) => chunks.push({ id: ids[i]!, text }));
    of.set(d.id, ids);
  }
  return { chunks, of };
}
