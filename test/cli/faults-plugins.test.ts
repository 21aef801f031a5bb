/**
 * Faults around plugins and outputs, as a user meets them through the CLI (issue 16): HTML in
 * config values, labels and queries stays text in every Markdown output; a plugin whose module
 * never finishes loading, or whose hooks throw, is named; `ftrun dataset push` checks what the
 * server answered. Runs use a keyword backend and an inline dataset written here, so nothing
 * needs ../shared.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBraintrust, type FakeBraintrust, type FakeMode } from '../helpers/braintrust-server.js';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT } from '../helpers/shared.js';

const BIN = join(ROOT, 'bin', 'ftrun.js');
const INLINE_DATASET = join(ROOT, 'test', 'fixtures', 'plugins', 'inline-dataset.mjs');

/** The CLI as its own process, in `cwd` (so messages name files relative to it). */
function ftrun(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A backend whose vectors count letters: no model to load, deterministic, instant. */
const KEYWORD_BACKEND = `export class KeywordBackend {
  static stage = 'backend';
  static type = 'keyword';
  static description = 'Letter-count vectors.';
  static schema = { type: 'object', additionalProperties: false, properties: {} };
  static canTrain = false;
  async loadEncoder() {
    const vector = (t) => Float32Array.from('abcdefghijklmnopqrstuvwxyz', (c) => 0.1 + t.toLowerCase().split(c).length - 1);
    return { dim: 26, info: { keyword: true }, encode: async (texts) => texts.map(vector), dispose: async () => {} };
  }
}
`;

/** An experiment on the inline dataset and the keyword backend; `extra` is appended. */
function experiment(dir: string, extra = '', opts: { plugins?: string[]; dataset?: string } = {}): string {
  writeFileSync(join(dir, 'keyword-backend.mjs'), KEYWORD_BACKEND);
  const plugins = [INLINE_DATASET, './keyword-backend.mjs', ...(opts.plugins ?? [])];
  return `name: faults
plugins: [${plugins.map((p) => JSON.stringify(p)).join(', ')}]
dataset:
${opts.dataset ?? `  type: inline
  queries:
    - { text: "lunch with a client", expected: [Meals] }
    - { text: "flight to Berlin", expected: [Airfare] }
  corpus: [Meals, Airfare]`}
model: { path: . }
backend: { type: keyword }
evaluate: { k: [1, 2] }
${extra}`;
}

describe('HTML in config values, labels and queries', () => {
  const XSS = '"><img src=x onerror=alert(1)>';
  const XSS2 = '<img src=y onerror=alert(2)>|<b>';
  const dataset = `  type: inline
  queries:
    - { text: "lunch <img src=q onerror=alert(3)> with a client", expected: ["<img src=l onerror=alert(4)>"] }
    - { text: "flight to Berlin", expected: [Airfare] }
    - { text: "dinner <img src=q onerror=alert(3)> at the airport", expected: [Airfare] }
  corpus: ["<img src=l onerror=alert(4)>", Airfare]`;

  it('shows as text in report.md, leaderboard.md and diff --md: no raw <img, the escaped text still there', async () => {
    const dir = tempDir('ftrun-xss-');
    writeFileSync(
      join(dir, 'x.yaml'),
      experiment(dir, `sinks: [{ type: markdown }]\nsweep:\n  grid:\n    model.query_prompt: ${JSON.stringify([XSS, XSS2])}\n`, { dataset }).replace('model: { path: . }', `model: { path: ., query_prompt: ${JSON.stringify(XSS)} }`),
    );
    const runs = join(dir, 'runs');
    const r = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', runs, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const sweep = join(runs, 'faults', readdirSync(join(runs, 'faults'))[0]!);
    const trial = (n: number) => join(sweep, 'trials', String(n));

    const report = readFileSync(join(trial(1), 'report.md'), 'utf8');
    const leaderboard = readFileSync(join(sweep, 'leaderboard.md'), 'utf8');
    const d = await cli(['diff', trial(1), trial(2), '--md']);
    expect(d.code).toBe(0);
    for (const md of [report, leaderboard, d.stdout]) {
      expect(md).not.toMatch(/<img|<b>/);
      expect(md).toContain('&lt;img src=');
    }
    // the config summary, the query, the expected label and the top hits (the expected one in bold)
    expect(report).toContain('query_prompt: "&gt;&lt;img src=x onerror=alert(1)&gt;');
    // (worst queries: only the ones ranked wrong, here the dinner query, the label above its expected one)
    expect(report).toContain('| dinner &lt;img src=q onerror=alert(3)&gt; at the airport | Airfare | &lt;img src=l onerror=alert(4)&gt; (');
    expect(report).toContain('**Airfare** (');
    // the overrides, with the table's | escaped
    expect(leaderboard).toContain('model.query_prompt="&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(leaderboard).toContain('model.query_prompt=&lt;img src=y onerror=alert(2)&gt;\\|&lt;b&gt;');
    expect(d.stdout).toContain('| model.query_prompt | "&gt;&lt;img src=x onerror=alert(1)&gt; | &lt;img src=y onerror=alert(2)&gt;\\|&lt;b&gt; |');
  });
});

/** A sink that throws from the hook its `fail` option names. */
const FAILING_SINK = `export class FailingSink {
  static stage = 'sink';
  static type = 'my-sink';
  static description = 'Throws where told.';
  static schema = { type: 'object', additionalProperties: false, properties: { fail: { type: 'string' } } };
  static check(options) {
    if (options.fail === 'check') throw new Error('check exploded');
    return [];
  }
  constructor(options) {
    this.fail = options.fail;
    if (this.fail === 'create') throw new Error('exploded');
  }
  logConfig() { if (this.fail === 'logConfig') throw new Error('exploded'); }
  logEval() { if (this.fail === 'logEval') throw new Error('exploded'); }
  close() { if (this.fail === 'close') throw new TypeError('exploded'); }
  static ineffective(options) {
    if (options.fail === 'ineffective') throw new Error('ineffective exploded');
    return [];
  }
}

/** A dataset that cannot read its first record (the field splitter's check asks for it). */
export class PeekingDataset {
  static stage = 'dataset';
  static type = 'peeking';
  static description = 'Fails to sample.';
  static schema = { type: 'object', additionalProperties: false, properties: {} };
  static sampleRecord() { throw new Error('cannot peek'); }
  async load() { return { queries: [], corpus: [] }; }
}
`;

describe('a plugin whose hook throws', () => {
  /** A run with a json sink and the failing sink (sinks[1], at line 14, column 5), failing at `fail`. */
  function failingRun(fail: string) {
    const dir = tempDir('ftrun-hook-');
    writeFileSync(join(dir, 'failing-sink.mjs'), FAILING_SINK);
    const text = experiment(dir, `sinks:\n  - { type: json }\n  - { type: my-sink, fail: ${fail} }\n`, { plugins: ['./failing-sink.mjs'] });
    expect(text.split('\n')[13]).toBe(`  - { type: my-sink, fail: ${fail} }`);
    writeFileSync(join(dir, 'x.yaml'), text);
    return { dir, ...ftrun(dir, ['run', 'x.yaml', '--runs-dir', 'runs']) };
  }

  it.each(['check', 'ineffective'])('%s() throwing is a config error naming the plugin (exit 2): validate and run alike', (hook) => {
    const { dir } = failingRun('none');
    writeFileSync(join(dir, 'x.yaml'), readFileSync(join(dir, 'x.yaml'), 'utf8').replace('fail: none', `fail: ${hook}`));
    for (const args of [['validate', 'x.yaml'], ['run', 'x.yaml', '--runs-dir', 'runs']]) {
      const r = ftrun(dir, args);
      expect(r.stderr).toBe(`error[E_CONFIG]: Config is not valid, found 1 problem:\n  x.yaml:14:5 sinks[1]: ${hook}() of sink plugin "my-sink" failed: ${hook} exploded\n`);
      expect(r.status).toBe(2);
    }
    expect(readdirSync(join(dir, 'runs', 'faults'))).toHaveLength(1); // only the run of failingRun('none')
  });

  it("a dataset's sampleRecord() throwing (asked by the field splitter's check) names the dataset (exit 2)", () => {
    const dir = tempDir('ftrun-hook-');
    writeFileSync(join(dir, 'failing-sink.mjs'), FAILING_SINK);
    writeFileSync(join(dir, 'x.yaml'), experiment(dir, 'splitter: { type: field, field: split }\n', { plugins: ['./failing-sink.mjs'], dataset: '  type: peeking' }));
    const r = ftrun(dir, ['validate', 'x.yaml']);
    expect(r.stderr).toBe('error[E_CONFIG]: Config is not valid, found 1 problem:\n  x.yaml:3:1 dataset: sampleRecord() of dataset plugin "peeking" failed: cannot peek\n');
    expect(r.status).toBe(2);
  });

  it.each(['create', 'logConfig', 'logEval', 'close'])('%s() fails the run (exit 1) naming the plugin, its type and where it is configured', (hook) => {
    const r = failingRun(hook);
    const message = `sinks[1] (type: my-sink) at x.yaml:14:5: ${hook}() failed: exploded`;
    expect(r.stderr).toContain(`ftrun: run failed: ${message}\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(1);
    const experimentDir = join(r.dir, 'runs', 'faults');
    const env = JSON.parse(readFileSync(join(experimentDir, readdirSync(experimentDir)[0]!, 'env.json'), 'utf8'));
    expect(env).toMatchObject({ status: 'failed', error: { message } });
  });
});

describe('a plugin module that never finishes loading', () => {
  /** An experiment listing `module` (written as `code`) at plugins[0], line 3, column 5. */
  function listing(code: string) {
    const dir = tempDir('ftrun-hang-');
    writeFileSync(join(dir, 'slow.mjs'), code);
    writeFileSync(join(dir, 'x.yaml'), 'name: hang\nplugins:\n  - ./slow.mjs\ndataset: { type: synthetic-transactions }\nmodel: { bundled: use-lite }\n');
    return dir;
  }

  it('its top-level await never settles: validate and run exit 2 naming it, and no run directory is made', () => {
    const dir = listing('await new Promise(() => {});\nexport class Never {}\n');
    const expected =
      'error[E_CONFIG]: Config is not valid, found 1 problem:\n' +
      '  x.yaml:3:5 plugins[0]: plugin module "./slow.mjs" (slow.mjs) never finished loading: its top-level await never settled\n';
    for (const args of [['validate', 'x.yaml'], ['run', 'x.yaml', '--runs-dir', 'runs'], ['plan', 'x.yaml', '--json']]) {
      const r = ftrun(dir, args);
      expect(r.stderr).toBe(expected);
      expect(r.stdout).toBe('');
      expect(r.status).toBe(2);
    }
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('its top-level code keeps the process busy: given up after FTRUN_PLUGIN_LOAD_TIMEOUT_S, exit 2 naming it', () => {
    const dir = listing('setInterval(() => {}, 1000);\nawait new Promise(() => {});\nexport class Busy {}\n');
    const r = ftrun(dir, ['run', 'x.yaml', '--runs-dir', 'runs'], { FTRUN_PLUGIN_LOAD_TIMEOUT_S: '1' });
    expect(r.stderr).toBe(
      'error[E_CONFIG]: Config is not valid, found 1 problem:\n' +
        '  x.yaml:3:5 plugins[0]: plugin module "./slow.mjs" (slow.mjs) did not finish loading within 1 s: its top-level code is still running or waiting (the limit is FTRUN_PLUGIN_LOAD_TIMEOUT_S; 0: none)\n',
    );
    expect(r.status).toBe(2);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
    const bad = ftrun(dir, ['validate', 'x.yaml'], { FTRUN_PLUGIN_LOAD_TIMEOUT_S: 'soon' });
    expect(bad.stderr).toBe('error[E_USAGE]: FTRUN_PLUGIN_LOAD_TIMEOUT_S must be a number of seconds (0: no limit), got "soon"\n');
    expect(bad.status).toBe(2);
  });
});

describe('ftrun dataset push against a server that does not take the records', () => {
  const KEY = 'sk-bt-faults-0123456789';
  let server: FakeBraintrust | undefined;
  afterEach(async () => server?.close());

  /** Push 260 records to `server` (the CLI as its own process: the server answers from this one). */
  async function push(mode: FakeMode) {
    server = await fakeBraintrust(mode);
    const dir = tempDir('ftrun-push-');
    writeFileSync(join(dir, 'data.jsonl'), Array.from({ length: 260 }, (_, i) => JSON.stringify({ input: `query ${i}`, expected: `label ${i % 7}` })).join('\n') + '\n');
    const args = [BIN, 'dataset', 'push', 'data.jsonl', '--project', 'proj', '--name', 'ds', '--split', 'train', '--app-url', server.url];
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, BRAINTRUST_API_KEY: KEY } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    expect(stdout + stderr).not.toContain(KEY);
    return { status, stderr, url: server.url, stored: server.datasets.get('ds-ds')?.length ?? 0 };
  }
  const head = (url: string, stored: number) => `ftrun dataset push: stored ${stored} of 260 records in braintrust dataset proj/ds (split train) at ${url}: `;

  it('HTTP 500 to everything: exit 1, nothing stored, the answer named', async () => {
    const r = await push('500');
    expect(r.stderr).toBe(`${head(r.url, 0)}${r.url} answered HTTP 500 (Internal Server Error): internal error; the other 260 records were not confirmed stored\n`);
    expect(r.status).toBe(1);
  });

  it('an answer that is not JSON: exit 1, nothing stored, the answer named', async () => {
    const r = await push('garbage');
    expect(r.stderr.startsWith(`${head(r.url, 0)}${r.url} answered something that is not JSON (`)).toBe(true);
    expect(r.stderr).toContain('<html>garbage</html>');
    expect(r.stderr.endsWith('; the other 260 records were not confirmed stored\n')).toBe(true);
    expect(r.status).toBe(1);
  });

  it('a failure after 100 records: exit 1, saying 100 were stored and 160 not', async () => {
    const r = await push({ failAfter: 100 });
    expect(r.stderr).toBe(`${head(r.url, 100)}${r.url} answered HTTP 500 (Internal Server Error): internal error; the other 160 records were not confirmed stored\n`);
    expect(r.status).toBe(1);
    expect(r.stored).toBe(100);
  });

  it('the braintrust sink: rows the server refused are a warning naming the sink, not links to experiments', async () => {
    server = await fakeBraintrust({ failAfter: 0 });
    const dir = tempDir('ftrun-btsink-');
    writeFileSync(join(dir, 'x.yaml'), experiment(dir, `sinks: [{ type: braintrust, project: proj, app_url: "${server.url}", timeout_s: 60 }]\n`));
    const child = spawn(process.execPath, [BIN, 'run', 'x.yaml', '--runs-dir', 'runs'], { cwd: dir, env: { ...process.env, BRAINTRUST_API_KEY: KEY } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    expect(stderr).toContain(`warning: sink braintrust: could not send to ${server.url} (project proj): ${server.url} answered HTTP 500 (Internal Server Error): internal error; the run directory has every result\n`);
    expect(stderr).not.toContain('braintrust: faults-base ');
    expect(stderr).not.toContain(KEY);
    expect(status).toBe(0);
  });

  it('a server that takes them all: exit 0, every record stored', async () => {
    const r = await push('ok');
    expect(r.stderr).toBe(`pushed 260 records to braintrust dataset proj/ds (split train) at ${r.url}\n`);
    expect(r.status).toBe(0);
    expect(r.stored).toBe(260);
  });
});
