import { describe, expect, it } from 'vitest';
import {
  configSummary,
  formatSigned,
  mdCode,
  mdText,
  metricLabel,
  metricKeys,
  renderMetricsTable,
  renderReport,
  renderTable,
  worstQueries,
} from '../core/report.js';
import type { QueryResult } from '../core/types.js';

const models = {
  base: { 'mrr@1': 0.36, 'mrr@3': 0.49, 'recall@1': 0.36 },
  finetuned: { 'mrr@1': 0.56, 'mrr@3': 0.69, 'recall@1': 0.56 },
};

function q(id: string, primary: number, other: number, text = `query ${id}`): QueryResult {
  return { queryId: id, text, expected: ['Travel'], top: [{ id: 'Meals', score: 0.9 }, { id: 'Travel', score: 0.8 }, { id: 'Fuel', score: 0.1 }, { id: 'X', score: 0 }], metrics: { 'mrr@1': primary, 'mrr@3': other } };
}

describe('report rendering', () => {
  it('labels metrics and signs deltas', () => {
    expect(['mrr@1', 'recall@5', 'ndcg@10', 'map@3', 'precision@1', 'hit@1', 'custom@2'].map(metricLabel)).toEqual([
      'MRR@1', 'Recall@5', 'NDCG@10', 'MAP@3', 'Precision@1', 'Hit@1', 'custom@2',
    ]);
    expect([0.2, -0.05, 0, -0.0001, 0.12345].map((x) => formatSigned(x))).toEqual(['+0.200', '-0.050', '+0.000', '+0.000', '+0.123']);
    expect(formatSigned(undefined)).toBe('—');
  });

  it('keeps metric keys in summary order, adding keys only later models have', () => {
    expect(metricKeys({ finetuned: { b: 1, c: 2 }, base: { b: 1, a: 0 } })).toEqual(['b', 'a', 'c']);
  });

  it('renders the base / fine-tuned / Δ table as text', () => {
    const delta = { 'mrr@1': 0.2, 'mrr@3': 0.2, 'recall@1': 0.2 };
    expect(renderMetricsTable({ models, delta }, { format: 'text' })).toBe(
      [
        'metric     base  fine-tuned       Δ',
        'MRR@1     0.360       0.560  +0.200',
        'MRR@3     0.490       0.690  +0.200',
        'Recall@1  0.360       0.560  +0.200',
      ].join('\n'),
    );
  });

  it('computes Δ when absent, honours digits, and renders Markdown', () => {
    expect(renderMetricsTable({ models }, { format: 'md', digits: 2 })).toBe(
      [
        '| metric | base | fine-tuned | Δ |',
        '| --- | ---: | ---: | ---: |',
        '| MRR@1 | 0.36 | 0.56 | +0.20 |',
        '| MRR@3 | 0.49 | 0.69 | +0.20 |',
        '| Recall@1 | 0.36 | 0.56 | +0.20 |',
      ].join('\n'),
    );
  });

  it('shows only the columns of the models present', () => {
    expect(renderMetricsTable({ models: { finetuned: { 'mrr@1': 0.5 } } }, { format: 'text' })).toBe('metric  fine-tuned\nMRR@1        0.500');
  });

  it('escapes pipes and newlines in Markdown cells', () => {
    expect(renderTable(['a', 'b'], [['x|y', 'line1\nline2']], { format: 'md' })).toBe('| a | b |\n| --- | --- |\n| x\\|y | line1 line2 |');
  });

  it('shows HTML in Markdown as text: entities in text and cells, code spans fenced past the backticks they hold', () => {
    expect(mdText('a <img src=x onerror=alert(1)> & b')).toBe('a &lt;img src=x onerror=alert(1)&gt; &amp; b');
    expect(renderTable(['<b>'], [['<i>x</i> | &amp;']], { format: 'md' })).toBe('| &lt;b&gt; |\n| --- |\n| &lt;i&gt;x&lt;/i&gt; \\| &amp;amp; |');
    expect(mdCode('/runs/a')).toBe('`/runs/a`');
    expect(mdCode('a`<img>`\nb')).toBe('`` a`<img>` b ``');
    expect(mdCode('``')).toBe('``` `` ```');
  });

  it('summarizes the config, hiding secrets', () => {
    const rows = configSummary({
      dataset: { type: 'braintrust', project: 'p', api_key: 'sk-123', corpus: { path: 'c.json' } },
      model: { id: 'BAAI/bge-base-en', query_prompt: '' },
      backend: { type: 'tfjs', device: 'wasm' },
      training: { method: 'full', epochs: 5, learning_rate: 2e-5 },
      store: { type: 'memory' },
    });
    expect(rows).toEqual([
      ['dataset', 'braintrust (project: p, api_key: ***, corpus.path: c.json)'],
      ['model', 'BAAI/bge-base-en'],
      ['backend', 'tfjs (device: wasm)'],
      ['training', 'full (epochs: 5, learning_rate: 0.00002)'],
      ['store', 'memory'],
    ]);
  });

  it('picks the worst queries by the primary metric, ties by the other metrics', () => {
    const list = [q('a', 1, 1), q('b', 0, 0.5), q('c', 0, 0), q('d', 0.5, 0.5)];
    expect(worstQueries(list, 'mrr@1', 3).map((x) => x.queryId)).toEqual(['c', 'b', 'd']);
  });

  it('never lists a query the model got right (MRR@1 1.000) among the worst, however few the others are', () => {
    const list = [q('a', 1, 1), q('b', 0, 0.5), q('c', 1, 1)];
    expect(worstQueries(list, 'mrr@1', 10).map((x) => x.queryId)).toEqual(['b']);
    expect(worstQueries([q('a', 1, 1)], 'mrr@1', 10)).toEqual([]);
  });

  it('renders the Markdown report', () => {
    const text = renderReport({
      name: 'bge-transactions',
      date: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
      status: 'ok',
      runDir: '/runs/bge/x',
      primary: 'mrr@1',
      config: { dataset: { type: 'jsonl', queries: 'q.jsonl' }, model: { path: './m' }, backend: { type: 'ort' }, training: { method: 'none' }, store: { type: 'memory' } },
      models,
      timings: { dataset: 0.5, evaluate_base: 2.25 },
      queries: { model: 'finetuned', results: [q('a', 1, 1), q('b', 0, 0.5, '\nName : Uber\nCategory: Taxi | x\n')] },
    });
    expect(text).toBe(
      [
        '# bge-transactions',
        '',
        '- date: 2025-01-02 03:04:05 UTC',
        '- status: ok',
        '- primary metric: MRR@1',
        '- run directory: `/runs/bge/x`',
        '',
        '## Configuration',
        '',
        '| stage | setting |',
        '| --- | --- |',
        '| dataset | jsonl (queries: q.jsonl) |',
        '| model | ./m |',
        '| backend | ort |',
        '| training | none |',
        '| store | memory |',
        '',
        '## Results',
        '',
        '| metric | base | fine-tuned | Δ |',
        '| --- | ---: | ---: | ---: |',
        '| MRR@1 | 0.360 | 0.560 | +0.200 |',
        '| MRR@3 | 0.490 | 0.690 | +0.200 |',
        '| Recall@1 | 0.360 | 0.560 | +0.200 |',
        '',
        '## Timings',
        '',
        '| stage | seconds |',
        '| --- | ---: |',
        '| dataset | 0.50 |',
        '| evaluate_base | 2.25 |',
        '',
        '## Worst queries (fine-tuned)',
        '',
        // query a (MRR@1 1.000) is not among the worst (issue 18)
        'The query with the lowest MRR@1 (below 1.000); expected documents are in bold in the top 3.',
        '',
        '| # | query | expected | top 3 | MRR@1 |',
        '| ---: | --- | --- | --- | ---: |',
        '| 1 | Name : Uber Category: Taxi \\| x | Travel | Meals (0.900), **Travel** (0.800), Fuel (0.100) | 0.000 |',
        '',
      ].join('\n'),
    );
  });

  it('says so when nothing was evaluated or recorded', () => {
    const text = renderReport({ name: 'x', date: new Date(0), status: 'failed', primary: 'mrr@1', models: {}, timings: {} });
    expect(text).toContain('- status: failed');
    expect(text).toContain('## Configuration\n\n(not recorded)');
    expect(text).toContain('## Results\n\n(no model was evaluated)');
    expect(text).not.toContain('## Timings');
    expect(text).not.toContain('## Worst queries');
  });
});
