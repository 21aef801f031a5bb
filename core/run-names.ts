/**
 * Naming a run or sweep on the command line — one resolver for every command that takes a run
 * directory (diff, compare, resume, rm, sweep collect/status):
 * - a path to the directory (always wins when it exists);
 * - `latest`: the newest run or sweep under the runs directory (`--runs-dir`, default ./runs), as
 *   `ftrun ls` orders them; `latest~N`: the one N before it (`latest~1` is the second newest);
 * - a unique prefix of a run or sweep id (`20250102-0304`, `sweep-2025…`), as `ftrun ls` shows them.
 * An id prefix that matches more than one is a usage error listing the matches (exit 2).
 */
import { existsSync, statSync } from 'node:fs';
import { listRuns, type LsEntry } from './commands/ls.js';
import { UserError } from './errors.js';

const HOW = 'name a run by its directory, latest, latest~N or a unique id prefix; ftrun ls lists them';

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `name/id` of an entry, as ftrun ls shows it. */
export function entryName(e: Pick<LsEntry, 'name' | 'id'>): string {
  return `${e.name}/${e.id}`;
}

/**
 * The directory `ref` names (see the module comment). An existing path, or something that is
 * neither `latest~N` nor an id, comes back as given (the command says what is wrong with it).
 * `runsDir` is where `latest` and id prefixes are looked up; `flag` is how the user sets it.
 */
export function resolveRunRef(ref: string, runsDir: string, flag = '--runs-dir'): string {
  if (existsSync(ref)) return ref;
  const latest = /^latest(?:~([0-9]+))?$/.exec(ref);
  // A path (or no runs directory to look an id up in): the command says what is wrong with it.
  if (!latest && (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ref) || !isDir(runsDir))) return ref;
  if (!isDir(runsDir)) {
    throw new UserError('E_RUN', `${ref}: no runs directory ${runsDir} to find the latest run in (${flag} DIR names it)`);
  }
  const entries = listRuns(runsDir);
  if (latest) {
    const back = Number(latest[1] ?? 0);
    const e = entries[entries.length - 1 - back];
    if (!e) {
      const n = entries.length;
      throw new UserError('E_RUN', `${ref}: ${runsDir} has ${n === 0 ? 'no runs' : `${n} run${n === 1 ? '' : 's'} (sweeps count as one): ${n === 1 ? 'latest' : `latest to latest~${n - 1}`}`}`);
    }
    return e.dir;
  }
  const matches = entries.filter((e) => e.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!.dir;
  if (matches.length === 0) {
    throw new UserError('E_RUN', `${ref}: no such run directory, and no run or sweep id in ${runsDir} starts with it (${HOW})`);
  }
  const shown = matches.map((e) => `  ${entryName(e)}`).join('\n');
  throw new UserError('E_USAGE', `${ref}: ambiguous run id prefix: ${matches.length} runs and sweeps in ${runsDir} start with it; give more of the id:\n${shown}`);
}
