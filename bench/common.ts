/**
 * What the benchmarks share: their command-line options, one output line per measurement (plain
 * `key=value` pairs, or JSON with --json), the median, and where ../shared's fixture and data are.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARGS = process.argv.slice(2);

/** The value of `--name`, else `dflt`. */
export function opt(name: string, dflt: string): string {
  const i = ARGS.indexOf(`--${name}`);
  return i >= 0 && ARGS[i + 1] ? ARGS[i + 1]! : dflt;
}

const json = ARGS.includes('--json');

/** One measurement: a line of `key=value` pairs, or of JSON with --json. */
export function report(r: Record<string, unknown>): void {
  const what = Object.entries(r).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : String(v)}`).join('  ');
  console.log(json ? JSON.stringify(r) : what);
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** ../shared beside the repository (benchmarks run from dist/bench/). */
export const SHARED = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');
export const FIXTURE = join(SHARED, 'fixtures', 'sentence-transformers', 'tiny-bert');
export const TRAIN_FILE = join(SHARED, 'data', 'transactions', 'train_transactions.jsonl');
