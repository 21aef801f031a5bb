/** ftrun's version, read once from its package.json (from the sources or from dist/). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FTRUN_VERSION: string = (() => {
  for (const up of [['..', '..'], ['..', '..', '..']]) {
    try {
      const j = JSON.parse(readFileSync(resolve(fileURLToPath(import.meta.url), ...up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (j.name === 'ftrun' && j.version) return j.version;
    } catch {
      /* try the next */
    }
  }
  return 'unknown';
})();
