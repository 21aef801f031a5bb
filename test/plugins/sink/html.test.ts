/**
 * The `html` sink: report.html of a real (tiny) fine-tuning run is one self-contained page — no
 * script, nothing fetched — with the metrics table matching metrics.json, SVG charts of the
 * training curves and per-category recall drawn by the charting library, the changed queries, the
 * resolved config and environment; an evaluation-only run gets the parts that apply.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { formatNumber } from '../../../core/report.js';
import { formatDeltaWithInterval, type DeltaInterval } from '../../../core/stats.js';
import { cli, tempDir } from '../../helpers/cli.js';
import { TINY_BERT, TRANSACTIONS, describeShared, TRANSACTIONS_EXPERIMENT } from '../../helpers/shared.js';

const experiment = (training: string) => `name: html-demo
${TRANSACTIONS_EXPERIMENT}backend: { type: ort, intra_op_threads: 1 }
${training}sinks: [{ type: html }]
`;

async function report(training: string) {
  const dir = tempDir('ftrun-html-');
  writeFileSync(join(dir, 'x.yaml'), experiment(training));
  const r = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  const runDir = JSON.parse(r.stdout).run_dir as string;
  return { html: readFileSync(join(runDir, 'report.html'), 'utf8'), metrics: JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) };
}

describeShared('the html sink', () => {
  it('writes a self-contained report of a fine-tuning run', async () => {
    const { html, metrics } = await report(
      'splitter: { type: ratio, test: 0.2 }\nminer: { type: random-negative }\nloss: { type: multiple-negatives-ranking }\ntraining: { method: full, epochs: 2, learning_rate: 1.0e-3, eval_every: 5 }\nevaluate: { compare: [base, finetuned] }\n',
    );
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // self-contained: no script, no stylesheet or image fetched, no URL but the SVG namespaces
    expect(html).not.toMatch(/<script|<link|<img|src=/i);
    expect([...html.matchAll(/https?:\/\/[^"' <]+/g)].map((m) => m[0]).filter((u) => !u.startsWith('http://www.w3.org/'))).toEqual([]);
    // the metrics table agrees with metrics.json
    const base = metrics.models.base['mrr@1'] as number;
    const tuned = metrics.models.finetuned['mrr@1'] as number;
    // Δ with its interval and p-value (metrics.json delta_ci); grey `ns` when not significant
    const ci = metrics.delta_ci['mrr@1'] as DeltaInterval;
    const cls = !ci.significant ? 'ns' : tuned > base ? 'up' : tuned < base ? 'down' : '';
    expect(html).toContain(`<tr><td>MRR@1</td><td class="num">${formatNumber(base)}</td><td class="num">${formatNumber(tuned)}</td><td class="num"><span class="${cls}">${formatDeltaWithInterval(tuned - base, ci).replace('<', '&lt;')}</span></td></tr>`);
    // charts: loss, learning rate, test split, per-category recall, as SVG with their titles
    const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs).toHaveLength(4);
    for (const title of ['Training loss', 'Learning rate', 'Test split during training', 'Recall@1 per expected category']) expect(svgs.some((s) => s.includes(`>${title}<`))).toBe(true);
    expect(svgs[3]).toContain('>Travel: Ground Transport<'); // a category of the corpus, labelled
    for (const h of ['Queries the fine-tuned model got worse on', 'Queries the fine-tuned model got better on', 'Resolved config', 'Environment']) expect(html).toContain(`<h2>${h}</h2>`);
    expect(html).toContain('method: full');
  });

  it('an evaluation-only run gets the table, the per-category chart, the config: no training or comparison sections', async () => {
    const { html } = await report('');
    expect([...html.matchAll(/<svg/g)]).toHaveLength(1);
    expect(html).not.toContain('<h2>Training</h2>');
    expect(html).not.toContain('got worse on');
    expect(html).toContain('<h2>Per category</h2>');
  });
});
