import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import JsonSink from '../../../plugins/sink/json.js';
import type { RunSummary } from '../../../core/types.js';
import { makeContext } from '../../helpers/context.js';
import { tempRoot } from '../../helpers/fake-runs.js';

const summary = (name: string): RunSummary => ({
  name,
  runDir: '/runs/x/1',
  status: 'ok',
  primary: 'mrr@1',
  models: { base: { 'mrr@1': 0.25 } },
  delta: {},
  timings: { dataset: 0.5 },
});

describe('json sink', () => {
  it('appends a one-line summary to summary.jsonl in the run dir by default', () => {
    const ctx = makeContext();
    new JsonSink({}, ctx).close(summary('a'));
    const lines = readFileSync(join(ctx.runDir, 'summary.jsonl'), 'utf8').split('\n');
    expect(lines).toEqual([
      '{"name":"a","run_dir":"/runs/x/1","status":"ok","primary":"mrr@1","models":{"base":{"mrr@1":0.25}},"delta":{},"timings":{"dataset":0.5}}',
      '',
    ]);
  });

  it('resolves a relative path against the experiment directory and appends across runs', () => {
    const base = tempRoot();
    for (const name of ['a', 'b']) new JsonSink({ path: 'out/all.jsonl' }, makeContext({ baseDir: base })).close(summary(name));
    const rows = readFileSync(join(base, 'out', 'all.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { name: string });
    expect(rows.map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('declares its options', () => {
    expect(JsonSink.type).toBe('json');
    expect(JsonSink.schema).toMatchObject({ type: 'object', additionalProperties: false });
  });
});
