/**
 * The generation cache: one JSON file per generated query, keyed by the SHA-256 of (model, the
 * prompt as rendered, the document text, the sample index), written atomically as each answer
 * arrives. A rerun, `ftrun resume` and every sweep trial with the same model, prompt and documents
 * read their answers back without a request; a generation that stopped half way keeps what was
 * answered. Only good answers are stored (a malformed one is asked again next time).
 *
 * Layout: `<cache_dir>/<first 2 hex digits>/<sha256>.json` holding `{ model, index, query, raw }`.
 * The default cache_dir is `$FTRUN_CACHE/generations`, else `$XDG_CACHE_HOME/ftrun/generations`,
 * else `~/.cache/ftrun/generations`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../../core/fsutil.js';

/** The default folder of cached generations, from the environment. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.FTRUN_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ftrun');
  return join(root, 'generations');
}

/** What one cached generation holds. */
export interface CachedGeneration {
  model: string;
  index: number;
  /** The query parsed from the answer. */
  query: string;
  /** The answer's text as the server sent it. */
  raw: string;
}

/** The key of one generation: model, rendered prompt, document text and sample index. */
export function generationKey(model: string, prompt: string, document: string, index: number): string {
  const h = createHash('sha256');
  // Each part length-prefixed, so that no two different tuples hash the same text.
  for (const part of [model, prompt, document, String(index)]) h.update(`${Buffer.byteLength(part)}:${part}\n`);
  return h.digest('hex');
}

export class GenerationCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  /** The cached generation of `key`; undefined when there is none (or the file is not one). */
  get(key: string): CachedGeneration | undefined {
    let text: string;
    try {
      text = readFileSync(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const v = JSON.parse(text) as CachedGeneration;
      return typeof v.query === 'string' && v.query !== '' ? v : undefined;
    } catch {
      return undefined;
    }
  }

  put(key: string, value: CachedGeneration): void {
    writeJsonAtomic(this.file(key), value);
  }
}
