/**
 * The HTML reports as a reader sees them: a run's report.html, a sweep's leaderboard.html and a
 * `diff --html` page opened in headless Chromium (Debian's `chromium`, driven by playwright-core).
 * The tables show metrics.json's values, every chart drew (a non-empty SVG with data marks), and
 * no page made a network request. Issue 18 §4, on the same pages: every category of a per-category
 * chart has its label (counted against the categories), no chart element lies outside its chart
 * and no two labels overlap, no page is wider than the window, a failed trial's error is on its
 * report.html and on leaderboard.html, the leaderboard links every trial's report and draws the
 * learning rate on a log axis with each point labelled. Screenshots are kept in
 * test-results/browser/ (printed). Skipped, with the reason printed, where no Chromium is
 * installed (`apt-get install chromium`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, tempDir } from './helpers/cli.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared } from './helpers/shared.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
if (!CHROMIUM) console.warn('skipping the browser test: no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH)');
const SHOTS = join(ROOT, 'test-results', 'browser');
/** The third trial's k=100 is larger than the corpus: it fails right after loading its data. */
const K_ERROR = /^\S+sweep\.yaml:\d+:\d+ evaluate\.k\[1\]: k=100 is larger than the corpus \(27 documents\); use k ≤ 27$/;

describeShared('HTML reports in a browser', () => {
  let browser: Browser;
  let sweepDir = '';
  let diffFile = '';
  let sweepDiffFile = '';
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
sinks: [{ type: html }, { type: markdown }]
sweep:
  zip:
    training.learning_rate: [1.0e-4, 1.0e-3, 1.0e-3]
    evaluate.k: [[1, 5], [1, 5], [1, 100]]
`,
    );
    const r = await cli(['run', join(dir, 'sweep.yaml'), '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(1); // trial 3 failed
    sweepDir = JSON.parse(r.stdout).sweep_dir;
    const d = await cli(['diff', join(sweepDir, 'trials', '1'), join(sweepDir, 'trials', '2'), '--html']);
    diffFile = join(dir, 'diff.html');
    writeFileSync(diffFile, d.stdout);
    // two sweeps: a bar per trial, labelled with its overrides (the labels that were cut to 'ning.adapter.kind=linear trai…')
    const sd = await cli(['diff', sweepDir, sweepDir, '--html']);
    sweepDiffFile = join(dir, 'sweep-diff.html');
    writeFileSync(sweepDiffFile, sd.stdout);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(SHOTS, { recursive: true });
    console.log(`browser test screenshots: ${SHOTS}`);
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
    // issue 18: nothing of a chart outside it, no two labels on top of each other, no page wider than the window
    const layout = await page.evaluate(() => {
      const inside: string[] = [];
      const overlaps: string[] = [];
      for (const [i, svg] of [...document.querySelectorAll('svg')].entries()) {
        const box = svg.getBoundingClientRect();
        const texts = [...svg.querySelectorAll('text')].filter((t) => (t.firstChild?.textContent ?? '').trim() !== '');
        const rects = texts.map((t) => ({ text: t.firstChild!.textContent!.trim(), r: t.getBoundingClientRect() }));
        for (const el of [...svg.querySelectorAll('text, path, rect')]) {
          const r = el.getBoundingClientRect();
          if (r.width === 0 && r.height === 0) continue;
          if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) inside.push(`chart ${i}: <${el.tagName}> ${el.firstChild?.textContent ?? ''} at ${Math.round(r.left)}..${Math.round(r.right)} x ${Math.round(r.top)}..${Math.round(r.bottom)} outside ${Math.round(box.left)}..${Math.round(box.right)} x ${Math.round(box.top)}..${Math.round(box.bottom)}`);
        }
        for (let a = 0; a < rects.length; a++)
          for (let b = a + 1; b < rects.length; b++) {
            const x = rects[a]!.r;
            const y = rects[b]!.r;
            const w = Math.min(x.right, y.right) - Math.max(x.left, y.left);
            const h = Math.min(x.bottom, y.bottom) - Math.max(x.top, y.top);
            if (w > 1 && h > 1) overlaps.push(`chart ${i}: "${rects[a]!.text}" and "${rects[b]!.text}"`);
          }
      }
      return { inside, overlaps, pageWidth: document.documentElement.scrollWidth, windowWidth: window.innerWidth };
    });
    expect(layout.inside, 'chart elements outside their chart').toEqual([]);
    expect(layout.overlaps, 'labels on top of each other').toEqual([]);
    expect(layout.pageWidth, 'the page is wider than the window').toBeLessThanOrEqual(layout.windowWidth);
    return { page, requests, charts };
  }
  /** The category labels of the page's bar charts (data-label, one per label whatever its lines), and the tooltips. */
  const barLabels = (page: import('playwright-core').Page) =>
    page.$$eval('svg', (svgs) =>
      svgs.map((s) => ({
        labels: [...new Set([...s.querySelectorAll('text[data-label]')].map((t) => t.getAttribute('data-label')!))],
        titles: [...new Set([...s.querySelectorAll('text[data-label] > title')].map((t) => t.textContent!))],
        shown: [...s.querySelectorAll('text[data-label]')].map((t) => t.firstChild!.textContent!),
      })),
    );
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
    expect(await cellsOf(page, 'MRR@1')).toEqual(['MRR@1', m.models.base!['mrr@1']!.toFixed(3), m.models.finetuned!['mrr@1']!.toFixed(3), expect.stringMatching(/^[+−-]?\d\.\d{3}/)]);
    expect(await cellsOf(page, 'Recall@5')).toEqual(['Recall@5', m.models.base!['recall@5']!.toFixed(3), m.models.finetuned!['recall@5']!.toFixed(3), expect.any(String)]);
    // issue 18: the per-category chart labels every expected category, each in full with its tooltip
    const categories = [...new Set(readFileSync(join(run, 'per_query.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { expected: string[] }).expected[0]!))].sort();
    expect(categories.length).toBeGreaterThan(20);
    const bars = (await barLabels(page)).filter((b) => b.labels.length);
    expect(bars).toHaveLength(1);
    expect([...bars[0]!.labels].sort()).toEqual(categories);
    expect([...bars[0]!.titles].sort()).toEqual(categories);
    expect(bars[0]!.shown.join(' ').replace(/\s+/g, ' ')).toBe(categories.join(' '));
    // the charts use the page's width: the per-category one spans the content, the training ones share rows two by two
    expect(charts[3]!.width).toBeGreaterThan(1000);
    // the environment is env.json as the run ended
    const env = await page.$$eval('h2', (hs) => hs.find((h) => h.textContent === 'Environment')?.nextElementSibling?.textContent ?? '');
    expect(JSON.parse(env)).toMatchObject({ status: 'ok', finished_at: expect.stringMatching(/^\d{4}-/), timings: { train: expect.any(Number) }, encoders: { base: expect.any(Object), finetuned: expect.any(Object) } });
    await page.close();
  });

  it.skipIf(!CHROMIUM)("a failed trial's report.html and report.md: where it ended and its error", async () => {
    const run = join(sweepDir, 'trials', '3');
    const { page, requests } = await open(join(run, 'report.html'), 'report-failed.png');
    expect(requests).toEqual([]);
    const box = await page.$eval('#outcome', (e) => e.textContent ?? '');
    const [head, message] = box.split('\n');
    expect(head).toBe('failed after stage dataset');
    expect(message).toMatch(K_ERROR);
    const env = JSON.parse(readFileSync(join(run, 'env.json'), 'utf8')) as { status: string; after_stage: string; error: { message: string } };
    expect(env).toMatchObject({ status: 'failed', after_stage: 'dataset', error: { message } });
    const md = readFileSync(join(run, 'report.md'), 'utf8');
    expect(md).toContain(`- ended after stage: \`dataset\`\n\n## Error\n\n\`\`\`\n${message}\n\`\`\`\n`);
    await page.close();
  });

  it.skipIf(!CHROMIUM)('leaderboard.html: the ranking of leaderboard.json and a chart per swept parameter', async () => {
    const { page, requests, charts } = await open(join(sweepDir, 'leaderboard.html'), 'leaderboard.png');
    expect(requests).toEqual([]);
    expect(charts).toHaveLength(2); // training.learning_rate and evaluate.k
    expect(charts[0]!.text).toContain('training.learning_rate');
    expect(charts[0]!.marks).toBeGreaterThan(2);
    const board = JSON.parse(readFileSync(join(sweepDir, 'leaderboard.json'), 'utf8')) as { trials: Array<{ rank: number | null; index: number; value: number; metrics: Record<string, number> }> };
    const ranked = board.trials.filter((t) => t.rank !== null);
    expect(ranked.map((t) => t.index).sort()).toEqual([1, 2]);
    for (const t of ranked) expect((await cellsOf(page, String(t.rank))).slice(0, 2).concat((await cellsOf(page, String(t.rank)))[4]!)).toEqual([String(t.rank), String(t.index), t.value.toFixed(3)]);
    // issue 18: every metric, the primary first; each trial's report linked; the failed trial's row and error
    const header = await page.$$eval('th', (ths) => ths.map((t) => t.textContent));
    expect(header.slice(4, 5)).toEqual(['MRR@1']);
    for (const k of ['MRR@5', 'Recall@1', 'Recall@5', 'NDCG@5', 'MAP@5', 'Precision@5', 'Hit@5']) expect(header).toContain(k);
    const links = await page.$$eval('td a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
    for (const n of ['1', '2', '3']) expect(links).toContainEqual([n, `trials/${n}/report.html`]);
    expect(await cellsOf(page, '—').then((c) => c.slice(1, 2).concat(c[4]!))).toEqual(['3', 'failed after stage dataset']);
    const error = await page.$eval('#trial-3', (e) => e.textContent ?? '');
    expect(error.split('\n')[0]).toBe('Trial 3 (training.learning_rate=0.001 evaluate.k=[1,100]): failed after stage dataset');
    expect(error.split('\n')[1]).toMatch(K_ERROR);
    // the learning rate on a log axis (decade ticks), each point labelled with its trial
    for (const tick of ['1e-5', '1e-4', '0.001', '0.01']) expect(charts[0]!.text).toContain(tick);
    expect(charts[0]!.text).toContain('trial 1');
    expect(charts[0]!.text).toContain('trial 2');
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

  it.skipIf(!CHROMIUM)('diff --html of two sweeps: every bar label (the trials\' overrides) in full', async () => {
    const { page, requests } = await open(sweepDiffFile, 'sweep-diff.png');
    expect(requests).toEqual([]);
    const bars = (await barLabels(page)).filter((b) => b.labels.length);
    expect(bars).toHaveLength(1);
    const want = ['training.learning_rate=0.0001 evaluate.k=[1,5]', 'training.learning_rate=0.001 evaluate.k=[1,5]'];
    expect(bars[0]!.labels).toEqual(want);
    expect(bars[0]!.titles).toEqual(want);
    expect(bars[0]!.shown.join(' ')).toBe(want.join(' '));
    await page.close();
  });

  it.skipIf(!CHROMIUM)('compare --html of the sweep (issue 18 §3): every trial, its curves overlaid, every category labelled, nothing fetched', async () => {
    const r = await cli(['compare', sweepDir, '--html']);
    expect(r.code, r.stderr).toBe(0);
    const file = join(sweepDir, '..', 'compare.html');
    writeFileSync(file, r.stdout);
    const { page, requests, charts } = await open(file, 'compare.png');
    expect(requests).toEqual([]);
    const name = basename(sweepDir);
    // training loss and test-split MRR@1 of trials 1 and 2 (trial 3 failed before training), recall per category
    expect(charts).toHaveLength(3);
    for (const c of charts.slice(0, 2)) for (const n of [1, 2]) expect(c.text).toContain(`${name} #${n}`);
    for (const c of charts) expect(c.width).toBeGreaterThan(1000);
    const m = (n: number) => JSON.parse(readFileSync(join(sweepDir, 'trials', String(n), 'metrics.json'), 'utf8')) as { models: Record<string, Record<string, number>> };
    expect(await cellsOf(page, 'MRR@1')).toEqual(['MRR@1', m(1).models.base!['mrr@1']!.toFixed(3), m(1).models.finetuned!['mrr@1']!.toFixed(3), m(2).models.finetuned!['mrr@1']!.toFixed(3), '—']);
    const categories = [...new Set(readFileSync(join(sweepDir, 'trials', '1', 'per_query.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { expected: string[] }).expected[0]!))].sort();
    const bars = (await barLabels(page)).filter((b) => b.labels.length);
    expect(bars).toHaveLength(1);
    expect([...bars[0]!.labels].sort()).toEqual(categories);
    expect(bars[0]!.shown.join(' ').replace(/\s+/g, ' ')).toBe(categories.join(' '));
    await page.close();
  });
});
