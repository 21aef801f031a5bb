/**
 * Checks that need the loaded data (after validation, before any model loads). Each problem is
 * located at the config key that caused it, like the config checks.
 */
import type { LoadedConfig } from '../config/load.js';
import type { ExperimentConfig } from '../config/types.js';
import { UserError, didYouMean, formatProblem, type Problem } from '../errors.js';
import type { DatasetData, Query } from '../types.js';
import type { Registry } from '../registry.js';
import { methodOf } from '../train/methods.js';

/** `at`: the dataset entry the data came from (`dataset`, or an evaluation set `evaluate.sets.<name>`). */
export function checkData(config: ExperimentConfig, loaded: LoadedConfig, data: DatasetData, at0: Array<string | number> = ['dataset']): void {
  const problems: Problem[] = [];
  const at = (path: Array<string | number>, message: string) => {
    const loc = loaded.locate(path);
    problems.push({ ...loc, path: path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join(''), message });
  };
  const n = data.corpus.length;
  if (n === 0) at(at0, 'the corpus is empty: there is nothing to retrieve');
  config.evaluate.k.forEach((k, i) => {
    if (n > 0 && k > n) at(['evaluate', 'k', i], `k=${k} is larger than the corpus (${n} documents); use k ≤ ${n}`);
  });
  const ids = new Set(data.corpus.map((d) => d.id));
  const idList = [...ids];
  const missing = new Map<string, string>();
  for (const q of [...data.queries, ...(data.eval ?? [])]) {
    for (const r of q.relevant) if (!ids.has(r) && !missing.has(r)) missing.set(r, q.id);
  }
  if (missing.size > 0) {
    const shown = [...missing.entries()].slice(0, 5).map(([label, qid]) => {
      const hint = didYouMean(label, idList);
      return `"${label}" (${qid})${hint ? ` — did you mean "${hint}"?` : ''}`;
    });
    const more = missing.size > 5 ? ` and ${missing.size - 5} more` : '';
    at(at0, `${missing.size} expected label(s) are not in the corpus: ${shown.join(', ')}${more}`);
  }
  if (problems.length) {
    const lines = problems.map((p) => formatProblem(p));
    const message = lines.length === 1 ? lines[0]! : ['The data does not fit the config:', ...lines.map((l) => '  ' + l)].join('\n');
    throw new UserError('E_DATA', message, { problems });
  }
}

/**
 * With miner none every example's negatives are its record's own: a loss that needs a negative on
 * every example (it reads triplets) cannot train on a training record without one. Found after the
 * split, before any model loads; the error names the records (file:line for jsonl data), the loss
 * and the fixes, located at dataset.negatives.
 */
export function checkTrainingNegatives(config: ExperimentConfig, loaded: LoadedConfig, registry: Registry, train: readonly Query[]): void {
  if (!methodOf(config).trains || !config.loss || config.miner.type !== 'none') return;
  const loss = registry.get('loss', config.loss.type);
  if ((loss?.readsWith?.(config.loss)?.needs ?? loss?.needs) !== 'triplets') return;
  const without = train.filter((q) => !q.negatives || q.negatives.length === 0);
  if (without.length === 0) return;
  const path = (config.dataset as Record<string, unknown>).negatives !== undefined ? ['dataset', 'negatives'] : ['dataset'];
  const shown = without.slice(0, 5).map((q) => q.id).join(', ') + (without.length > 5 ? ` and ${without.length - 5} more` : '');
  const which = without.length === 1 ? `1 of ${train.length} training records has none: ${shown}` : `${without.length} of ${train.length} training records have none: ${shown}`;
  const problem: Problem = {
    ...loaded.locate(path),
    path: path.join('.'),
    message:
      `loss ${config.loss.type} needs a negative on every training example, and with miner none the negatives are each record's own, but ${which}. ` +
      "Add negatives to every record; or let a miner add them: miner random-negative or hard-negative with explicit_negatives: first (the default: each record's own negatives, then a mined one); " +
      'or use a loss that does not need negatives (e.g. multiple-negatives-ranking)',
  };
  throw new UserError('E_DATA', formatProblem(problem), { problems: [problem] });
}

/**
 * training.early_stopping watches the evaluation on the test split: a split without test queries
 * (a splitter that made none, or a `field` splitter whose data marks none) leaves it nothing to
 * watch. Found after the split, before any model loads, located at training.early_stopping.
 */
export function checkEarlyStoppingSplit(config: ExperimentConfig, loaded: LoadedConfig, test: readonly Query[]): void {
  if (!methodOf(config).trains || config.training.early_stopping === undefined || test.length > 0) return;
  const path = ['training', 'early_stopping'];
  const problem: Problem = {
    ...loaded.locate(path),
    path: path.join('.'),
    message: `needs a test split to evaluate on during training, but splitter ${config.splitter.type} made no test queries; hold some out (splitter ratio, or field with records marked test) or remove training.early_stopping`,
  };
  throw new UserError('E_DATA', formatProblem(problem), { problems: [problem] });
}
