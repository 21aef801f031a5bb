/**
 * Secrets and resume: a key given as ${env:NAME} is recorded in resolved.yaml as that reference
 * (never its value), and `ftrun resume` reads the environment again; a key written literally is
 * recorded redacted, and resume says why it cannot continue.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared } from '../helpers/shared.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

const config = (key: string, model = TINY_BERT) => `name: keyed
plugins: [${join(ROOT, 'test', 'fixtures', 'plugins', 'keyed-sink.mjs')}]
dataset:
  type: jsonl
  queries: ${TRANSACTIONS}/train_transactions.jsonl
  eval: ${TRANSACTIONS}/eval_transactions.jsonl
  corpus: { path: ${TRANSACTIONS}/categories.json, text: category }
model: { path: ${model} }
backend: { type: ort }
store: { type: memory }
sinks:
  - { type: json }
  - type: keyed
    api_key: ${key}
`;

/** Every file under `dir`, as text. */
function everything(dir: string): string {
  return readdirSync(dir).map((n) => (statSync(join(dir, n)).isDirectory() ? everything(join(dir, n)) : readFileSync(join(dir, n), 'latin1'))).join('\n');
}

describeShared('secrets never reach an output', () => {
  it('a value built from a secret-looking variable, a key given with --set, a key failing its pattern', async () => {
    const dir = tempDir();
    const file = join(dir, 'x.yaml');
    writeFileSync(file, config('${env:KEYED_TEST_KEY}') + '    headers:\n      Authorization: "Bearer ${env:KEYED_API_TOKEN}"\n');
    process.env.KEYED_TEST_KEY = 'sk-env-4';
    process.env.KEYED_API_TOKEN = 'tok-header-5';
    const plan = await cli(['plan', file]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Authorization: Bearer ${env:KEYED_API_TOKEN}');
    expect(plan.stdout).not.toMatch(/sk-env-4|tok-header-5/);

    const r = await cli(['run', file, '--runs-dir', join(dir, 'runs'), '--quiet', '--json', '--set', 'sinks[1].api_key=sk-argv-6']);
    expect(r.code).toBe(0);
    const runDir = JSON.parse(r.stdout).run_dir as string;
    expect(JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8')).argv).toContain('sinks[1].api_key=***');
    expect(everything(runDir)).not.toMatch(/sk-env-4|tok-header-5|sk-argv-6/);
    expect(readFileSync(join(runDir, 'resolved.yaml'), 'utf8')).toContain('Authorization: Bearer ${env:KEYED_API_TOKEN}');

    process.env.KEYED_TEST_KEY = 'not-a-key-7';
    const bad = await cli(['validate', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sinks[1].api_key: the value (hidden: a secret) does not match the pattern ^sk-');
    expect(bad.stderr).not.toContain('not-a-key-7');
  });
});

describeShared('secrets in resumed runs', () => {
  it('a key from ${env:NAME} is recorded as the reference and re-read by resume', async () => {
    const dir = tempDir();
    // The model path is relative: resume validates and runs it against the experiment file's folder.
    writeFileSync(join(dir, 'x.yaml'), config('${env:KEYED_TEST_KEY}', relative(dir, TINY_BERT)));
    process.env.KEYED_TEST_KEY = 'sk-very-secret-1';
    process.env.KEYED_SINK_FAIL = '1';
    const first = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--quiet', '--json']);
    expect(first.code).toBe(1);
    const runs = join(dir, 'runs', 'keyed');
    const runDir = join(runs, readdirSync(runs)[0]!);
    expect(readFileSync(join(runDir, 'resolved.yaml'), 'utf8')).toContain('api_key: ${env:KEYED_TEST_KEY}');
    // The sink's failure is the run's: env.json and metrics.json say so.
    expect(JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8'))).toMatchObject({ status: 'failed', error: { message: `sinks[1] (type: keyed) at ${join(dir, 'x.yaml')}:13:5: close() failed: keyed sink: the service is down` } });
    expect(JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')).status).toBe('failed');
    expect(everything(runDir)).not.toContain('sk-very-secret-1');

    process.env.KEYED_SINK_FAIL = '0';
    const r = await cli(['resume', runDir, '--quiet', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('ok');
    expect(everything(runDir)).not.toContain('sk-very-secret-1');
  });

  it('a key written literally is recorded redacted, and resume says what to do', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.yaml'), config('sk-literal-2'));
    process.env.KEYED_SINK_FAIL = '1';
    expect((await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--quiet'])).code).toBe(1);
    const runs = join(dir, 'runs', 'keyed');
    const runDir = join(runs, readdirSync(runs)[0]!);
    expect(everything(runDir)).not.toContain('sk-literal-2');
    const r = await cli(['resume', runDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_RUN]: ${runDir}: cannot resume: sinks[1].api_key was written into the experiment file literally, so resolved.yaml records it redacted ("***"). ` +
        'Give secrets as ${env:NAME} (resolved.yaml then records the reference and resume re-reads the environment), and start a new run\n',
    );
  });
});
