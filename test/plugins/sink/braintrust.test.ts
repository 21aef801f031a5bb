/**
 * The `braintrust` sink against a local stand-in for the Braintrust API (the SDK's URL settings
 * point at it): every experiment, row, score and metadata that arrived, the baseline link, the
 * key kept out of the run directory, and what happens without a key, on HTTP 500 and when the
 * server never answers (bounded by timeout_s). Each run is a CLI process, as a user runs it.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { tempDir } from '../../helpers/cli.js';
import { fakeBraintrust, type FakeBraintrust } from '../../helpers/braintrust-server.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared, TRANSACTIONS_EXPERIMENT } from '../../helpers/shared.js';

const KEY = 'sk-bt-test-0123456789';
let server: FakeBraintrust | undefined;
afterEach(async () => server?.close());

/** Run the CLI as its own process (asynchronously: the server answers from this one). */
async function runWith(url: string, opts: { train?: boolean; key?: string; timeout?: number; sweep?: string; evaluate?: string } = {}) {
  const dir = tempDir('ftrun-bt-');
  writeFileSync(
    join(dir, 'x.yaml'),
    `name: bt
${TRANSACTIONS_EXPERIMENT}${opts.train ? 'splitter: { type: ratio, test: 0.2 }\nminer: { type: random-negative }\nloss: { type: multiple-negatives-ranking }\ntraining: { method: full, epochs: 1, learning_rate: 1.0e-3, eval_every: 10 }\nevaluate: { compare: [base, finetuned] }\n' : ''}backend: { type: ort, intra_op_threads: 1 }
sinks:
  - { type: json }
  - { type: braintrust, project: ftrun-test, app_url: "${url}", timeout_s: ${opts.timeout ?? 20} }
${opts.evaluate ? `evaluate:\n${opts.evaluate}` : ''}${opts.sweep ?? ''}`,
  );
  const env = { ...process.env, BRAINTRUST_API_KEY: opts.key ?? '' };
  if (!opts.key) delete (env as Record<string, string | undefined>).BRAINTRUST_API_KEY;
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'ftrun.js'), 'run', 'x.yaml', '--runs-dir', 'runs'], { cwd: dir, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const r = { status, stdout, stderr };
  const experiment = join(dir, 'runs', 'bt');
  const runDir = join(experiment, readdirSync(experiment)[0]!);
  return { ...r, seconds: (performance.now() - t0) / 1000, runDir };
}

/** Every file under `dir`, read as text. */
const everything = (dir: string): string =>
  readdirSync(dir).map((n) => join(dir, n)).map((p) => (statSync(p).isDirectory() ? everything(p) : readFileSync(p).toString('latin1'))).join('\n');

describeShared('the braintrust sink', () => {
  it('logs base and fine-tuned experiments, a row and scores per eval query, the base as baseline', async () => {
    server = await fakeBraintrust();
    const r = await runWith(server.url, { train: true, key: KEY });
    expect(r.status, r.stderr).toBe(0);
    expect(server.experiments.map((e) => [e.project_name, e.experiment_name, e.base_exp_id])).toEqual([
      ['ftrun-test', 'bt-base', undefined],
      ['ftrun-test', 'bt-finetuned', 'exp-bt-base'],
    ]);
    const metrics = JSON.parse(readFileSync(join(r.runDir, 'metrics.json'), 'utf8')) as { models: Record<string, Record<string, number>> };
    for (const model of ['base', 'finetuned']) {
      const rows = server.rows.filter((x) => x.experiment_id === `exp-bt-${model}`);
      expect(rows).toHaveLength(66);
      for (const row of rows) {
        expect(typeof row.input).toBe('string');
        expect(row.expected).toHaveLength(1);
        expect((row.output as unknown[]).length).toBe(5);
        const scores = row.scores as Record<string, number>;
        expect(Object.keys(scores)).toContain('mrr@1');
        for (const v of Object.values(scores)) expect(v >= 0 && v <= 1).toBe(true);
        expect(row.metadata).toMatchObject({ model, run_id: expect.any(String), config_hash: expect.stringMatching(/^[0-9a-f]{16}$/), query_id: expect.any(String) });
      }
      // the rows average to the run's own metrics
      const mean = rows.reduce((s, x) => s + (x.scores as Record<string, number>)['mrr@1']!, 0) / rows.length;
      expect(mean).toBeCloseTo(metrics.models[model]!['mrr@1']!, 10);
    }
    const tuned = server.experiments[1]!.metadata as { training: { steps: number; curve: Array<Record<string, number>> } };
    expect(tuned.training.steps).toBeGreaterThan(0);
    expect(tuned.training.curve.some((p) => p['mrr@1'] !== undefined)).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`braintrust: bt-base ${server.url}/app/acme/p/ftrun-test/experiments/bt-base\\n`));
    expect(r.stderr).toContain('braintrust: bt-finetuned ');
    // The key is nowhere in the run directory, nor in the output.
    expect(everything(r.runDir)).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('names and tags each sweep trial\'s experiments with the trial and its parameters', async () => {
    server = await fakeBraintrust();
    const r = await runWith(server.url, { key: KEY, sweep: 'sweep:\n  grid:\n    model.pooling: [cls, mean]\n' });
    expect(r.status, r.stderr).toBe(0);
    expect(server.experiments.map((e) => [e.experiment_name, e.metadata?.trial])).toEqual([
      ['bt-t1-base', { index: 1, overrides: { 'model.pooling': 'cls' } }],
      ['bt-t2-base', { index: 2, overrides: { 'model.pooling': 'mean' } }],
    ]);
    expect(server.rows.filter((x) => x.experiment_id === 'exp-bt-t2-base').every((x) => (x.metadata as { trial: unknown }).trial !== undefined)).toBe(true);
  });

  it('logs each evaluation set (evaluate.sets) in the model\'s experiment, its scores named <set>/<metric>', async () => {
    server = await fakeBraintrust();
    const general = join(ROOT, 'configs', 'data', 'general-qa.jsonl');
    const r = await runWith(server.url, { key: KEY, evaluate: `  name: transactions\n  sets:\n    general: { type: jsonl, queries: ${general} }\n` });
    expect(r.status, r.stderr).toBe(0);
    expect(server.experiments.map((e) => e.experiment_name)).toEqual(['bt-base']);
    const metrics = JSON.parse(readFileSync(join(r.runDir, 'metrics.json'), 'utf8')) as { sets: Record<string, Record<string, Record<string, number>>> };
    expect(server.experiments[0]!.metadata).toMatchObject({ primary_set: 'transactions', sets: { general: metrics.sets.general!.base } });
    const rows = server.rows.filter((x) => x.experiment_id === 'exp-bt-base');
    const setRows = rows.filter((x) => (x.metadata as { set?: string }).set === 'general');
    expect(rows).toHaveLength(66 + 40);
    expect(setRows).toHaveLength(40);
    for (const row of setRows) expect(Object.keys(row.scores as Record<string, number>)).toEqual(Object.keys(metrics.sets.general!.base!).map((k) => `general/${k}`));
    // the set's rows average to the run's metrics of the set; the primary rows keep the plain names
    const mean = setRows.reduce((s, x) => s + (x.scores as Record<string, number>)['general/mrr@1']!, 0) / setRows.length;
    expect(mean).toBeCloseTo(metrics.sets.general!.base!['mrr@1']!, 10);
    expect(rows.filter((x) => (x.scores as Record<string, number>)['mrr@1'] !== undefined)).toHaveLength(66);
  });

  it('without a key says so once and sends nothing; the run succeeds', async () => {
    server = await fakeBraintrust();
    const r = await runWith(server.url);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/braintrust/g)).toHaveLength(1);
    expect(r.stderr).toContain('warning: sink braintrust: BRAINTRUST_API_KEY is not set, so nothing was sent (the run directory has every result)\n');
    expect(server.requests).toEqual([]);
  });

  it('an HTTP 500 is a warning naming the sink; the run and its directory are complete', async () => {
    server = await fakeBraintrust('500');
    const r = await runWith(server.url, { key: KEY });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`warning: sink braintrust: could not send to ${server.url} \\(project ftrun-test\\): .*500.*; the run directory has every result\\n`));
    expect(JSON.parse(readFileSync(join(r.runDir, 'env.json'), 'utf8')).status).toBe('ok');
    expect(readFileSync(join(r.runDir, 'summary.jsonl'), 'utf8')).toContain('"status":"ok"');
  });

  it('a server that never answers is given up on after timeout_s', async () => {
    server = await fakeBraintrust('hang');
    const r = await runWith(server.url, { key: KEY, timeout: 1 });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`warning: sink braintrust: could not send to ${server.url} (project ftrun-test): no answer within 1 s; the run directory has every result\n`);
    expect(server.requests).toEqual(['POST /api/apikey/login']);
    expect(r.seconds).toBeLessThan(30);
    expect(JSON.parse(readFileSync(join(r.runDir, 'env.json'), 'utf8')).status).toBe('ok');
  });
});

describeShared('the braintrust dataset and ftrun dataset push', () => {
  it('pushes the reference data, reads it back with metadata.split, and evaluates as the local files do', async () => {
    server = await fakeBraintrust();
    const dir = tempDir('ftrun-btds-');
    const env = { ...process.env, BRAINTRUST_API_KEY: KEY, BRAINTRUST_APP_URL: server.url };
    const cliIn = (args: string[], e: NodeJS.ProcessEnv = env) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((res) => {
        const child = spawn(process.execPath, [join(ROOT, 'bin', 'ftrun.js'), ...args], { cwd: dir, env: e });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => res({ status, stdout, stderr }));
      });
    for (const [file, split] of [['train_transactions.jsonl', 'train'], ['eval_transactions.jsonl', 'eval']] as const) {
      const r = await cliIn(['dataset', 'push', join(TRANSACTIONS, file), '--project', 'ftrun-test', '--name', 'transactions', '--split', split]);
      expect(r.stderr).toBe(`pushed ${split === 'train' ? 260 : 66} records to braintrust dataset ftrun-test/transactions (split ${split}) at ${server.url}\n`);
      expect(r.status).toBe(0);
    }
    expect(server.datasets.get('ds-transactions')).toHaveLength(326);

    const common = `model: { path: ${TINY_BERT} }\nbackend: { type: ort, intra_op_threads: 1 }\nsinks: [{ type: json }]\n`;
    writeFileSync(join(dir, 'bt.yaml'), `name: from-bt\ndataset: { type: braintrust, project: ftrun-test, name: transactions }\nsplitter: { type: field, field: split }\n${common}`);
    writeFileSync(join(dir, 'local.yaml'), `name: local\ndataset: { type: jsonl, queries: ${TRANSACTIONS}/train_transactions.jsonl, eval: ${TRANSACTIONS}/eval_transactions.jsonl }\n${common}`);
    const viaBt = await cliIn(['run', 'bt.yaml', '--runs-dir', 'runs', '--json', '--quiet']);
    expect(viaBt.stderr).toBe('');
    const local = await cliIn(['run', 'local.yaml', '--runs-dir', 'runs', '--json', '--quiet']);
    expect(JSON.parse(viaBt.stdout).models).toEqual(JSON.parse(local.stdout).models);

    // without a key, validate says so before anything runs
    const noKey = { ...env };
    delete noKey.BRAINTRUST_API_KEY;
    const v = await cliIn(['validate', 'bt.yaml'], noKey);
    expect(v.status).toBe(2);
    expect(v.stderr).toBe('error[E_CONFIG]: Config is not valid, found 1 problem:\n  bt.yaml:2:1 dataset: BRAINTRUST_API_KEY is not set: the braintrust dataset needs it (the key comes from the environment only)\n');
  });
});
