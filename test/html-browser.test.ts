/**
 * The HTML reports as a reader sees them: a run's report.html, a sweep's leaderboard.html and a
 * `diff --html` page opened in headless Chromium (Debian's `chromium`, driven by playwright-core).
 * The tables show metrics.json's values, every chart drew (a non-empty SVG with data marks), and
 * no page made a network request. Screenshots go to test-results/browser/. Skipped, with the
 * reason printed, where no Chromium is installed (`apt-get install chromium`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, tempDir } from './helpers/cli.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared } from './helpers/shared.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
if (!CHROMIUM) console.warn('skipping the browser test: no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH)');
const SHOTS = join(ROOT, 'test-results', 'browser');

describeShared('HTML reports in a browser', () => {
  let browser: Browser;
  let sweepDir = '';
  let diffFile = '';
  beforeAll(async () => {
    if (!CHROMIUM) return;
    const dir = tempDir('ftrun-browser-');
    writeFileSync(
      join(dir, 'sweep.yaml'),
      `name: browser
dataset:
  type: jsonl
  queries: ${TRANSACTIONS}/train_transactions.jsonl
  eval: ${TRANSACTIONS}/eval_transactions.jsonl
  corpus: { path: ${TRANSACTIONS}/categories.json, text: category }
splitter: { type: ratio, test: 0.2 }
miner: { type: random-negative }
loss: { type: multiple-negatives-ranking }
model: { path: ${TINY_BERT} }
backend: { type: ort, intra_op_threads: 1 }
training: { method: full, epochs: 1, eval_every: 10 }
evaluate: { compare: [base, finetuned] }
sinks: [{ type: html }]
sweep:
  grid:
    training.learning_rate: [1.0e-4, 1.0e-3]
`,
    );
    const r = await cli(['run', join(dir, 'sweep.yaml'), '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    sweepDir = JSON.parse(r.stdout).sweep_dir;
    const d = await cli(['diff', join(sweepDir, 'trials', '1'), join(sweepDir, 'trials', '2'), '--html']);
    diffFile = join(dir, 'diff.html');
    writeFileSync(diffFile, d.stdout);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);
  afterAll(async () => browser?.close());

  /** Open `file`; return its requests (other than itself) and the page, after a full-page screenshot. */
  async function open(file: string, shot: string) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('request', (req) => void (req.url() !== url && requests.push(req.url())));
    await page.goto(url, { waitUntil: 'load' });
    await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
    // every chart: a laid-out SVG with data marks (paths beyond axes and grid lines)
    const charts = await page.$$eval('svg', (svgs) => svgs.map((s) => ({ width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height, marks: s.querySelectorAll('path').length, text: s.textContent ?? '' })));
    return { page, requests, charts };
  }
  const cellsOf = (page: import('playwright-core').Page, first: string) =>
    page.$$eval('tr', (rows, f) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent ?? '')).find((c) => c[0] === f) ?? [], first);

  it.skipIf(!CHROMIUM)('report.html: the metrics table shows metrics.json, every chart drew, nothing was fetched', async () => {
    const run = join(sweepDir, 'trials', '2');
    const { page, requests, charts } = await open(join(run, 'report.html'), 'report.png');
    expect(requests).toEqual([]);
    expect(charts.length).toBe(4);
    for (const c of charts) {
      expect(c.width).toBeGreaterThan(300);
      expect(c.height).toBeGreaterThan(100);
      expect(c.marks).toBeGreaterThan(5);
    }
    const m = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as { models: Record<string, Record<string, number>> };
    expect(await cellsOf(page, 'MRR@1')).toEqual(['MRR@1', m.models.base!['mrr@1']!.toFixed(3), m.models.finetuned!['mrr@1']!.toFixed(3), expect.stringMatching(/^[+−-]?\d\.\d{3}$/)]);
    expect(await cellsOf(page, 'Recall@5')).toEqual(['Recall@5', m.models.base!['recall@5']!.toFixed(3), m.models.finetuned!['recall@5']!.toFixed(3), expect.any(String)]);
    await page.close();
  });

  it.skipIf(!CHROMIUM)('leaderboard.html: the ranking of leaderboard.json and a chart per swept parameter', async () => {
    const { page, requests, charts } = await open(join(sweepDir, 'leaderboard.html'), 'leaderboard.png');
    expect(requests).toEqual([]);
    expect(charts).toHaveLength(1);
    expect(charts[0]!.text).toContain('training.learning_rate');
    expect(charts[0]!.marks).toBeGreaterThan(2);
    const board = JSON.parse(readFileSync(join(sweepDir, 'leaderboard.json'), 'utf8')) as { trials: Array<{ rank: number; index: number; value: number }> };
    for (const t of board.trials) expect((await cellsOf(page, String(t.rank))).slice(0, 2).concat((await cellsOf(page, String(t.rank)))[4]!)).toEqual([String(t.rank), String(t.index), t.value.toFixed(3)]);
    await page.close();
  });

  it.skipIf(!CHROMIUM)('diff --html: config change, metric deltas and a chart, nothing fetched', async () => {
    const { page, requests, charts } = await open(diffFile, 'diff.png');
    expect(requests).toEqual([]);
    expect(charts).toHaveLength(1);
    expect(charts[0]!.marks).toBeGreaterThan(5);
    expect(await cellsOf(page, 'training.learning_rate')).toEqual(['training.learning_rate', '0.0001', '0.001']);
    await page.close();
  });
});
