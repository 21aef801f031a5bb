/**
 * Issue 18 §4, reports that never hide a label or a failure: the charts (every category label
 * drawn in full with its tooltip, metric axes that stop at 1, log axes for log-spaced parameters,
 * points labelled with their trial), how a run ended (env.json stage / after_stage / error) in
 * report.md, the leaderboards and the per-trial line, and the worst queries without perfect ones.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLeaderboardHtml } from '../core/html/leaderboard.js';
import { renderLeaderboardMarkdown } from '../core/leaderboard.js';
import { renderReport } from '../core/report.js';
import { outcomeHead, outcomeLine, runOutcome, trialLine, trialOutcomeFields } from '../core/run-outcome.js';
import type { Leaderboard } from '../core/run/records.js';
import { tempDir } from './helpers/cli.js';
import { RunEvents } from '../core/run/events.js';

/** The text of each `<text>` element of an SVG, without its `<title>`. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)(?:<title>[^<]*<\/title>)?<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').trim());

describe('how a run ended', () => {
  it('RunEvents knows the stage a run is in (innermost open stage) and the last that ended', async () => {
    const ev = new RunEvents(tempDir('ftrun-events-'), { info: () => {}, warn: () => {}, debug: () => {} });
    expect([ev.stage, ev.lastStage]).toEqual([undefined, undefined]);
    await ev.emit('stage_start', { stage: 'dataset' });
    expect(ev.stage).toBe('dataset');
    await ev.emit('stage_end', { stage: 'dataset', seconds: 0.1 });
    expect([ev.stage, ev.lastStage]).toEqual([undefined, 'dataset']);
    await ev.emit('stage_start', { stage: 'evaluate_base' });
    await ev.emit('stage_start', { stage: 'load_base' });
    expect(ev.stage).toBe('load_base');
    await ev.emit('stage_end', { stage: 'load_base', seconds: 0.1 });
    expect([ev.stage, ev.lastStage]).toEqual(['evaluate_base', 'load_base']);
  });

  const env = (o: Record<string, unknown>) => ({ status: 'failed', started_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:00:04.250Z', ...o });

  it('runOutcome reads the stage and the error; outcomeHead and outcomeLine say it', () => {
    const failed = runOutcome(env({ stage: 'train', error: { message: 'out of memory\nat step 3', code: undefined } }) as never);
    expect(failed).toEqual({ status: 'failed', stage: 'train', message: 'out of memory\nat step 3' });
    expect(outcomeHead(failed)).toBe('failed in stage train');
    expect(outcomeLine(failed)).toBe('failed in stage train: out of memory');
    expect(outcomeHead(runOutcome(env({ status: 'interrupted', after_stage: 'dataset' }) as never))).toBe('interrupted after stage dataset');
    const stopped = runOutcome(env({ status: 'stopped', stage: 'train', early_stop: { rule: 'median', step: 20, metric: 'mrr@1', value: 0.25, median: 0.5, trials: 3 } }) as never);
    expect(outcomeLine(stopped)).toBe('stopped in stage train: stopped at step 20: mrr@1 0.2500 was below the median 0.5000 of 3 other trials at that step (sweep.stop: median)');
    expect(runOutcome(env({ status: 'ok', stage: 'x' }) as never)).toEqual({ status: 'ok' });
  });

  it('trialLine: number, status and stage, primary metric, duration, and the error', () => {
    const dir = tempDir('ftrun-outcome-');
    const ok = join(dir, '1');
    mkdirSync(ok);
    writeFileSync(join(ok, 'env.json'), JSON.stringify(env({ status: 'ok' })));
    writeFileSync(join(ok, 'metrics.json'), JSON.stringify({ status: 'ok', primary: 'mrr@1', models: { base: { 'mrr@1': 0.3 }, finetuned: { 'mrr@1': 0.35 } }, delta: { 'mrr@1': 0.05 } }));
    expect(trialLine('trial 1/3', ok)).toBe('trial 1/3 ok: MRR@1 0.350 (Δ +0.050), 4.3 s');
    const bad = join(dir, '2');
    mkdirSync(bad);
    writeFileSync(join(bad, 'env.json'), JSON.stringify(env({ after_stage: 'dataset', error: { message: 'x.yaml:3:4 evaluate.k[1]: k=100 is larger than the corpus (27 documents); use k ≤ 27', code: 'E_DATA' } })));
    writeFileSync(join(bad, 'metrics.json'), JSON.stringify({ status: 'failed', primary: 'mrr@1', models: {}, delta: {} }));
    expect(trialLine('trial 2/3', bad)).toBe('trial 2/3 failed after stage dataset: MRR@1 —, 4.3 s: x.yaml:3:4 evaluate.k[1]: k=100 is larger than the corpus (27 documents); use k ≤ 27');
    expect(trialOutcomeFields(bad, 'failed')).toEqual({ after_stage: 'dataset', error: 'x.yaml:3:4 evaluate.k[1]: k=100 is larger than the corpus (27 documents); use k ≤ 27' });
    expect(trialOutcomeFields(ok, 'ok')).toEqual({});
    // a trial whose directory holds no record: what the caller knows
    // the error as the trial printed it, whole
    expect(trialLine('trial 3/3', join(dir, 'none'), { primary: 'mrr@1', status: 'failed', seconds: 0.5, fallback: 'error[E_LOCKED]: in use\n  by pid 7\n' })).toBe('trial 3/3 failed: MRR@1 —, 0.5 s: error[E_LOCKED]: in use\n  by pid 7');
    expect(trialLine('trial 3/3', join(dir, 'none'))).toBeUndefined();
  });

  it('report.md of a failed run says where it ended and shows the whole error', () => {
    const text = renderReport({
      name: 'x', date: new Date(0), status: 'failed', primary: 'mrr@1', models: {}, timings: {},
      outcome: { status: 'failed', stage: 'train', message: 'the engine ran out of memory\n  at step 3 (batch 16)' },
    });
    expect(text).toContain('- status: failed\n- primary metric: MRR@1\n- ended in stage: `train`\n\n## Error\n\n```\nthe engine ran out of memory\n  at step 3 (batch 16)\n```\n');
    const after = renderReport({ name: 'x', date: new Date(0), status: 'interrupted', primary: 'mrr@1', models: {}, timings: {}, outcome: { status: 'interrupted', after_stage: 'dataset' } });
    expect(after).toContain('- ended after stage: `dataset`\n');
    expect(after).not.toContain('## Error');
  });

  it('report.md: when the model got every query right, it says so instead of listing perfect queries', () => {
    const perfect = { queryId: 'a', text: 'q', expected: ['T'], top: [{ id: 'T', score: 0.9 }], metrics: { 'mrr@1': 1 } };
    const text = renderReport({ name: 'x', date: new Date(0), status: 'ok', primary: 'mrr@1', models: { finetuned: { 'mrr@1': 1 } }, timings: {}, queries: { model: 'finetuned', results: [perfect] } });
    expect(text).toContain('## Worst queries (fine-tuned)\n\nEvery query has MRR@1 1.000.\n');
    expect(text).not.toContain('| 1 |');
  });
});

describe('leaderboards of a sweep with a failed trial', () => {
  const board: Leaderboard = {
    primary: 'mrr@1',
    trials: [
      { rank: 1, index: 1, overrides: { 'training.learning_rate': 1e-4 }, run_dir: 'trials/1', status: 'ok', model: 'finetuned', value: 0.4, delta: 0.1, metrics: { 'mrr@1': 0.4, 'recall@5': 0.8, 'ndcg@5': 0.6 } },
      { rank: 2, index: 2, overrides: { 'training.learning_rate': 1e-3 }, run_dir: 'trials/2', status: 'ok', model: 'finetuned', value: 0.3, delta: 0, metrics: { 'mrr@1': 0.3, 'recall@5': 0.7, 'ndcg@5': 0.5 } },
      { rank: null, index: 3, overrides: { 'training.learning_rate': 1e-2 }, run_dir: 'trials/3', status: 'failed', model: null, value: null, delta: null, metrics: {}, stage: 'train', error: 'loss is NaN at step 4 <nan>\nlower training.learning_rate' },
    ],
  };

  it('leaderboard.md: the row says where the trial ended; the error follows the table in full', () => {
    const md = renderLeaderboardMarkdown(board, 's');
    expect(md).toContain('| — | 3 | training.learning_rate=0.01 | failed in stage train | — | — | — |');
    expect(md).toContain('\n## Trials that did not finish\n\nTrial 3 (training.learning_rate=0.01): failed in stage train\n\n```\nloss is NaN at step 4 <nan>\nlower training.learning_rate\n```\n');
    // every metric, the primary one first
    expect(md).toContain('| rank | trial | overrides | MRR@1 | Δ MRR@1 | Recall@5 | NDCG@5 |');
  });

  it('leaderboard.html: links each trial report, every metric (primary first), the error of the failed trial, points labelled on a log axis', () => {
    const html = renderLeaderboardHtml(board, 's', 3, new Set([1, 2, 3]));
    expect(html).toContain('<th class="num">rank</th><th class="num">trial</th><th>overrides</th><th>model</th><th class="num">MRR@1</th><th class="num">Δ MRR@1</th><th class="num">Recall@5</th><th class="num">NDCG@5</th>');
    for (const n of [1, 2, 3]) expect(html).toContain(`<a href="trials/${n}/report.html">${n}</a>`);
    expect(html).toContain('<a href="#trial-3">failed in stage train</a>');
    expect(html).toContain('<div class="error" id="trial-3"><b><a href="trials/3/report.html">Trial 3</a> (training.learning_rate=0.01): failed in stage train</b>\nloss is NaN at step 4 &lt;nan&gt;\nlower training.learning_rate</div>');
    const chart = html.slice(html.indexOf('<svg'));
    for (const label of ['trial 1', 'trial 2']) expect(texts(chart)).toContain(label);
    expect(texts(chart)).toContain('1e-5');
  });
});
