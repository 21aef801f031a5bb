/**
 * The Hydra habits on the command line: `--sweep path=v1,v2,v3` (multirun: a grid from the
 * command line) and a did-you-mean for a positional `path=value` (`--set`, or `--sweep` when the
 * value is a comma-separated list).
 */
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { UserError } from '../errors.js';
import { parsePath } from '../config/path.js';

/** Top-level keys a sweep cannot change (as in core/config/sweep.ts). */
const NOT_SWEEPABLE = ['sweep', 'extends', 'plugins'];

/** Split `text` at the commas that are outside quotes, brackets and braces (`[1,5],[1,10]` → 2 items). */
export function splitTopLevel(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items;
}

/**
 * One `--sweep path=v1,v2,…` flag as the `--set` it stands for: `sweep.grid["path"]=[v1, v2, …]`
 * (each value parsed as YAML, as in Hydra: `1e-5` a number, `cls` a string, `[1,5]` a list).
 * A malformed flag is an E_USAGE error naming it.
 */
export function sweepFlagToSet(flag: string): string {
  const bad = (why: string) => new UserError('E_USAGE', `--sweep "${flag}": ${why}`);
  const eq = flag.indexOf('=');
  if (eq < 0) throw bad('expected path=value1,value2,… (e.g. --sweep training.learning_rate=1e-5,2e-5,5e-5)');
  const key = flag.slice(0, eq);
  const path = parsePath(key);
  if (typeof path === 'string') throw bad(path);
  if (NOT_SWEEPABLE.includes(String(path[0]))) throw bad(`"${path[0]}" cannot be swept`);
  const values = splitTopLevel(flag.slice(eq + 1)).map((text, i, all) => {
    if (text.trim() === '') throw bad(`value ${i + 1} of ${all.length} is empty`);
    try {
      return parse(text, { prettyErrors: false }) as unknown;
    } catch (e) {
      throw bad(`value ${i + 1} (${text}) is not valid YAML: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    }
  });
  const list = JSON.stringify(values);
  // what cannot be written as JSON (.inf, .nan) is refused rather than changed
  if (!isDeepStrictEqual(parse(list), values)) throw bad('a value cannot be passed on as written (.inf, .nan); use --set \'sweep.grid["path"]=[…]\' instead');
  return `sweep.grid[${JSON.stringify(key)}]=${list}`;
}

/** `arg` quoted for a POSIX shell when it needs it. */
function shellWord(arg: string): string {
  return /^[\w.,:@%+=/-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * A positional argument that reads as an override (`training.epochs=2`): the error with the flag
 * that was meant, `--set` (or `--sweep` for a comma list); undefined for anything else.
 */
export function overrideHint(command: string, arg: string, takesSweep: boolean): UserError | undefined {
  const eq = arg.indexOf('=');
  if (eq <= 0 || /^[./~]/.test(arg) || typeof parsePath(arg.slice(0, eq)) === 'string') return undefined;
  const flag = takesSweep && splitTopLevel(arg.slice(eq + 1)).length > 1 ? '--sweep' : '--set';
  return new UserError('E_USAGE', `ftrun ${command}: "${arg}" is not a file; did you mean ${flag} ${shellWord(arg)}? See: ftrun ${command} --help`);
}
