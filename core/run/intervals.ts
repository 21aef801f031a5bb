/**
 * The intervals of a run's Δs (fine-tuned − base, merged − base; on the primary set and on each
 * set of `evaluate.sets`) from its per-query results (per_query.jsonl rows), by core/stats.ts:
 * what metrics.json records as `delta_ci`, `delta_merged_ci`, `sets_delta_ci` and `ci`, and what
 * the console table and the reports show.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl } from '../fsutil.js';
import { modelLabel } from '../report.js';
import { intervalsOf, pairedDeltas, perQueryMetrics, STATS, type DeltaInterval, type PairedDelta } from '../stats.js';
import { PER_QUERY_JSONL, type PerQuery } from './records.js';

/** Intervals of one comparison, by metric. */
export type Intervals = Record<string, DeltaInterval>;

/** metrics.json `ci`: how the intervals were computed. */
export interface IntervalsInfo {
  method: string;
  confidence: number;
  resamples: number;
  permutations: number;
  seed: number;
  alpha: number;
  /** Queries of the primary set the Δs are paired over. */
  queries: number;
}

export interface RunIntervals {
  delta_ci?: Intervals;
  delta_merged_ci?: Intervals;
  /** `evaluate.sets`: per set, per model compared with base (`finetuned`, `merged`). */
  sets_delta_ci?: Record<string, Record<string, Intervals>>;
  ci?: IntervalsInfo;
}

export const INTERVALS_METHOD = 'paired bootstrap over queries, percentile interval; two-sided paired randomization test (sign flips), p = (hits + 1) / (permutations + 1)';

/** per_query.jsonl of a run directory ([] when absent). */
export function readPerQueryRows(runDir: string): PerQuery[] {
  const file = join(runDir, PER_QUERY_JSONL);
  return existsSync(file) ? readJsonl<PerQuery>(file) : [];
}

/** `model` − base on `set` (the primary set when undefined), or undefined when either has no query there. */
function versusBase(rows: readonly PerQuery[], model: string, set?: string): { n: number; ci: Intervals } | undefined {
  const base = perQueryMetrics(rows, 'base', set);
  const other = perQueryMetrics(rows, model, set);
  if (!base.size || !other.size) return undefined;
  const r = pairedDeltas(base, other);
  return r.paired ? { n: r.paired, ci: intervalsOf(r.metrics) } : undefined;
}

/** The intervals of every Δ a run reports, from its per-query rows; {} when there is no Δ (no base, or nothing to compare it with). */
export function runIntervals(rows: readonly PerQuery[]): RunIntervals {
  const out: RunIntervals = {};
  const tuned = versusBase(rows, 'finetuned');
  const merged = versusBase(rows, 'merged');
  if (tuned) out.delta_ci = tuned.ci;
  if (merged) out.delta_merged_ci = merged.ci;
  const sets = [...new Set(rows.map((r) => r.set).filter((s): s is string => s !== undefined))];
  for (const set of sets) {
    const bySet: Record<string, Intervals> = {};
    for (const model of ['finetuned', 'merged']) {
      const r = versusBase(rows, model, set);
      if (r) bySet[model] = r.ci;
    }
    if (Object.keys(bySet).length) (out.sets_delta_ci ??= {})[set] = bySet;
  }
  const n = tuned?.n ?? merged?.n;
  if (n !== undefined || out.sets_delta_ci) {
    out.ci = { method: INTERVALS_METHOD, confidence: STATS.confidence, resamples: STATS.resamples, permutations: STATS.permutations, seed: STATS.seed, alpha: STATS.alpha, queries: n ?? 0 };
  }
  return out;
}

/** How two runs' queries paired for one model (and set): {@link pairRuns}. */
export interface RunPairing {
  /** Queries both runs evaluated (same id and text): the intervals are over these. */
  paired: number;
  /** Queries only one run evaluated (or whose text differs under the same id). */
  only_a: number;
  only_b: number;
  /** Why there is no interval: a run without per-query results, or no query in common. */
  missing?: string;
  /** b − a per metric over the paired queries. */
  metrics: Record<string, PairedDelta>;
}

/**
 * Run B − run A for one model (on one set of `evaluate.sets`, or the primary set), paired per query
 * from their per_query.jsonl rows: matched by query id with the same text (a query of the same id
 * but another text counts as unpaired on both sides). For `ftrun diff`, `ftrun compare` and
 * leaderboards (trial − best trial).
 */
export function pairRuns(rowsA: readonly PerQuery[], rowsB: readonly PerQuery[], model: string, set?: string): RunPairing {
  const pick = (rows: readonly PerQuery[]) => new Map(rows.filter((r) => r.model === model && r.set === set).map((r) => [r.query_id, r]));
  const a = pick(rowsA);
  const b = pick(rowsB);
  if (!a.size || !b.size) {
    const which = !a.size && !b.size ? 'either run' : !a.size ? 'run A' : 'run B';
    return { paired: 0, only_a: a.size, only_b: b.size, missing: `no per-query results of ${modelLabel(model)}${set !== undefined ? ` on ${set}` : ''} in ${which}`, metrics: {} };
  }
  const same = (id: string) => b.has(id) && b.get(id)!.text === a.get(id)!.text;
  const ma = new Map([...a].filter(([id]) => same(id)).map(([id, r]) => [id, r.metrics]));
  const mb = new Map([...ma.keys()].map((id) => [id, b.get(id)!.metrics]));
  const r = pairedDeltas(ma, mb);
  const out: RunPairing = { paired: r.paired, only_a: a.size - r.paired, only_b: b.size - r.paired, metrics: r.metrics };
  if (!r.paired) out.missing = 'no query in common';
  return out;
}

/** What `ftrun diff` records per compared model: the pairing without the per-metric results (those go beside each metric). */
export type PairingSummary = Omit<RunPairing, 'metrics'>;

/**
 * B − A for each model row of `ftrun diff` (`<model>`, `<model> [<set>]`; a truncated dimension
 * `<model> @<d>` has no per-query results), from the two runs' per_query.jsonl rows.
 */
export function diffPairings(rowsA: readonly PerQuery[], rowsB: readonly PerQuery[], rows: readonly string[]): Record<string, RunPairing> {
  const out: Record<string, RunPairing> = {};
  for (const row of rows) {
    if (/ @\d+$/.test(row)) {
      out[row] = { paired: 0, only_a: 0, only_b: 0, missing: 'per-query results are not kept per truncated dimension', metrics: {} };
      continue;
    }
    const m = /^(.*) \[(.*)\]$/.exec(row);
    out[row] = m ? pairRuns(rowsA, rowsB, m[1]!, m[2]!) : pairRuns(rowsA, rowsB, row);
  }
  return out;
}
