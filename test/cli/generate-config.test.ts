/**
 * The shipped generate-then-train experiment (configs/generate-transactions.yaml, issue 19 §2
 * proof) end to end on the fixture model, against a stand-in OpenAI-compatible server whose
 * answers are each category's `sample_transactions` from categories.json (realistic queries):
 * the queries are generated, written to generated.jsonl, and trained on; metrics.json has base and
 * fine-tuned. generated.jsonl is a `jsonl` dataset with the same corpus; `ftrun dataset generate`
 * writes the same set from the cache with no request; the API key never reaches the run
 * directory or the output; a server that never answers is a bounded, located E_LLM error.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { startLlmServer, type LlmServer } from '../helpers/llm-server.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared, readJsonl, tinyBertSets } from '../helpers/shared.js';

const CONFIG = join(ROOT, 'configs', 'generate-transactions.yaml');

let servers: LlmServer[] = [];
const savedEnv = { ...process.env };
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
  process.env = { ...savedEnv };
});

/** Every file under `dir`, as text. */
function everything(dir: string): string {
  return readdirSync(dir).map((n) => (statSync(join(dir, n)).isDirectory() ? everything(join(dir, n)) : readFileSync(join(dir, n), 'latin1'))).join('\n');
}

describeShared('configs/generate-transactions.yaml: from the bare categories to a fine-tuned model', () => {
  let samples: Map<string, string[]>;
  beforeAll(() => {
    const cats = JSON.parse(readFileSync(join(TRANSACTIONS, 'categories.json'), 'utf8')) as Array<{ category: string; sample_transactions: string[] }>;
    samples = new Map(cats.map((c) => [c.category, c.sample_transactions]));
  });

  /** The stand-in model: for "Expense category: X … example i of n", X's i-th sample transaction. */
  const standIn = async () => {
    const s = await startLlmServer(({ prompt }) => {
      const category = /Expense category: (.*)\n/.exec(prompt)![1]!;
      const i = Number(/example (\d+) of/.exec(prompt)![1]);
      return { answer: samples.get(category)![i - 1]! };
    });
    servers.push(s);
    return s;
  };

  it('generates 135 queries, trains on them, evaluates on the 66 real eval transactions; the key is never written; dataset generate reuses the cache', async () => {
    const s = await standIn();
    const dir = tempDir();
    const key = 'sk-generate-never-written-7311';
    process.env.GENERATE_TEST_KEY = key;
    // The shipped config with a key, as a user with a keyed server writes it.
    writeFileSync(join(dir, 'keyed.yaml'), `extends: ${CONFIG}\ndataset:\n  llm:\n    api_key: \${env:GENERATE_TEST_KEY}\n`);
    const sets = [...tinyBertSets(), '--set', `dataset.llm.base_url=${s.baseUrl}`, '--set', `dataset.cache_dir=${join(dir, 'cache')}`];
    const r = await cli(['run', join(dir, 'keyed.yaml'), '--runs-dir', join(dir, 'runs'), '--json', ...sets]);
    expect(r.code).toBe(0);
    const runDir = (JSON.parse(r.stdout) as { run_dir: string }).run_dir;
    expect(s.requests).toBe(27 * 5);
    expect(s.authorizations.every((a) => a === `Bearer ${key}`)).toBe(true);

    const generated = readJsonl(join(runDir, 'generated.jsonl'));
    expect(generated).toHaveLength(135);
    expect(generated[0]).toEqual({ input: 'Adobe Creative Cloud Annual Subscription', expected: ['Software & Licenses'], sample: 1 });
    const events = readJsonl(join(runDir, 'events.jsonl'));
    expect(events.find((e) => e.type === 'split')).toMatchObject({ train: 108, test: 27, eval: 66, corpus: 27 });
    const metrics = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as { models: Record<string, Record<string, number>>; status: string };
    expect(metrics.status).toBe('ok');
    expect(Object.keys(metrics.models).sort()).toEqual(['base', 'finetuned']);
    const env = JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8')) as { dataset: Record<string, unknown> };
    expect(env.dataset).toMatchObject({ type: 'generate', model: 'llama3.1', base_url: s.baseUrl, documents: 27, chunks: 27, requests: 135, cache_hits: 0, generated: 135, malformed: 0, queries: 135, filters: { duplicates: 0, near_duplicates: 0, copied_span: 0 } });
    // The documented result (docs/plugins/dataset/generate.md).
    console.log(`generate-transactions on tiny-bert: MRR@1 base ${metrics.models.base!['mrr@1']} → fine-tuned ${metrics.models.finetuned!['mrr@1']}`);

    // The key: sent, never written, never printed.
    expect(everything(runDir)).not.toContain(key);
    expect(r.stdout + r.stderr).not.toContain(key);
    expect(readFileSync(join(runDir, 'resolved.yaml'), 'utf8')).toContain('api_key: ${env:GENERATE_TEST_KEY}');

    // generated.jsonl is a jsonl dataset with the same corpus: it validates and runs.
    writeFileSync(
      join(dir, 'again.yaml'),
      `name: again\ndataset:\n  type: jsonl\n  queries: ${join(runDir, 'generated.jsonl')}\n  eval: ${TRANSACTIONS}/eval_transactions.jsonl\n  corpus: { path: ${TRANSACTIONS}/categories.json, text: category }\n` +
        `splitter: { type: ratio, test: 0.2 }\nminer: { type: none }\nloss: { type: multiple-negatives-ranking }\nmodel: { id: BAAI/bge-small-en-v1.5 }\nbackend: { type: ort }\n` +
        `training: { method: full, batch_size: 16, batch_sampler: no-duplicates }\nevaluate: { compare: [base, finetuned] }\n`,
    );
    const v = await cli(['validate', join(dir, 'again.yaml')]);
    expect(v.stderr + v.stdout).toContain('valid');
    expect(v.code).toBe(0);
    const again = await cli(['run', join(dir, 'again.yaml'), '--runs-dir', join(dir, 'runs'), '--json', '--quiet', ...tinyBertSets({ maxSteps: 2 })]);
    expect(again.code).toBe(0);
    expect(readJsonl(join((JSON.parse(again.stdout) as { run_dir: string }).run_dir, 'events.jsonl')).find((e) => e.type === 'split')).toMatchObject({ train: 108, test: 27, eval: 66, corpus: 27 });

    // ftrun dataset generate: the same set from the cache, no request.
    const out = join(dir, 'out', 'set.jsonl');
    const g = await cli(['dataset', 'generate', join(dir, 'keyed.yaml'), '--out', out, '--set', `dataset.llm.base_url=${s.baseUrl}`, '--set', `dataset.cache_dir=${join(dir, 'cache')}`]);
    expect(g.code).toBe(0);
    expect(s.requests).toBe(135);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(runDir, 'generated.jsonl'), 'utf8'));
    expect(g.stderr).toBe(`generate: 135 queries for 27 documents from llama3.1: 0 requests, 135 cached, 0 malformed; filters removed 0 duplicates, 0 near duplicates, 0 copying their document\n135 queries → ${out}\n`);
    expect(g.stdout).toBe('');
  }, 600_000);

  it('filters.round_trip loads its encoder through the backend (ftrun dataset generate and ftrun run) and reports how many it removed', async () => {
    const s = await standIn();
    const dir = tempDir();
    const sets = ['--set', `dataset.llm.base_url=${s.baseUrl}`, '--set', `dataset.cache_dir=${join(dir, 'cache')}`, '--set', `dataset.filters.round_trip={model: {path: ${TINY_BERT}}, k: 3}`];
    const out = join(dir, 'rt.jsonl');
    const g = await cli(['dataset', 'generate', CONFIG, '--out', out, '--json', ...sets]);
    expect(g.stderr).toMatch(/^generate: \d+ queries for 27 documents from llama3\.1: 135 requests, \d+\+\d+ tokens, 0 cached, 0 malformed; filters removed 0 duplicates, 0 near duplicates, 0 copying their document, \d+ round-trip misses\n/);
    expect(g.code).toBe(0);
    const info = JSON.parse(g.stdout) as { file: string; queries: number; filters: { round_trip: number } };
    expect(info.file).toBe(out);
    expect(info.filters.round_trip).toBeGreaterThan(0);
    expect(info.queries + info.filters.round_trip).toBe(135);
    expect(readJsonl(out)).toHaveLength(info.queries);

    const r = await cli(['run', CONFIG, '--runs-dir', join(dir, 'runs'), '--json', '--quiet', ...tinyBertSets({ maxSteps: 1 }), ...sets]);
    expect(r.code).toBe(0);
    const runDir = (JSON.parse(r.stdout) as { run_dir: string }).run_dir;
    const env = JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8')) as { dataset: Record<string, unknown>; encoders: Record<string, unknown> };
    expect(env.dataset).toMatchObject({ requests: 0, cache_hits: 135, queries: info.queries, filters: { round_trip: info.filters.round_trip } });
    expect(Object.keys(env.encoders)).toContain('round_trip');
    expect(readFileSync(join(runDir, 'generated.jsonl'), 'utf8')).toBe(readFileSync(out, 'utf8'));
  }, 600_000);

  it('ftrun resume and every sweep trial reuse the cached answers: no request after the first generation', async () => {
    const s = await standIn();
    const dir = tempDir();
    const sets = [...tinyBertSets({ maxSteps: 1 }), '--set', `dataset.llm.base_url=${s.baseUrl}`, '--set', `dataset.cache_dir=${join(dir, 'cache')}`];
    // A sink that fails the run at its end (after the data is loaded): a run to resume.
    writeFileSync(join(dir, 'failing.yaml'), `extends: ${CONFIG}\nplugins: [${join(ROOT, 'test', 'fixtures', 'plugins', 'keyed-sink.mjs')}]\nsinks:\n  - type: json\n  - type: keyed\n    api_key: \${env:KEYED_TEST_KEY}\n`);
    process.env.KEYED_SINK_FAIL = '1';
    process.env.KEYED_TEST_KEY = 'sk-unused';
    const first = await cli(['run', join(dir, 'failing.yaml'), '--runs-dir', join(dir, 'runs'), '--quiet', ...sets]);
    expect(first.stderr).toContain('keyed sink: the service is down');
    expect(first.code).toBe(1);
    expect(s.requests).toBe(135);
    const runs = join(dir, 'runs', 'generate-transactions');
    const runDir = join(runs, readdirSync(runs)[0]!);
    process.env.KEYED_SINK_FAIL = '0';
    const resumed = await cli(['resume', runDir, '--quiet', '--json']);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(s.requests).toBe(135);
    expect(JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8')).dataset).toMatchObject({ requests: 0, cache_hits: 135, queries: 135 });

    const sweep = await cli(['run', CONFIG, '--runs-dir', join(dir, 'sweeps'), '--quiet', ...sets, '--sweep', 'training.batch_size=8,16']);
    expect(sweep.code).toBe(0);
    expect(s.requests).toBe(135);
    const sweepDir = join(dir, 'sweeps', 'generate-transactions', readdirSync(join(dir, 'sweeps', 'generate-transactions'))[0]!);
    for (const t of ['1', '2']) expect(JSON.parse(readFileSync(join(sweepDir, 'trials', t, 'env.json'), 'utf8')).dataset).toMatchObject({ requests: 0, cache_hits: 135 });
  }, 600_000);

  it('a server that never answers: exit 2, E_LLM at dataset.llm naming the URL, the timeout and the retries', async () => {
    const s = await startLlmServer(() => ({ hang: true }));
    servers.push(s);
    const dir = tempDir();
    const sets = ['--set', `dataset.llm.base_url=${s.baseUrl}`, '--set', `dataset.cache_dir=${join(dir, 'cache')}`, '--set', 'dataset.llm.timeout_s=0.2', '--set', 'dataset.llm.retries=1', '--set', 'dataset.llm.concurrency=1'];
    const g = await cli(['dataset', 'generate', CONFIG, '--out', join(dir, 'x.jsonl'), ...sets]);
    expect(g.code).toBe(2);
    expect(g.stderr).toBe(
      `error[E_LLM]: ${relative(process.cwd(), CONFIG)}:18:3 dataset.llm: no usable answer from ${s.baseUrl}/chat/completions after 2 attempts (timeout_s 0.2 each, retries 1): the last request got no answer within timeout_s 0.2. ` +
        `0 of 135 generations are cached in ${join(dir, 'cache')} (0 answered this time); once the server answers, run again: only the rest are asked for\n`,
    );
    expect(s.requests).toBe(2);
  }, 120_000);

  it('dataset generate on an experiment whose dataset is not generate: exit 2 naming the type', async () => {
    const g = await cli(['dataset', 'generate', join(ROOT, 'configs', 'bge.yaml')]);
    expect(g.code).toBe(2);
    expect(g.stderr).toBe(
      `error[E_USAGE]: ftrun dataset generate: ${relative(process.cwd(), join(ROOT, 'configs', '_base', 'transactions.yaml'))}:7 dataset.type is "jsonl"; the command writes the queries of a dataset of type generate (dataset: { type: generate, corpus, llm }). See: ftrun dataset --help\n`,
    );
  });
});

describe('ftrun dataset generate: usage', () => {
  it.each([
    ['no config', ['dataset', 'generate'], 'error[E_USAGE]: ftrun dataset generate: expected one config file, got nothing. See: ftrun dataset --help\n'],
    ['two configs', ['dataset', 'generate', 'a.yaml', 'b.yaml'], 'error[E_USAGE]: ftrun dataset generate: expected one config file, got a.yaml b.yaml. See: ftrun dataset --help\n'],
    ['an inspect flag', ['dataset', 'generate', 'a.yaml', '--rows', '3'], 'error[E_USAGE]: ftrun dataset generate: --rows goes with ftrun dataset inspect. See: ftrun dataset --help\n'],
    ['a push flag', ['dataset', 'generate', 'a.yaml', '--project', 'p'], 'error[E_USAGE]: ftrun dataset generate: --project goes with ftrun dataset push. See: ftrun dataset --help\n'],
    ['--out with push', ['dataset', 'push', 'a.jsonl', '--out', 'x.jsonl'], 'error[E_USAGE]: ftrun dataset: --out goes with ftrun dataset generate. See: ftrun dataset --help\n'],
  ])('%s: exit 2', async (_, argv, message) => {
    const r = await cli(argv);
    expect(r.stderr).toBe(message);
    expect(r.code).toBe(2);
  });
});
