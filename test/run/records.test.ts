/**
 * The names in core/run/records.ts are the run and sweep directory contract: a run (with the
 * default sinks and the lancedb store) and a collected sweep write exactly the entries the module
 * names, and every one of them is in the layout docs/run-directory.md promises.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../core/builtins.js';
import { loadConfig } from '../../core/config/load.js';
import { validateConfig } from '../../core/config/validate.js';
import { definePlugin } from '../../core/plugin.js';
import * as records from '../../core/run/records.js';
import { runExperiment } from '../../core/run/runner.js';
import type { RunSummary } from '../../core/types.js';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT } from '../helpers/shared.js';

const CATEGORIES = ['Airfare', 'Hotels', 'Meals', 'Software', 'Insurance', 'Telecom'];

/** A run of keyword vectors on a few inline queries, default sinks, store lancedb; returns its directory. */
async function runDirWithDefaultSinks(): Promise<string> {
  const backend = definePlugin({
    stage: 'backend', type: 'keywords', description: 'Keyword vectors.', schema: { type: 'object', additionalProperties: false, properties: {} },
    canTrain: false,
    create: () => ({
      async loadEncoder() {
        const vector = (text: string) => Float32Array.from(CATEGORIES, (c) => (text.includes(c) ? 1 : 0.1));
        return { dim: CATEGORIES.length, info: { keywords: true }, encode: async (texts: string[]) => texts.map(vector), dispose: async () => {} };
      },
    }),
  });
  const dataset = definePlugin({
    stage: 'dataset', type: 'inline', description: 'Fixed queries.', schema: { type: 'object', additionalProperties: false, properties: {} },
    create: () => ({
      async load() {
        return { queries: CATEGORIES.map((c, i) => ({ id: `q${i}`, text: `${c} charge`, relevant: [c] })), corpus: CATEGORIES.map((c) => ({ id: c, text: c })) };
      },
    }),
  });
  const registry = builtinRegistry().clone();
  for (const p of [backend, dataset]) registry.register(p.stage, p);
  const dir = tempDir('ftrun-records-');
  writeFileSync(join(dir, 'x.yaml'), `name: r\ndataset: { type: inline }\nmodel: { path: ${dir} }\nbackend: { type: keywords }\nstore: { type: lancedb }\n`);
  const loaded = loadConfig(join(dir, 'x.yaml'), { env: {} });
  const config = validateConfig(loaded, registry);
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  const summary: RunSummary = await runExperiment({
    loaded, config, registry, runDir, runId: 'r1', argv: [], signal: new AbortController().signal,
    log: { quiet: true, verbose: false, tty: false, write: () => {} },
  });
  expect(summary.status).toBe('ok');
  return runDir;
}

/** The entry names of the layout block of docs/run-directory.md (`model/` → `model`, `leaderboard.md / leaderboard.json` → both). */
function documentedLayout(): Set<string> {
  const doc = readFileSync(join(ROOT, 'docs', 'run-directory.md'), 'utf8');
  const layout = /## Layout\s*```\n([\s\S]*?)```/.exec(doc)![1]!;
  return new Set(layout.split('\n').flatMap((line) => line.trim().split(/\s{2,}/)[0]!.split(' / ')).flatMap((entry) => entry.split('/').filter((p) => p && !p.includes('<'))));
}

describe('core/run/records.ts names the run and sweep directory contract', () => {
  it('a run writes exactly the entries the module names', async () => {
    const runDir = await runDirWithDefaultSinks();
    expect(readdirSync(runDir).sort()).toEqual(
      [records.RESOLVED_YAML, records.METRICS_JSON, records.PER_QUERY_JSONL, records.EVENTS_JSONL, records.ENV_JSON, records.REPORT_MD, records.REPORT_HTML, records.SUMMARY_JSONL, records.LANCEDB_DIR].sort(),
    );
    const env = JSON.parse(readFileSync(join(runDir, records.ENV_JSON), 'utf8')) as records.RunEnv;
    expect(env).toMatchObject({ status: 'ok', run_id: 'r1', encoders: { base: { keywords: true } } });
    const lines = readFileSync(join(runDir, records.PER_QUERY_JSONL), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as records.PerQuery);
    expect(Object.keys(lines[0]!)).toEqual(['model', 'query_id', 'text', 'expected', 'top', 'metrics']);
  });

  it('a collected sweep writes exactly the entries the module names, its trials under trials/<n>', async () => {
    const dir = tempDir('ftrun-records-sweep-');
    writeFileSync(
      join(dir, 'sweep.yaml'),
      'name: s\ndataset: { type: synthetic-transactions, train: 40, eval: 20 }\nmodel: { bundled: use-lite }\nbackend: { type: tfjs }\ntraining: { method: none }\nsweep: { grid: { seed: [1, 2] } }\n',
    );
    const sweepDir = join(dir, 'prepared');
    expect((await cli(['plan', join(dir, 'sweep.yaml'), '--prepare', sweepDir])).code).toBe(0);
    expect((await cli(['sweep', 'collect', sweepDir])).code).toBe(1); // both trials missing
    expect(readdirSync(sweepDir).sort()).toEqual([records.SWEEP_JSON, records.TRIALS_DIR, records.LEADERBOARD_JSON, records.LEADERBOARD_MD, records.LEADERBOARD_HTML].sort());
    const sweep = JSON.parse(readFileSync(join(sweepDir, records.SWEEP_JSON), 'utf8')) as records.SweepRecord;
    expect(sweep.trials.map((t) => [t.index, t.run_dir, t.status])).toEqual([
      [1, records.trialRunDir(sweepDir, 1), 'missing'],
      [2, records.trialRunDir(sweepDir, 2), 'missing'],
    ]);
    expect(records.trialRunDir(sweepDir, 2)).toBe(join(sweepDir, 'trials', '2'));
  });

  it('every name is one docs/run-directory.md documents', () => {
    const documented = documentedLayout();
    const names = [
      records.RESOLVED_YAML, records.METRICS_JSON, records.PER_QUERY_JSONL, records.EVENTS_JSONL, records.ENV_JSON, records.REPORT_MD, records.REPORT_HTML,
      records.SUMMARY_JSONL, records.MODEL_DIR, records.ADAPTER_DIR, records.CHECKPOINTS_DIR, records.LANCEDB_DIR,
      records.SWEEP_JSON, records.TRIALS_DIR, records.LEADERBOARD_JSON, records.LEADERBOARD_MD,
      ...records.CONTRACT_ENTRIES,
    ];
    expect(names.filter((n) => !documented.has(n))).toEqual([]);
    const doc = readFileSync(join(ROOT, 'docs', 'run-directory.md'), 'utf8');
    expect(doc).toContain(`${records.CHECKPOINTS_DIR}/${records.CHECKPOINT_PREFIX}<n>/`);
    expect(doc).toContain(`${records.SWEEP_DIR_PREFIX}<sweep-id>/`);
  });
});
