import { configAjv } from '../../../core/config/ajv.js';
import { describe, expect, it } from 'vitest';
import ConsoleSink, { formatElapsed } from '../../../plugins/sink/console.js';
import JsonSink from '../../../plugins/sink/json.js';
import MarkdownSink from '../../../plugins/sink/markdown.js';
import type { RunSummary } from '../../../core/types.js';
import { makeContext } from '../../helpers/context.js';

const summary: RunSummary = {
  name: 'bge-transactions',
  runDir: '/data/runs/bge/20250102-030405-abc123',
  status: 'ok',
  primary: 'mrr@1',
  models: { base: { 'mrr@1': 0.36, 'mrr@3': 0.49, 'recall@1': 0.36 }, finetuned: { 'mrr@1': 0.56, 'mrr@3': 0.69, 'recall@1': 0.56 } },
  delta: { 'mrr@1': 0.2, 'mrr@3': 0.2, 'recall@1': 0.2 },
  timings: { dataset: 0.1 },
};

function sink(options = { digits: 3 }) {
  const s = new ConsoleSink(options, makeContext());
  const out: string[] = [];
  s.write = (t) => void out.push(t);
  s.startedAt = 1000;
  s.now = () => 13_345;
  return { s, out };
}

describe('console sink', () => {
  it('sink schemas compile under strict ajv, fill defaults and reject unknown options', () => {
    const ajv = configAjv({ useDefaults: true, allErrors: true });
    const cases: Array<[{ schema: object }, object]> = [
      [ConsoleSink, { digits: 3 }],
      [JsonSink, {}],
      [MarkdownSink, { file: 'report.md', digits: 3 }],
    ];
    for (const [cls, defaults] of cases) {
      const validate = ajv.compile(cls.schema);
      const opts = {};
      expect(validate(opts)).toBe(true);
      expect(opts).toEqual(defaults);
      expect(validate({ nope: 1 })).toBe(false);
      for (const p of Object.values((cls.schema as { properties: Record<string, { description?: string }> }).properties)) expect(p.description).toBeTruthy();
    }
    expect(ConsoleSink.type).toBe('console');
  });

  it('prints one short line per evaluated model', () => {
    const { s, out } = sink();
    const results = [{ queryId: 'q', text: 't', expected: ['a'], top: [], metrics: {} }];
    s.logEval('finetuned', results, { 'mrr@1': 0.5625, 'mrr@3': 0.7 });
    expect(out).toEqual(['evaluated fine-tuned on 1 queries: MRR@1 0.563\n']);
  });

  it('prints the results table, primary metric, run dir and elapsed time on close', () => {
    const { s, out } = sink();
    s.close(summary);
    expect(out.join('')).toBe(
      [
        '',
        'bge-transactions: ok',
        'metric     base  fine-tuned       Δ',
        'MRR@1     0.360       0.560  +0.200',
        'MRR@3     0.490       0.690  +0.200',
        'Recall@1  0.360       0.560  +0.200',
        '',
        'primary: MRR@1 (base 0.360, fine-tuned 0.560, Δ +0.200)',
        'run dir: /data/runs/bge/20250102-030405-abc123',
        'elapsed: 12.3 s',
        '',
      ].join('\n'),
    );
  });

  it('honours digits and shows only the models present', () => {
    const { s, out } = sink({ digits: 2 });
    s.close({ ...summary, status: 'failed', models: { base: { 'mrr@1': 0.36 } }, delta: {} });
    const text = out.join('');
    expect(text).toContain('bge-transactions: failed\nmetric  base\nMRR@1   0.36\n');
    expect(text).toContain('primary: MRR@1 (base 0.36)\n');
    expect(text).not.toContain('fine-tuned');
  });

  it('says when no model was evaluated', () => {
    const { s, out } = sink();
    s.close({ ...summary, status: 'interrupted', models: {}, delta: {} });
    expect(out.join('')).toContain('bge-transactions: interrupted\nno model was evaluated\n\nprimary: MRR@1\n');
  });

  it('formats elapsed time', () => {
    expect([0.04, 59.96, 61, 3725].map(formatElapsed)).toEqual(['0.0 s', '1 min 0 s', '1 min 1 s', '1 h 2 min']);
  });
});

describe('console sink: training line', () => {
  it('prints steps, epochs, time and samples/s when the run trained', () => {
    const out: string[] = [];
    const sink = new ConsoleSink({ digits: 3 }, makeContext({ quiet: false, write: (s: string) => out.push(s) }));
    sink.close({
      name: 'x', runDir: '/tmp/x', status: 'ok', primary: 'mrr@1', models: { base: { 'mrr@1': 0.5 } }, delta: {}, timings: {},
      training: { steps: 26, epochs: 2, seconds: 3.5, samples_per_second: 118.86, model_dir: '/tmp/x/model' },
    });
    expect(out.join('')).toContain('training: 26 steps, 2 epochs in 3.5 s (118.9 samples/s)');
  });
});

describe('console sink: early stopping', () => {
  const close = (extra: Partial<RunSummary>) => {
    const out: string[] = [];
    const sink = new ConsoleSink({ digits: 3 }, makeContext({ quiet: false, write: (s: string) => out.push(s) }));
    sink.close({ name: 'x', runDir: '/tmp/x', status: 'ok', primary: 'mrr@1', models: { base: { 'mrr@1': 0.5 } }, delta: {}, timings: {}, ...extra });
    return out.join('');
  };

  it('says where training.early_stopping stopped the run and its best evaluation', () => {
    const text = close({ earlyStop: { rule: 'patience', step: 10, metric: 'mrr@1', value: 0.46, best: { step: 6, value: 0.4808 }, patience: 2, min_delta: 0.01 } });
    expect(text).toContain('\nearly stopping at step 10: mrr@1 did not improve by more than 0.01 in 2 evaluations (best 0.481 at step 6)\n');
  });

  it('says why sweep.stop stopped a trial, and offers no resume for it', () => {
    const text = close({ status: 'stopped', earlyStop: { rule: 'median', step: 2, metric: 'mrr@1', value: 0.2308, median: 0.4615, trials: 2 } });
    expect(text).toContain('x: stopped\n');
    expect(text).toContain('\nstopped by sweep.stop at step 2: mrr@1 0.231 below the median 0.462 of 2 other trials at that step\n');
    expect(text).not.toContain('ftrun resume');
  });
});
