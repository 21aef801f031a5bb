import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import type { Example } from '../../core/types.js';

/** Repository root (this file is test/helpers/shared.ts). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared beside the repository root. */
export const SHARED = resolve(ROOT, '..', 'shared');
export const HAS_SHARED = existsSync(join(SHARED, 'fixtures', 'sentence-transformers'));

export function sharedPath(...parts: string[]): string {
  return join(SHARED, ...parts);
}

export const FIXTURE_DIR = sharedPath('fixtures', 'sentence-transformers');
export const TINY_BERT = sharedPath('fixtures', 'sentence-transformers', 'tiny-bert');
export const TRANSACTIONS = sharedPath('data', 'transactions');

/** describe() that skips, with a printed reason, when ../shared is absent. */
export function describeShared(name: string, fn: () => void): void {
  if (!HAS_SHARED) {
    console.warn(`[skip] ${name}: ../shared not found at ${SHARED}`);
    // describe.skip would still run `fn` (and its file reads): register a placeholder instead.
    describe(name, () => {
      it.skip(`needs ../shared (not found at ${SHARED})`, () => {});
    });
    return;
  }
  describe(name, fn);
}

/**
 * The reference data and the tiny BERT as experiment-file lines (train queries, eval queries,
 * the category corpus, the model), for tests that write their own experiments.
 */
export const TRANSACTIONS_EXPERIMENT = `dataset:
  type: jsonl
  queries: ${TRANSACTIONS}/train_transactions.jsonl
  eval: ${TRANSACTIONS}/eval_transactions.jsonl
  corpus: { path: ${TRANSACTIONS}/categories.json, text: category }
model: { path: ${TINY_BERT} }
`;

/**
 * Ten training transactions as examples for gradient tests: each (transaction, its category) with
 * two negatives, the next two categories in sorted order (never the positive).
 */
export function transactionsWithTwoNegatives(): Example[] {
  const rows = readFileSync(join(TRANSACTIONS, 'train_transactions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { input: string; expected: string[] });
  const cats = [...new Set(rows.map((r) => r.expected[0]!))].sort();
  return rows.slice(0, 10).map((r) => {
    const i = cats.indexOf(r.expected[0]!);
    return { anchor: r.input, positive: r.expected[0]!, negatives: [cats[(i + 1) % cats.length]!, cats[(i + 2) % cats.length]!] };
  });
}

/**
 * `--set` overrides that run a shipped transactions config (configs/bge.yaml and its kind) on the
 * fixture model: tiny-bert, the memory store, learning rate 1e-3; with `maxSteps`, that many
 * optimizer steps instead of the config's epochs; with `backend`, that backend entry.
 */
export function tinyBertSets(opts: { maxSteps?: number; backend?: string } = {}): string[] {
  return [
    '--set', `model={path: ${TINY_BERT}}`,
    ...(opts.backend ? ['--set', `backend=${opts.backend}`] : []),
    ...(opts.maxSteps !== undefined ? ['--set', 'training.epochs=null', '--set', `training.max_steps=${opts.maxSteps}`] : []),
    '--set', 'training.learning_rate=1e-3',
    '--set', 'store.type=memory',
  ];
}

/** The records of a JSONL file (events.jsonl, per_query.jsonl). */
export function readJsonl(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}
