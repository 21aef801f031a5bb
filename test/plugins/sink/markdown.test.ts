import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import MarkdownSink from '../../../plugins/sink/markdown.js';
import type { QueryResult, RunSummary } from '../../../core/types.js';
import { makeContext } from '../../helpers/context.js';

const summary: RunSummary = {
  name: 'bge-transactions',
  runDir: '',
  status: 'ok',
  primary: 'mrr@1',
  models: { base: { 'mrr@1': 0.36 }, finetuned: { 'mrr@1': 0.56 } },
  delta: { 'mrr@1': 0.2 },
  timings: { dataset: 1.5 },
};

const results = (model: string, n: number): QueryResult[] =>
  Array.from({ length: n }, (_, i) => ({
    queryId: `${model}-${i}`,
    text: `${model} query ${i}`,
    expected: ['Travel'],
    top: [{ id: i % 2 ? 'Travel' : 'Meals', score: 0.5 }],
    metrics: { 'mrr@1': i % 2 },
  }));

describe('markdown sink', () => {
  it('writes report.md in the run dir with config, table, timings and the worst queries of the last model', () => {
    const ctx = makeContext();
    const sink = new MarkdownSink({ file: 'report.md', digits: 3 }, ctx);
    sink.date = new Date(Date.UTC(2025, 5, 1, 12, 0, 0));
    sink.logConfig({ name: 'bge-transactions', dataset: { type: 'jsonl', queries: 'q.jsonl' }, model: { id: 'BAAI/bge-base-en' }, backend: { type: 'ort' }, training: { method: 'full', epochs: 5 }, store: { type: 'lancedb' } });
    sink.logEval('base', results('base', 3));
    sink.logEval('finetuned', results('finetuned', 24));
    sink.close(summary);
    expect(readdirSync(ctx.runDir)).toEqual(['report.md']); // no temp file left
    const text = readFileSync(join(ctx.runDir, 'report.md'), 'utf8');
    expect(text.startsWith('# bge-transactions\n\n- date: 2025-06-01 12:00:00 UTC\n- status: ok\n- primary metric: MRR@1\n')).toBe(true);
    expect(text).toContain(`- run directory: \`${ctx.runDir}\``);
    expect(text).toContain('| dataset | jsonl (queries: q.jsonl) |\n| model | BAAI/bge-base-en |\n| backend | ort |\n| training | full (epochs: 5) |\n| store | lancedb |');
    expect(text).toContain('| MRR@1 | 0.360 | 0.560 | +0.200 |');
    expect(text).toContain('| dataset | 1.50 |');
    expect(text).toContain('## Worst queries (fine-tuned)');
    const worstRows = text.split('\n').filter((l) => /^\| \d+ \| /.test(l));
    expect(worstRows).toHaveLength(10);
    expect(worstRows[0]).toBe('| 1 | finetuned query 0 | Travel | Meals (0.500) | 0.000 |');
    expect(worstRows.every((r) => r.includes('finetuned query') && r.endsWith('| 0.000 |'))).toBe(true);
  });

  it('honours the file option and writes a report for a failed run without evaluations', () => {
    const ctx = makeContext();
    const sink = new MarkdownSink({ file: 'out.md', digits: 3 }, ctx);
    sink.close({ ...summary, status: 'failed', models: {}, delta: {}, timings: {} });
    expect(existsSync(join(ctx.runDir, 'report.md'))).toBe(false);
    const text = readFileSync(join(ctx.runDir, 'out.md'), 'utf8');
    expect(text).toContain('- status: failed');
    expect(text).toContain('(no model was evaluated)');
  });
});
