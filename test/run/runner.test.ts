/**
 * The runner on its own (no CLI), with plugins made by definePlugin: the stages in order, every
 * encoder released exactly once whatever happens, events delivered to sinks in order and
 * awaited, a sink that fails reported once without costing the run, and a failed stage ending
 * with status `failed` and the metrics that exist.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../core/builtins.js';
import { loadConfig } from '../../core/config/load.js';
import { validateConfig } from '../../core/config/validate.js';
import { definePlugin } from '../../core/plugin.js';
import { runExperiment } from '../../core/run/runner.js';
import type { Encoder, RunEvent } from '../../core/types.js';
import { tempDir } from '../helpers/cli.js';

const CATEGORIES = ['Airfare', 'Hotels', 'Meals', 'Software', 'Insurance', 'Telecom'];
const QUERIES = CATEGORIES.flatMap((c, i) => [`${c} charge one`, `${c} charge two`].map((text, j) => ({ text, expected: [c], id: `q${i}${j}` })));

/** Everything the plugins saw, per test. */
function harness(opts: { slowSink?: boolean; failingLog?: boolean; failDataset?: boolean } = {}) {
  const seen = { disposed: [] as string[], loaded: [] as string[], events: [] as string[], failingCalls: 0 };
  const vector = (text: string) => {
    const v = new Float32Array(CATEGORIES.length);
    CATEGORIES.forEach((c, i) => (v[i] = text.includes(c) ? 1 : 0.1));
    return v;
  };
  const backend = definePlugin({
    stage: 'backend', type: 'fake', description: 'Keyword vectors.', schema: { type: 'object', additionalProperties: false, properties: {} },
    canTrain: false,
    create: () => ({
      async loadEncoder(_model, name): Promise<Encoder> {
        seen.loaded.push(name);
        return { dim: CATEGORIES.length, info: { fake: true }, encode: async (texts) => texts.map(vector), dispose: async () => void seen.disposed.push(name) };
      },
    }),
  });
  const dataset = definePlugin({
    stage: 'dataset', type: 'inline', description: 'Fixed queries.', schema: { type: 'object', additionalProperties: false, properties: {} },
    create: () => ({
      async load() {
        if (opts.failDataset) throw new Error('the data server is down');
        return { queries: QUERIES.map((q) => ({ id: q.id, text: q.text, relevant: q.expected })), corpus: CATEGORIES.map((c) => ({ id: c, text: c })) };
      },
    }),
  });
  const recorder = definePlugin({
    stage: 'sink', type: 'recorder', description: 'Records events.', schema: { type: 'object', additionalProperties: false, properties: {} },
    create: () => ({
      async log(event: RunEvent) {
        if (opts.slowSink) await new Promise((r) => setTimeout(r, 2));
        seen.events.push(event.type);
      },
    }),
  });
  const failing = definePlugin({
    stage: 'sink', type: 'failing', description: 'Rejects.', schema: { type: 'object', additionalProperties: false, properties: {} },
    create: () => ({
      async log() {
        seen.failingCalls++;
        throw new Error('HTTP 500');
      },
    }),
  });
  const registry = builtinRegistry().clone();
  for (const p of [backend, dataset, recorder, failing]) registry.register(p.stage, p);
  return { seen, registry };
}

async function run(opts: Parameters<typeof harness>[0] & { sinks?: string } = {}) {
  const { seen, registry } = harness(opts);
  const dir = tempDir('ftrun-runner-');
  writeFileSync(join(dir, 'x.yaml'), `name: r\ndataset: { type: inline }\nmodel: { path: ${dir} }\nbackend: { type: fake }\nsinks: ${opts.sinks ?? '[{ type: recorder }]'}\n`);
  const loaded = loadConfig(join(dir, 'x.yaml'), { env: {} });
  const config = validateConfig(loaded, registry);
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  const warnings: string[] = [];
  const result = await runExperiment({
    loaded, config, registry, runDir, runId: 'r1', argv: [], signal: new AbortController().signal,
    log: { quiet: false, verbose: false, tty: false, write: (s) => void warnings.push(...s.split('\n').filter((l) => l.startsWith('warning'))) },
  }).catch((e: unknown) => e);
  const read = (f: string) => JSON.parse(readFileSync(join(runDir, f), 'utf8'));
  return { seen, result, runDir, read, warnings };
}

describe('runExperiment', () => {
  it('runs the stages in order, delivering every event to a slow sink in order, and releases the encoder once', async () => {
    const { seen, result, read } = await run({ slowSink: true });
    expect(result instanceof Error ? result.message : (result as { status: string }).status).toBe('ok');
    expect(seen.events).toEqual([
      'run_start', 'stage_start', 'stage_end', 'stage_start', 'stage_end', 'split', 'stage_start', 'stage_end', 'mined',
      'stage_start', 'stage_end', 'stage_start', 'stage_end', 'eval', 'run_end',
    ]);
    const logged = readFileSync(join((result as { runDir: string }).runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).type);
    expect(logged).toEqual(seen.events);
    expect(seen.loaded).toEqual(['base']);
    expect(seen.disposed).toEqual(['base']);
    expect(read('metrics.json').models.base['mrr@1']).toBe(1);
  });

  it('a sink whose log() rejects is reported once, by name, and the run and the other sinks go on', async () => {
    const { seen, result, warnings, read, runDir } = await run({ sinks: '[{ type: failing }, { type: recorder }]' });
    expect((result as { status: string }).status).toBe('ok');
    expect(seen.failingCalls).toBe(1);
    const file = join(dirname(runDir), 'x.yaml');
    expect(warnings.filter((w) => w.includes('sinks'))).toEqual([`warning: sinks[0] (type: failing) at ${file}:5:9 failed on a run_start event and gets no more events: HTTP 500`]);
    expect(seen.events.at(-1)).toBe('run_end');
    expect(read('env.json').status).toBe('ok');
  });

  it('a stage that fails ends the run as failed, with its records written and nothing left loaded', async () => {
    const { seen, result, read, runDir } = await run({ failDataset: true });
    // named: the entry, its type and where it is written, and the call that failed
    const message = `dataset (type: inline) at ${join(dirname(runDir), 'x.yaml')}:2:1: load() failed: the data server is down`;
    expect((result as Error).message).toBe(message);
    expect(read('env.json')).toMatchObject({ status: 'failed', error: { message } });
    expect(read('metrics.json')).toEqual({ models: {}, delta: {}, primary: 'mrr@1', status: 'failed' });
    expect(seen.events).toEqual(['run_start', 'stage_start', 'run_end']);
    expect(seen.disposed).toEqual([]);
  });
});
