/**
 * Every Δ carries its 95% paired bootstrap interval and randomization test p-value (core/stats.ts,
 * issue 18 §2): the console table, metrics.json (`delta_ci`, `delta_merged_ci`, `ci`), report.md,
 * `ftrun diff` run A − run B (text, JSON, HTML; paired by query id, unpaired queries said), and the
 * sweep leaderboard (trial − best trial, paired per query from the trials' per_query.jsonl).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LeaderboardEntry, PerQuery, RunMetrics } from '../../core/run/records.js';
import { deltaInterval, formatDeltaWithInterval, intervalsOf, pairedDeltas, perQueryMetrics, type DeltaInterval } from '../../core/stats.js';
import type { RunSummary } from '../../core/types.js';
import ConsoleSink from '../../plugins/sink/console.js';
import { cli, tempDir } from '../helpers/cli.js';
import { makeContext } from '../helpers/context.js';
import { tempRoot, writeRun, writeSweep } from '../helpers/fake-runs.js';
import { TRANSACTIONS_EXPERIMENT, describeShared } from '../helpers/shared.js';

const NOTE = 'Δ [95% paired bootstrap interval over 66 queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).';

type Scores = Array<Record<string, number>>;

/** Per-query rows of each model (query i: id `eval.jsonl:<i+1>`, text `q<i+1>` unless `texts` says otherwise). */
function perQueryRows(models: Record<string, Scores>, ids?: number[], texts?: Record<number, string>): PerQuery[] {
  return Object.entries(models).flatMap(([model, scores]) =>
    scores.map((metrics, i) => {
      const n = ids ? ids[i]! : i + 1;
      return { model, query_id: `eval.jsonl:${n}`, text: texts?.[n] ?? `q${n}`, expected: ['a'], top: [], metrics };
    }),
  );
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A run directory with metrics.json (each model's averages, Δ fine-tuned − base) and, unless `rows` is false, per_query.jsonl. */
function fakeRun(dir: string, models: Record<string, Scores>, opts: { ids?: number[]; texts?: Record<number, string>; rows?: boolean; extra?: Partial<RunMetrics> } = {}): string {
  const avg = Object.fromEntries(Object.entries(models).map(([m, s]) => [m, Object.fromEntries(Object.keys(s[0]!).map((k) => [k, mean(s.map((q) => q[k]!))]))]));
  const delta = avg.base && avg.finetuned ? Object.fromEntries(Object.keys(avg.base).map((k) => [k, avg.finetuned![k]! - avg.base![k]!])) : {};
  writeRun(dir, { config: { name: 'x', seed: 1 }, metrics: { models: avg, delta, primary: 'mrr@1', status: 'ok', ...opts.extra } });
  if (opts.rows !== false) writeFileSync(join(dir, 'per_query.jsonl'), perQueryRows(models, opts.ids, opts.texts).map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

const N = 20;
const each = (f: (i: number) => Record<string, number>): Scores => Array.from({ length: N }, (_, i) => f(i));
// base: the same in both runs; fine-tuned: MRR@1 0 → 1 on every query, Hit@3 mixed
const base = each((i) => ({ 'mrr@1': i % 3 === 0 ? 1 : 0, 'hit@3': i % 2 }));
const tunedA = each((i) => ({ 'mrr@1': 0, 'hit@3': i % 4 === 0 ? 1 : 0 }));
const tunedB = each((i) => ({ 'mrr@1': 1, 'hit@3': i % 5 === 0 ? 0 : 1 }));
const hit3 = deltaInterval(tunedB.map((q, i) => q['hit@3']! - tunedA[i]!['hit@3']!));

describe('ftrun diff: run B − run A with intervals, paired per query', () => {
  it('text: each Δ with its interval and p-value, n.s. where not significant, and what the intervals are', async () => {
    const root = tempRoot();
    const a = fakeRun(join(root, 'a'), { base, finetuned: tunedA });
    const b = fakeRun(join(root, 'b'), { base, finetuned: tunedB });
    const r = await cli(['diff', a, b]);
    expect(r.code, r.stderr).toBe(0);
    const metrics = r.stdout.slice(r.stdout.indexOf('metrics (B − A):'));
    expect(metrics).toBe(
      [
        'metrics (B − A):',
        '  model       metric      A      B  Δ',
        '  base        MRR@1   0.350  0.350  +0.000 [+0.000, +0.000] p=1.000 n.s.',
        '  base        Hit@3   0.500  0.500  +0.000 [+0.000, +0.000] p=1.000 n.s.',
        '  fine-tuned  MRR@1   0.000  1.000  +1.000 [+1.000, +1.000] p=0.0001',
        `  fine-tuned  Hit@3   0.250  0.800  ${formatDeltaWithInterval(0.55, hit3)}`,
        '  Δ (B − A) [95% paired bootstrap interval over 20 queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).',
        '',
      ].join('\n'),
    );
    // the mixed one is significant on these 20 queries: 12 better, 1 worse
    expect(hit3.significant).toBe(true);
  });

  it('--json: ci per metric ({low, high, p, significant}, delta kept) and the pairing per model', async () => {
    const root = tempRoot();
    const a = fakeRun(join(root, 'a'), { base, finetuned: tunedA });
    const b = fakeRun(join(root, 'b'), { base, finetuned: tunedB });
    const d = JSON.parse((await cli(['diff', a, b, '--json'])).stdout);
    expect(d.metrics.finetuned['mrr@1']).toEqual({ a: 0, b: 1, delta: 1, ci: { low: 1, high: 1, p: 0.0001, significant: true } });
    expect(d.metrics.base['hit@3']).toEqual({ a: 0.5, b: 0.5, delta: 0, ci: { low: 0, high: 0, p: 1, significant: false } });
    expect(d.metrics.finetuned['hit@3'].ci).toEqual(intervalsOf({ 'hit@3': hit3 })['hit@3']);
    expect(d.queries).toEqual({ base: { paired: 20, only_a: 0, only_b: 0 }, finetuned: { paired: 20, only_a: 0, only_b: 0 } });
  });

  it('pairs by query id and text only, and says how many queries each run evaluated alone', async () => {
    const root = tempRoot();
    const a = fakeRun(join(root, 'a'), { base, finetuned: tunedA });
    // B evaluated queries 3..22; query 5 has another text under the same id
    const ids = Array.from({ length: N }, (_, i) => i + 3);
    const b = fakeRun(join(root, 'b'), { base, finetuned: tunedB }, { ids, texts: { 5: 'another query' } });
    const r = await cli(['diff', a, b]);
    expect(r.stdout.endsWith(
      [
        '  Δ (B − A) [95% paired bootstrap interval over 17 queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).',
        "  base: the interval is over the 17 queries both runs evaluated (3 only in A, 3 only in B); Δ is of each run's own average",
        "  fine-tuned: the interval is over the 17 queries both runs evaluated (3 only in A, 3 only in B); Δ is of each run's own average",
        '',
      ].join('\n'),
    )).toBe(true);
    const d = JSON.parse((await cli(['diff', a, b, '--json'])).stdout);
    expect(d.queries.finetuned).toEqual({ paired: 17, only_a: 3, only_b: 3 });
    // the interval is over the 17 paired queries (ids 3, 4, 6..20)
    const pa = new Map(tunedA.map((q, i) => [`eval.jsonl:${i + 1}`, q]));
    const pb = new Map(tunedB.map((q, i) => [`eval.jsonl:${i + 3}`, q]));
    pb.delete('eval.jsonl:5');
    pa.delete('eval.jsonl:5');
    expect(d.metrics.finetuned['hit@3'].ci).toEqual(intervalsOf(pairedDeltas(pa, pb).metrics)['hit@3']);
  });

  it('a run without per-query results: no interval, and the diff says which run lacks them', async () => {
    const root = tempRoot();
    const a = fakeRun(join(root, 'a'), { base, finetuned: tunedA }, { rows: false });
    const b = fakeRun(join(root, 'b'), { base, finetuned: tunedB });
    const r = await cli(['diff', a, b]);
    expect(r.stdout).toContain('  fine-tuned  MRR@1   0.000  1.000  +1.000\n');
    expect(r.stdout.endsWith(['  base: no interval (no per-query results of base in run A)', '  fine-tuned: no interval (no per-query results of fine-tuned in run A)', ''].join('\n'))).toBe(true);
  });

  it('--md: the note as a list item, and a model only one run has after a blank line (not inside the list or the table)', async () => {
    const root = tempRoot();
    const a = fakeRun(join(root, 'a'), { base, finetuned: tunedA });
    const b = fakeRun(join(root, 'b'), { base, finetuned: tunedB, merged: tunedB });
    const md = (await cli(['diff', a, b, '--md'])).stdout;
    expect(md).toContain('| fine-tuned | MRR@1 | 0.000 | 1.000 | +1.000 [+1.000, +1.000] p=0.0001 |\n');
    expect(md.endsWith('\n\n- Δ (B − A) [95% paired bootstrap interval over 20 queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).\n\n(merged only in B)\n')).toBe(true);
  });

  it('--html: the Δ cells with intervals (n.s. in grey, class ns) and the note', async () => {
    const root = tempRoot();
    const a = fakeRun(join(root, 'a'), { base, finetuned: tunedA });
    const b = fakeRun(join(root, 'b'), { base, finetuned: tunedB });
    const html = (await cli(['diff', a, b, '--html'])).stdout;
    expect(html).toContain('<td>fine-tuned</td><td>MRR@1</td><td class="num">0.000</td><td class="num">1.000</td><td class="num"><span class="up">+1.000 [+1.000, +1.000] p=0.0001</span></td>');
    expect(html).toContain('<td>base</td><td>MRR@1</td><td class="num">0.350</td><td class="num">0.350</td><td class="num"><span class="ns">+0.000 [+0.000, +0.000] p=1.000 n.s.</span></td>');
    expect(html).toContain('<p class="muted">Δ (B − A) [95% paired bootstrap interval over 20 queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).</p>');
  });
});

describe('sweep leaderboard: trial − best trial, paired per query', () => {
  it('ftrun sweep collect writes vs_best per metric in leaderboard.json and a Δ best column in leaderboard.md', async () => {
    const root = tempRoot();
    const half = each((i) => ({ 'mrr@1': i < 10 ? 1 : 0 }));
    const models = [each(() => ({ 'mrr@1': 1 })), half, each(() => ({ 'mrr@1': 0 }))];
    const ci: DeltaInterval = { low: 0.8, high: 1, p: 0.0001, significant: true };
    const trials = models.map((finetuned, i) => ({
      overrides: { 'training.learning_rate': [1e-3, 1e-4, 1e-5][i] },
      metrics: { models: { base: { 'mrr@1': 0 }, finetuned: { 'mrr@1': mean(finetuned.map((q) => q['mrr@1']!)) } }, delta: { 'mrr@1': mean(finetuned.map((q) => q['mrr@1']!)) }, ...(i === 0 ? { delta_ci: { 'mrr@1': ci } } : {}), primary: 'mrr@1', status: 'ok' },
    }));
    const dir = writeSweep(join(root, 'sweep-1'), trials);
    models.forEach((finetuned, i) => writeFileSync(join(dir, 'trials', String(i + 1), 'per_query.jsonl'), perQueryRows({ finetuned }).map((r) => JSON.stringify(r)).join('\n') + '\n'));
    const r = await cli(['sweep', 'collect', dir]);
    expect(r.code, r.stderr).toBe(0);
    const vsHalf = deltaInterval(half.map((q) => q['mrr@1']! - 1));
    const board = JSON.parse(readFileSync(join(dir, 'leaderboard.json'), 'utf8')) as { trials: LeaderboardEntry[] };
    expect(board.trials.map((t) => [t.index, t.rank, t.vs_best?.queries])).toEqual([[1, 1, undefined], [2, 2, 20], [3, 3, 20]]);
    expect(board.trials[0]!.delta_ci).toEqual(ci);
    expect(board.trials[2]!.vs_best).toEqual({ trial: 1, queries: 20, only_trial: 0, only_best: 0, metrics: { 'mrr@1': { delta: -1, low: -1, high: -1, p: 0.0001, significant: true } } });
    expect(board.trials[1]!.vs_best!.metrics['mrr@1']).toEqual({ delta: -0.5, ...intervalsOf({ 'mrr@1': vsHalf })['mrr@1']! });
    const md = readFileSync(join(dir, 'leaderboard.md'), 'utf8');
    expect(md).toContain(
      [
        '| rank | trial | overrides | MRR@1 | Δ MRR@1 | Δ best MRR@1 |',
        '| ---: | ---: | --- | ---: | --- | --- |',
        '| 1 | 1 | training.learning_rate=0.001 | 1.000 | +1.000 [+0.800, +1.000] p=0.0001 | best |',
        `| 2 | 2 | training.learning_rate=0.0001 | 0.500 | +0.500 | ${formatDeltaWithInterval(-0.5, vsHalf)} |`,
        '| 3 | 3 | training.learning_rate=0.00001 | 0.000 | +0.000 | -1.000 [-1.000, -1.000] p=0.0001 |',
        '',
        'Δ best: the trial − the best trial (trial 1), paired per query over the queries both evaluated.',
        '',
        'Δ [95% paired bootstrap interval over 20 queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).',
      ].join('\n'),
    );
    // the console table of collect has the column too
    expect(r.stderr).toContain(`      2  training.learning_rate=0.0001   0.500  +0.500                            ${formatDeltaWithInterval(-0.5, vsHalf)}\n`);
  });
});

describe('ftrun diff of two sweeps: best Δ and each matched trial with its interval', () => {
  it('pairs the trials per query (text and JSON)', async () => {
    const root = tempRoot();
    const sweep = (name: string, scores: Scores[]) => {
      const trials = scores.map((finetuned, i) => ({
        overrides: { 'training.learning_rate': [1e-3, 1e-4][i] },
        metrics: { models: { finetuned: { 'mrr@1': mean(finetuned.map((q) => q['mrr@1']!)) } }, delta: {}, primary: 'mrr@1', status: 'ok' },
      }));
      const dir = writeSweep(join(root, name), trials);
      scores.forEach((finetuned, i) => writeFileSync(join(dir, 'trials', String(i + 1), 'per_query.jsonl'), perQueryRows({ finetuned }).map((r) => JSON.stringify(r)).join('\n') + '\n'));
      return dir;
    };
    const zero = each(() => ({ 'mrr@1': 0 }));
    const one = each(() => ({ 'mrr@1': 1 }));
    const a = sweep('sweep-a', [zero, each((i) => ({ 'mrr@1': i % 2 }))]);
    const b = sweep('sweep-b', [one, each((i) => ({ 'mrr@1': i % 2 }))]);
    const r = await cli(['diff', a, b]);
    expect(r.code, r.stderr).toBe(0);
    // best of A: trial 2 (0.5); best of B: trial 1 (1.0): +0.5 over the 20 paired queries, 10 of them better
    const best = deltaInterval(each((i) => ({ d: 1 - (i % 2) })).map((q) => q.d!));
    expect(r.stdout).toContain(`best Δ (B − A): ${formatDeltaWithInterval(0.5, best)}\n`);
    expect(r.stdout).toContain(
      [
        '  overrides                      A trial      A  B trial      B  Δ',
        '  training.learning_rate=0.001         1  0.000        1  1.000  +1.000 [+1.000, +1.000] p=0.0001',
        '  training.learning_rate=0.0001        2  0.500        2  0.500  +0.000 [+0.000, +0.000] p=1.000 n.s.',
        '  Δ [95% paired bootstrap interval over the queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).',
      ].join('\n'),
    );
    const d = JSON.parse((await cli(['diff', a, b, '--json'])).stdout);
    expect(d.best.ci).toEqual(intervalsOf({ x: best }).x);
    expect(d.trials.map((t: { ci: DeltaInterval }) => t.ci)).toEqual([{ low: 1, high: 1, p: 0.0001, significant: true }, { low: 0, high: 0, p: 1, significant: false }]);
  });
});

describe('console table with intervals', () => {
  it('prints each Δ with its interval, n.s. where not significant, and the note under the table', () => {
    const summary: RunSummary = {
      name: 'bge',
      runDir: '/data/runs/bge/1',
      status: 'ok',
      primary: 'mrr@1',
      models: { base: { 'mrr@1': 0.36, 'hit@3': 0.6 }, finetuned: { 'mrr@1': 0.56, 'hit@3': 0.62 } },
      delta: { 'mrr@1': 0.2, 'hit@3': 0.02 },
      delta_ci: { 'mrr@1': { low: 0.106, high: 0.303, p: 0.0002, significant: true }, 'hit@3': { low: -0.061, high: 0.106, p: 0.7133, significant: false } },
      ci: { method: 'm', confidence: 0.95, resamples: 10000, permutations: 10000, seed: 12345, alpha: 0.05, queries: 66 },
      timings: {},
    };
    const s = new ConsoleSink({ digits: 3 }, makeContext()) as unknown as { write: (t: string) => void; close: (s: RunSummary) => void };
    const out: string[] = [];
    s.write = (t) => void out.push(t);
    s.close(summary);
    expect(out.join('')).toContain(
      [
        'bge: ok',
        'metric   base  fine-tuned  Δ',
        'MRR@1   0.360       0.560  +0.200 [+0.106, +0.303] p=0.0002',
        'Hit@3   0.600       0.620  +0.020 [-0.061, +0.106] p=0.713 n.s.',
        NOTE,
        '',
        'primary: MRR@1 (base 0.360, fine-tuned 0.560, Δ +0.200 [+0.106, +0.303] p=0.0002)',
      ].join('\n'),
    );
  });
});

describeShared('ftrun run: metrics.json, console and report.md carry the intervals (tiny-bert, transactions)', () => {
  it('delta_ci and delta_merged_ci per metric over the 66 eval queries, from per_query.jsonl; the console and report.md show them', async () => {
    const dir = tempDir('ftrun-ci-');
    writeFileSync(
      join(dir, 'x.yaml'),
      `name: ci\n${TRANSACTIONS_EXPERIMENT}backend: { type: ort, intra_op_threads: 1 }\nminer: { type: random-negative }\nloss: { type: multiple-negatives-ranking }\n` +
        `training: { method: full, epochs: 1, learning_rate: 1.0e-3, merge: { base_weight: 0.5 } }\nevaluate: { compare: [base, finetuned], metrics: [mrr, hit], k: [1, 3] }\nsinks: [{ type: console }, { type: markdown }]\n`,
    );
    const r = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs')]);
    expect(r.code, r.stderr).toBe(0);
    const runDir = readdirRun(join(dir, 'runs', 'ci'));
    const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as Required<RunMetrics>;
    expect(m.ci).toEqual({
      method: 'paired bootstrap over queries, percentile interval; two-sided paired randomization test (sign flips), p = (hits + 1) / (permutations + 1)',
      confidence: 0.95, resamples: 10000, permutations: 10000, seed: 12345, alpha: 0.05, queries: 66,
    });
    // recomputed from per_query.jsonl: base vs fine-tuned and base vs merged, paired by query
    const rows = readFileSync(join(runDir, 'per_query.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PerQuery);
    const b = perQueryMetrics(rows, 'base');
    expect(m.delta_ci).toEqual(intervalsOf(pairedDeltas(b, perQueryMetrics(rows, 'finetuned')).metrics));
    expect(m.delta_merged_ci).toEqual(intervalsOf(pairedDeltas(b, perQueryMetrics(rows, 'merged')).metrics));
    expect(Object.keys(m.delta_ci)).toEqual(Object.keys(m.delta));
    for (const ci of Object.values(m.delta_ci)) {
      expect(ci.low).toBeLessThanOrEqual(ci.high);
      expect(ci.significant).toBe((ci.low > 0 || ci.high < 0) && ci.p < 0.05);
    }
    // the console: Δ and Δ merged of the primary metric with their intervals, and the note
    const f = (x: number) => x.toFixed(3);
    const dPrimary = formatDeltaWithInterval(m.delta['mrr@1'], m.delta_ci['mrr@1']);
    const dMerged = formatDeltaWithInterval(m.delta_merged['mrr@1'], m.delta_merged_ci['mrr@1']);
    expect(r.stderr).toContain(`\nprimary: MRR@1 (base ${f(m.models.base!['mrr@1']!)}, fine-tuned ${f(m.models.finetuned!['mrr@1']!)}, merged ${f(m.models.merged!['mrr@1']!)}, Δ ${dPrimary}, Δ merged ${dMerged})\n`);
    expect(r.stderr).toContain(`\n${NOTE}\n`);
    // report.md: the row of the primary metric and the note
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain(`| MRR@1 | ${f(m.models.base!['mrr@1']!)} | ${f(m.models.finetuned!['mrr@1']!)} | ${f(m.models.merged!['mrr@1']!)} | ${dPrimary} | ${dMerged} |`);
    expect(report).toContain(`\n\n${NOTE}\n`);
    // ftrun diff of the run with itself: every query pairs, no difference
    const self = JSON.parse((await cli(['diff', runDir, runDir, '--json'])).stdout);
    expect(self.metrics.finetuned['mrr@1'].ci).toEqual({ low: 0, high: 0, p: 1, significant: false });
    expect(self.queries.finetuned).toEqual({ paired: 66, only_a: 0, only_b: 0 });
  });
});

/** The one run directory under `<runs-dir>/<name>/`. */
function readdirRun(parent: string): string {
  const entries = readdirSync(parent);
  expect(entries).toHaveLength(1);
  return join(parent, entries[0]!);
}
