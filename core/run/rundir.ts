/**
 * Run directories (a contract, see docs/run-directory.md):
 *   <runs-dir>/<name>/<run-id>/   run-id = UTC timestamp + short hash of the resolved config.
 * A run directory is never overwritten: a clash gets a numeric suffix.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { makeDir, makeDirs } from '../fsutil.js';
import type { JsonSchema, OptionProblem } from '../types.js';
import { CONTRACT_ENTRIES, WORKING_FILE_PREFIX } from './records.js';

export function utcStamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/**
 * Create a fresh directory `<parent>/<prefix><stamp>-<hash>[-n]` and return its id and path.
 * Throws DirCreateError when it cannot be created (a file in the way, a read-only file system…).
 */
export function createUniqueDir(parent: string, prefix: string, hashOf: string): { id: string; dir: string } {
  makeDirs(parent);
  const base = `${prefix}${utcStamp()}-${shortHash(hashOf)}`;
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    const dir = join(parent, id);
    if (existsSync(dir)) continue;
    if (makeDir(dir)) return { id, dir }; // false if another process created it meanwhile
  }
}

/**
 * Why `file` cannot be a sink's output inside the run directory, or undefined when it can: it must
 * be a relative path that stays inside, and not one of the contract entries (nor below one).
 */
export function runFileProblem(file: string): string | undefined {
  if (isAbsolute(file) || /^[A-Za-z]:[\\/]/.test(file)) return `must be a path relative to the run directory, found "${file}"`;
  const parts = normalize(file).split(/[\\/]+/).filter((x) => x !== '' && x !== '.');
  if (parts.length === 0 || parts.includes('..')) return `must stay inside the run directory, found "${file}"`;
  if (CONTRACT_ENTRIES.includes(parts[0]!)) return `"${file}" would replace the run's own ${parts[0]} (the run directory's contract: ${CONTRACT_ENTRIES.join(', ')}); choose another name`;
  if (parts[0]!.startsWith(WORKING_FILE_PREFIX)) return `"${file}" would replace one of ftrun's own working files (${WORKING_FILE_PREFIX}*, e.g. the run's lock); choose another name`;
  return undefined;
}

/** The options of a sink that writes one report file into the run directory (`file`, `digits`). */
export function reportFileSchema(defaultFile: string): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      file: { type: 'string', minLength: 1, default: defaultFile, description: 'Report file name, relative to the run directory.' },
      digits: { type: 'integer', minimum: 0, maximum: 10, default: 3, description: 'Decimal places of metric values.' },
    },
  };
}

/** Such a sink's check(): `file` stays inside the run directory and leaves its contract files alone. */
export function reportFileCheck(defaultFile: string): (options: Record<string, unknown>) => OptionProblem[] {
  return (options) => {
    const problem = runFileProblem(String(options.file ?? defaultFile));
    return problem ? [{ path: ['file'], message: problem }] : [];
  };
}
