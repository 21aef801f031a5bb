/**
 * Faults `ftrun validate` let through (issue 16, items 8, 12, 13, 14), as a user meets them
 * through the CLI: a thread count no machine can use, a data file broken past its first record,
 * an option of a shipped config that a later layer made ineffective, an execution provider that
 * is installed but cannot start here. Each message is asserted exactly. Experiments use small
 * data files written here and a hub model id (validate loads no model), so only the
 * execution-provider cross-check needs ../shared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { providerFailure, providerReason } from '../../plugins/backend/ort.js';
import { cli, tempDir } from '../helpers/cli.js';
import { describeShared, TINY_BERT } from '../helpers/shared.js';

const LABELS = ['Travel', 'Meals', 'Office'];

/** `n` query records, three labels in turn; `edit` may change line i (0-based) of the file. */
function queries(n: number, edit: (i: number, line: string) => string = (_i, l) => l): string {
  return Array.from({ length: n }, (_, i) => edit(i, JSON.stringify({ input: `item ${i}`, expected: LABELS[i % 3] }))).join('\n') + '\n';
}

/**
 * A directory with q.jsonl (`queryText`, default 250 good records), corpus.json and x.yaml: a
 * jsonl experiment whose lines 1–8 are fixed (dataset.queries at 4:12, dataset.corpus at 5:11,
 * the backend at line 7), then `extra`.
 */
function experiment(opts: { queryText?: string; backend?: string; extra?: string } = {}): { dir: string; file: string } {
  const dir = tempDir('ftrun-faults-validate-');
  writeFileSync(join(dir, 'q.jsonl'), opts.queryText ?? queries(250));
  writeFileSync(join(dir, 'corpus.json'), JSON.stringify(LABELS) + '\n');
  const file = join(dir, 'x.yaml');
  writeFileSync(
    file,
    [
      'name: faults',
      'dataset:',
      '  type: jsonl',
      '  queries: q.jsonl',
      '  corpus: corpus.json',
      'model: { id: BAAI/bge-small-en-v1.5 }',
      `backend: ${opts.backend ?? '{ type: ort }'}`,
      'store: { type: memory }',
      'sinks: [{ type: console }]',
      opts.extra ?? '',
    ].join('\n'),
  );
  return { dir, file };
}

const cores = availableParallelism();
const max = 4 * cores;
const bound = `at most ${max} (4 × its ${cores} core${cores === 1 ? '' : 's'}); more than that only wait for the cores, and each takes its own memory`;

describe('item 8: thread and worker counts have a bound, checked by validate', () => {
  it('ort intra_op_threads: 100000 is refused at its line, naming the bound and why', async () => {
    const { file } = experiment({ backend: '{ type: ort, intra_op_threads: 100000 }' });
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:7:41 backend.intra_op_threads: 100000 threads is more than this machine can use: ${bound}. Use at most ${max}, or 0 (ONNX Runtime's default: one per core)\n`,
    );
    expect(r.code).toBe(2);
  });

  it('tfjs threads: the same bound', async () => {
    const { file } = experiment({ backend: '{ type: tfjs, device: wasm, threads: 100000 }' });
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe(`error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:7:47 backend.threads: 100000 threads is more than this machine can use: ${bound}. Use at most ${max}\n`);
    expect(r.code).toBe(2);
  });

  it('the bound itself is accepted', async () => {
    const { file } = experiment({ backend: `{ type: ort, intra_op_threads: ${max} }` });
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe(`${file}: valid\n`);
    expect(r.code).toBe(0);
  });

  it('ftrun run --parallel and ftrun worker --concurrency: the same bound, as usage errors', async () => {
    const { file } = experiment();
    const run = await cli(['run', file, '--parallel', '100000']);
    expect(run.stderr).toBe(`error[E_USAGE]: ftrun run: --parallel 100000: 100000 worker processes is more than this machine can use: ${bound}. Use --parallel ${max} or less\n`);
    expect(run.code).toBe(2);
    const worker = await cli(['worker', '--queue', 'redis://127.0.0.1:1', '--concurrency', '100000']);
    expect(worker.stderr).toBe(`error[E_USAGE]: ftrun worker: --concurrency 100000: 100000 trials at once is more than this machine can use: ${bound}. Use --concurrency ${max} or less\n`);
    expect(worker.code).toBe(2);
  });

  it('--parallel and --concurrency take a plain decimal count only (0x2, 2e0, +2 are refused)', async () => {
    const { file } = experiment();
    for (const v of ['0x2', '2e0', '+2', ' 2']) {
      const run = await cli(['run', file, '--parallel', v]);
      expect(run.stderr).toBe(`error[E_USAGE]: ftrun run: --parallel must be a positive whole number in decimal (e.g. 2), got "${v}"\n`);
      expect(run.code).toBe(2);
    }
    const worker = await cli(['worker', '--queue', 'redis://127.0.0.1:1', '--concurrency', '0x2']);
    expect(worker.stderr).toBe('error[E_USAGE]: ftrun worker: --concurrency must be a positive whole number in decimal (e.g. 2), got "0x2"\n');
    expect(worker.code).toBe(2);
  });
});

describe('item 12: validate reads every record, as run does', () => {
  it('bad JSON at line 201 fails validate, at dataset.queries', async () => {
    const { file, dir } = experiment({ queryText: queries(250, (i, l) => (i === 200 ? '{"input": "item 200", "expected": [Meals]}' : l)) });
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe(`error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:4:12 dataset.queries: ${dir}/q.jsonl:201: invalid JSON: Unexpected token 'M' (column 36)\n`);
    expect(r.code).toBe(2);
  });

  it('an expected label missing from the corpus at line 150 fails validate, at dataset.corpus', async () => {
    const { file, dir } = experiment({ queryText: queries(250, (i, l) => (i === 149 ? '{"input": "item 149", "expected": "Mealz"}' : l)) });
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:5:11 dataset.corpus: 1 expected label is not in the corpus (${dir}/corpus.json, 3 documents):\n    ${dir}/q.jsonl:150: "Mealz" (did you mean "Meals"?)\n`,
    );
    expect(r.code).toBe(2);
  });

  it('a record past the first without the input field fails validate', async () => {
    const { file, dir } = experiment({ queryText: queries(250, (i, l) => (i === 99 ? '{"text": "item 99", "expected": "Meals"}' : l)) });
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:4:12 dataset.queries: ${dir}/q.jsonl:100: missing field "input" (fields present: text, expected); set dataset.input to use another field\n`,
    );
    expect(r.code).toBe(2);
  });

  it('run refuses the same data before it makes a run directory', async () => {
    const { file, dir } = experiment({ queryText: queries(250, (i, l) => (i === 200 ? '{"input": "item 200", "expected": [Meals]}' : l)) });
    const r = await cli(['run', file, '--runs-dir', join(dir, 'runs')]);
    expect(r.stderr).toBe(`error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:4:12 dataset.queries: ${dir}/q.jsonl:201: invalid JSON: Unexpected token 'M' (column 36)\n`);
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('a run that fails on a user error while loading its data does not suggest ftrun resume', async () => {
    // k larger than the corpus is found when the data is loaded, not by validate.
    const { file, dir } = experiment({ extra: 'evaluate: { k: [1, 50] }\n' });
    const r = await cli(['run', file, '--runs-dir', join(dir, 'runs')]);
    expect(r.code).toBe(2);
    const runDir = join(dir, 'runs', 'faults', readdirSync(join(dir, 'runs', 'faults'))[0]!);
    const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(r.stderr).toMatch(
      new RegExp(
        '^' +
          escape(`run faults → ${runDir}\n\nfaults: failed\nno model was evaluated\n\nprimary: MRR@1\nrun dir: ${runDir}\n`) +
          escape('it stopped before any work began: fix the error below and run it again (there is nothing to resume)\n') +
          'elapsed: \\d+\\.\\d s\\n' +
          escape(`error[E_DATA]: ${file}:10:20 evaluate.k[1]: k=50 is larger than the corpus (3 documents); use k ≤ 3\n`) +
          '$',
      ),
    );
    expect(r.stderr).not.toContain('ftrun resume');
  });
});

describe('item 13: an option of an extended file that a later layer makes ineffective is dropped, not an error', () => {
  const quickstartChild = () => {
    const dir = tempDir('ftrun-faults-extends-');
    const file = join(dir, 'mine.yaml');
    writeFileSync(file, `extends: ${join(process.cwd(), 'configs', 'quickstart.yaml')}\nname: mine\n`);
    return file;
  };

  it('--set training.max_steps=50 over configs/quickstart.yaml: epochs is dropped, and plan says so', async () => {
    const file = quickstartChild();
    const v = await cli(['validate', file, '--set', 'training.max_steps=50']);
    expect(v.stderr).toBe(`${file}: valid\n`);
    expect(v.code).toBe(0);
    const plan = await cli(['plan', file, '--set', 'training.max_steps=50']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).not.toMatch(/^ {2}epochs:/m);
    expect(plan.stdout).toMatch(/^ {2}max_steps: 50$/m);
    expect(plan.stdout.endsWith(
      '# dropped: written in an extended file, they have no effect here\n' +
        '#   training.epochs (configs/quickstart.yaml:29:11): max_steps (50) sets the length of training and overrides epochs\n',
    )).toBe(true);
    const json = JSON.parse((await cli(['plan', file, '--set', 'training.max_steps=50', '--json'])).stdout);
    expect(json.dropped).toEqual([{ path: 'training.epochs', file: 'configs/quickstart.yaml', line: 29, col: 11, because: 'max_steps (50) sets the length of training and overrides epochs' }]);
  });

  it('--set training.method=none: the three training options and "finetuned" are dropped', async () => {
    const file = quickstartChild();
    const plan = await cli(['plan', file, '--set', 'training.method=none']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^training:\n {2}method: none\nevaluate:\n {2}compare:\n {4}- base\n {2}k:\n/m);
    expect(plan.stdout.endsWith(
      '# dropped: written in an extended file, they have no effect here\n' +
        '#   training.epochs (configs/quickstart.yaml:29:11): training.method none does not use it\n' +
        '#   training.batch_size (configs/quickstart.yaml:30:15): training.method none does not use it\n' +
        '#   training.adapter (configs/quickstart.yaml:31:3): training.method none does not use it\n' +
        '#   evaluate.compare[1] (configs/quickstart.yaml:38:19): training.method none trains no model to compare\n',
    )).toBe(true);
  });

  it('options written in the file you run stay errors, and say how to drop them from the command line', async () => {
    const r = await cli(['validate', 'configs/quickstart.yaml', '--set', 'training.max_steps=50']);
    expect(r.stderr).toBe(
      'error[E_CONFIG]: Config is not valid, found 1 problem:\n  configs/quickstart.yaml:29:11 training.epochs: has no effect here: max_steps (50) sets the length of training and overrides epochs; remove it (or add --set training.epochs=null)\n',
    );
    expect(r.code).toBe(2);
    const fixed = await cli(['validate', 'configs/quickstart.yaml', '--set', 'training.max_steps=50', '--set', 'training.epochs=null']);
    expect(fixed.stderr).toBe('configs/quickstart.yaml: valid\n');
  });
});

/** The message onnxruntime-node 1.30 gives for a webgpu session on a machine without a GPU adapter. */
const NO_ADAPTER =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';

describe('item 14: an execution provider that cannot start here is named, at execution_providers', () => {
  it("onnxruntime's failure reads as the provider and the reason", () => {
    expect(providerReason(NO_ADAPTER)).toBe('no GPU adapter found on this machine (onnxruntime-node: Failed to get a WebGPU adapter: No supported adapters)');
    const e = providerFailure(new Error(NO_ADAPTER), ['webgpu', 'cpu'])!;
    expect(e.code).toBe('E_CONFIG');
    expect(e.problems).toEqual([{ file: '', path: 'backend.execution_providers', message: 'webgpu: no GPU adapter found on this machine (onnxruntime-node: Failed to get a WebGPU adapter: No supported adapters)' }]);
    // Not a provider's failure (or not a provider asked for): left to the model's own error.
    expect(providerFailure(new Error('Load model from x.onnx failed: Protobuf parsing failed'), ['webgpu'])).toBeUndefined();
    expect(providerFailure(new Error(NO_ADAPTER), ['cpu'])).toBeUndefined();
  });

  describeShared('validate agrees with creating a session on the model', () => {
    it('execution_providers: [webgpu] passes validate exactly when onnxruntime can create a webgpu session here', async () => {
      // What the run would do: a webgpu session on the tiny BERT's model.onnx, in its own process.
      const ortEntry = createRequire(import.meta.url).resolve('onnxruntime-node');
      const script = `require(process.argv[1]).InferenceSession.create(process.argv[2], { executionProviders: ['webgpu'], logSeverityLevel: 4 })
        .then(() => console.log(JSON.stringify({ ok: true })), (e) => console.log(JSON.stringify({ ok: false, message: e.message })));`;
      const session = spawnSync(process.execPath, ['-e', script, ortEntry, join(TINY_BERT, 'model.onnx')], { encoding: 'utf8', timeout: 120_000 });
      const created = JSON.parse(session.stdout.trim().split('\n').pop()!) as { ok: boolean; message?: string };

      const { file } = experiment({ backend: '{ type: ort, execution_providers: [webgpu] }' });
      const r = await cli(['validate', file]);
      if (created.ok) {
        expect(r.stderr).toBe(`${file}: valid\n`);
        expect(r.code).toBe(0);
        return;
      }
      expect(r.stderr).toBe(`error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:7:23 backend.execution_providers: webgpu: ${providerReason(created.message!)}. Usable here: cpu.\n`);
      expect(r.code).toBe(2);
      // And the run's own error, had the session failed there, names the provider, not model.path.
      expect(providerFailure(new Error(created.message), ['webgpu'])?.problems[0]?.path).toBe('backend.execution_providers');
    }, 180_000);
  });
});
