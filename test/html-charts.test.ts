/**
 * Issue 18 §4: the charts of the HTML reports never hide a label: every category label drawn in
 * full (wrapped, never cut, none skipped) with its full name as tooltip, metric axes that stop at
 * 1, log axes for log-spaced parameters, points labelled with their trial.
 */
import { describe, expect, it } from 'vitest';
import { barChart, isLogSpaced, lineChart, scatterChart, textWidth, wrapLabel } from '../core/html/charts.js';

/** The text of each `<text>` element of an SVG, without its `<title>`. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)(?:<title>[^<]*<\/title>)?<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').trim());
const titles = (svg: string) => [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));

const CATEGORIES = [
  'Advertising & Marketing',
  'Compliance & Regulatory Fees',
  'Customer Success & Support Infrastructure and Everything Around It',
  'Cloud',
  'Office Rent & Utilities',
  'Travel: Ground Transport',
  'Insurance',
  'Supercalifragilisticexpialidociousandevenlongerwordwithoutanyspaceinit',
];

describe('charts: every label, in full', () => {
  it('a per-category bar chart labels every one of 8 categories (one series, as a base-only run), each with its full name as tooltip', () => {
    const svg = barChart('Recall@1 per expected category', CATEGORIES, [{ name: 'base', values: CATEGORIES.map((_, i) => i / 8) }]);
    // each label's lines, in order, put together again give the label
    const labels = [...svg.matchAll(/data-label="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    expect([...new Set(labels)]).toEqual(CATEGORIES);
    expect([...new Set(titles(svg))]).toEqual(CATEGORIES);
    for (const c of CATEGORIES) {
      const lines = wrapLabel(c, 300);
      expect(lines.join(c.includes(' ') ? ' ' : '')).toBe(c);
      for (const l of lines) expect(texts(svg)).toContain(l);
    }
    // the label column is as wide as the longest (wrapped) label, so nothing is cut on the left
    const left = Number(/<path d="M(\d+(?:\.\d+)?) \d+(?:\.\d+)?L\1 /.exec(svg)?.[1]);
    expect(left).toBeGreaterThanOrEqual(Math.min(300, Math.max(...CATEGORIES.map((c) => textWidth(c)))));
  });

  it('wraps a long label at spaces and cuts a word longer than the line into pieces, losing no character', () => {
    const label = 'Customer Success & Support Infrastructure';
    const lines = wrapLabel(label, 120);
    expect(lines.join(' ')).toBe(label);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(textWidth(l)).toBeLessThanOrEqual(120);
    // greedy: no line could take the next line's first word
    for (let i = 1; i < lines.length; i++) expect(textWidth(`${lines[i - 1]} ${lines[i]!.split(' ')[0]}`)).toBeGreaterThan(120);
    const word = 'Supercalifragilisticexpialidocious';
    const pieces = wrapLabel(word, 80);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(word);
    for (const p of pieces) expect(textWidth(p)).toBeLessThanOrEqual(80);
  });

  it('an axis of metrics stops at 1 (no 1.02) and at 0', () => {
    const svg = lineChart('Test split during training', 'step', [
      { name: 'MRR@1', points: [[10, 0.55], [20, 0.97], [24, 1]] },
      { name: 'triplet accuracy', points: [[10, 0.99], [20, 1], [24, 1]] },
    ]);
    const ticks = texts(svg).filter((t) => /^-?\d+(\.\d+)?$/.test(t)).map(Number);
    // y ticks ≤ 1; the x ticks are the steps 10…24
    expect(ticks.filter((t) => t <= 1.5).every((t) => t >= 0 && t <= 1)).toBe(true);
    expect(ticks).toContain(1);
    expect(texts(svg)).not.toContain('1.02');
  });

  it('small values in [0, 1] (a learning rate) get an axis of their own size, not of a metric', () => {
    const svg = lineChart('Learning rate', 'step', [{ name: 'learning rate', points: [[1, 0], [4, 1e-4], [24, 5e-6]] }]);
    const ticks = texts(svg);
    expect(ticks).toContain('1.5e-4');
    expect(ticks).not.toContain('0.005');
  });

  it('a log-spaced parameter is drawn on a log axis, each point labelled with its trial', () => {
    expect(isLogSpaced([1e-5, 2e-5, 5e-5])).toBe(false);
    expect(isLogSpaced([1e-5, 1e-4])).toBe(true);
    expect(isLogSpaced([0, 1e-4])).toBe(false);
    const svg = scatterChart('MRR@1 by training.learning_rate', 'training.learning_rate', 'MRR@1', [
      { name: 'trials', points: [[1e-4, 0.33, 'trial 1'], [1e-3, 0.27, 'trial 2'], [1e-5, 0.3, 'trial 3']] },
    ]);
    const t = texts(svg);
    for (const label of ['trial 1', 'trial 2', 'trial 3']) expect(t).toContain(label);
    // decades, with a decade of room beyond the first and the last point
    for (const tick of ['1e-6', '1e-5', '1e-4', '0.001', '0.01']) expect(t).toContain(tick);
  });

  it('legend items leave room for names drawn in a font wider than ECharts measures (DejaVu Sans): each item starts past the previous name at its textWidth', () => {
    const names = ['sweep-20261204-013809-6f2e2c #1', 'sweep-20261204-013809-6f2e2c #2', 'base'];
    for (const svg of [
      lineChart('Training loss', 'step', names.map((name, i) => ({ name, points: [[1, i] as [number, number], [2, i + 1] as [number, number]] }))),
      barChart('Recall@1 per expected category', ['Insurance', 'Travel'], names.map((name) => ({ name, values: [0.5, 1] }))),
    ]) {
      // the legend's names, where each is drawn (x of its translate), in order
      const drawn = [...svg.matchAll(/<text[^>]*transform="translate\(([\d.]+) ([\d.]+)\)"[^>]*>([^<]*)<\/text>/g)]
        .filter((m) => names.includes(m[3]!))
        .map((m) => ({ x: Number(m[1]), y: Number(m[2]), name: m[3]! }));
      expect(drawn.map((d) => d.name)).toEqual(names);
      for (let i = 1; i < drawn.length; i++) {
        if (drawn[i]!.y !== drawn[i - 1]!.y) continue; // wrapped onto the next line
        expect(drawn[i]!.x - drawn[i - 1]!.x, `${drawn[i]!.name} after ${drawn[i - 1]!.name}`).toBeGreaterThanOrEqual(textWidth(drawn[i - 1]!.name) + 25);
      }
    }
  });
});

