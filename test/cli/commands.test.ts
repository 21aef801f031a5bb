/**
 * The CLI commands around a run: help, validate (every shipped config), plan, schema, custom
 * plugins, sweeps (sequential and --parallel), diff, ls, and Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stopper } from '../../core/cli/main.js';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared } from '../helpers/shared.js';

const CONFIGS = readdirSync(join(ROOT, 'configs')).filter((f) => f.endsWith('.yaml'));

describe('help and usage', () => {
  it('prints usage for --help and for each command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('ftrun validate <config.yaml>');
    for (const c of ['run', 'validate', 'plan', 'diff', 'compare', 'ls', 'rm', 'schema', 'resume']) {
      const r = await cli([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: ftrun ${c}`));
    }
  });

  it('prints the JSON Schema of experiment files with every built-in plugin', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    const text = JSON.stringify(schema);
    for (const t of ['jsonl', 'ratio', 'random-negative', 'ort', 'lancedb', 'memory', 'markdown']) expect(text).toContain(`"${t}"`);
    // The committed copy that configs point editors at is up to date.
    expect(JSON.parse(readFileSync(join(ROOT, 'docs', 'ftrun.schema.json'), 'utf8'))).toEqual(schema);
  });
});

describeShared('shipped configs', () => {
  it.each(CONFIGS)('configs/%s is valid', async (file) => {
    const r = await cli(['validate', join(ROOT, 'configs', file)]);
    expect(r.stderr).toMatch(/: valid/);
    expect(r.code).toBe(0);
  });

  it('plan prints every sweep trial with its overrides', async () => {
    const r = await cli(['plan', join(ROOT, 'configs', 'bge-sweep.yaml'), '--json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.trials.map((t: { overrides: unknown }) => t.overrides)).toEqual([
      { 'model.query_prompt': '', 'model.pooling': 'cls' },
      { 'model.query_prompt': '', 'model.pooling': 'mean' },
      { 'model.query_prompt': 'Represent this sentence for searching relevant passages: ', 'model.pooling': 'cls' },
      { 'model.query_prompt': 'Represent this sentence for searching relevant passages: ', 'model.pooling': 'mean' },
    ]);
    expect(plan.trials[3].config.model.pooling).toBe('mean');
  });

  it("a user's sweep in a folder of their own extends a shipped config: the data paths stay the shipped file's", async () => {
    delete process.env.FTRUN_DATA;
    const dir = tempDir('ftrun-user-');
    writeFileSync(join(dir, 'sweep.yaml'), `extends: ${join(ROOT, 'configs', 'use-lite-transactions.yaml')}\nname: mine\nsweep:\n  grid:\n    seed: [1, 2]\n`);
    const v = await cli(['validate', join(dir, 'sweep.yaml')]);
    expect(v.stderr).toBe(`${join(dir, 'sweep.yaml')}: valid (sweep of 2 trials)\n`);
    expect(v.code).toBe(0);
    const plan = JSON.parse((await cli(['plan', join(dir, 'sweep.yaml'), '--json'])).stdout);
    expect(plan.trials[1].config.dataset.queries).toBe(join(TRANSACTIONS, 'train_transactions.jsonl'));
  });
});

describeShared('custom plugins', () => {
  const plugin = join(ROOT, 'test', 'fixtures', 'plugins', 'inline-dataset.mjs');
  const config = (extra = '') => `name: custom
plugins: [${plugin}]
dataset:
  type: inline
${extra}  corpus: [Travel & Transportation, Meals & Entertainment, Software & Licenses]
  queries:
    - { text: "Name : Delta Air Lines\\nCategory: Airlines", expected: [Travel & Transportation] }
    - { text: "Name : Atlassian\\nCategory: Software", expected: [Software & Licenses] }
    - { text: "Name : Joe's Diner\\nCategory: Restaurants", expected: [Meals & Entertainment] }
model: { path: ${TINY_BERT} }
evaluate: { k: [1, 3] }
sinks: [{ type: json }]
`;

  it('loads a plain-JS plugin module and runs it end to end', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.yaml'), config());
    const r = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.models.base['recall@3']).toBe(1);
    const lines = readFileSync(join(out.run_dir, 'per_query.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).query_id)).toEqual(['inline:1', 'inline:2', 'inline:3']);
  });

  it('validates the plugin options with its own schema', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.yaml'), config('  uppercas: true\n'));
    const r = await cli(['validate', join(dir, 'x.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'x.yaml')}:5:3 dataset.uppercas: unknown option "uppercas". Did you mean "uppercase"? Allowed: corpus, queries, uppercase.`);
  });
});

describeShared('sweeps, diff and ls', () => {
  let runs: string;
  let sweepDir: string;
  const write = (dir: string) => {
    const file = join(dir, 'sweep.yaml');
    writeFileSync(
      file,
      `name: pooling-sweep
dataset:
  type: jsonl
  queries: ${TRANSACTIONS}/eval_transactions.jsonl
  corpus: { path: ${TRANSACTIONS}/categories.json, text: category }
model: { path: ${TINY_BERT} }
store: { type: memory }
sinks: [{ type: json }]
sweep:
  grid:
    model.pooling: [cls, mean]
`,
    );
    return file;
  };

  beforeAll(async () => {
    runs = tempDir();
    const r = await cli(['run', write(runs), '--runs-dir', runs, '--json', '--quiet']);
    expect(r.code).toBe(0);
    sweepDir = JSON.parse(r.stdout).sweep_dir;
  });

  it('runs every trial and ranks them in a leaderboard', () => {
    const board = JSON.parse(readFileSync(join(sweepDir, 'leaderboard.json'), 'utf8'));
    expect(board.primary).toBe('mrr@1');
    expect(board.trials).toHaveLength(2);
    expect(board.trials.every((t: { status: string }) => t.status === 'ok')).toBe(true);
    const values = board.trials.map((t: { value: number }) => t.value);
    expect(values[0]).toBeGreaterThanOrEqual(values[1]);
    expect(readFileSync(join(sweepDir, 'leaderboard.md'), 'utf8')).toContain('model.pooling');
    for (const n of ['1', '2']) expect(existsSync(join(sweepDir, 'trials', n, 'metrics.json'))).toBe(true);
  });

  it('writes leaderboard.html: the ranked trials, and the primary metric against each swept parameter', () => {
    const board = JSON.parse(readFileSync(join(sweepDir, 'leaderboard.json'), 'utf8')) as { trials: Array<{ rank: number; index: number; overrides: Record<string, string>; value: number }> };
    const html = readFileSync(join(sweepDir, 'leaderboard.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|<img/i);
    for (const t of board.trials) {
      expect(html).toContain(`<tr><td class="num">${t.rank}</td><td class="num">${t.index}</td><td>model.pooling=${t.overrides['model.pooling']}</td><td>base</td><td class="num">${t.value.toFixed(3)}</td>`);
    }
    const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs).toHaveLength(1);
    expect(svgs[0]).toContain('>MRR@1 by model.pooling<');
    for (const v of ['cls', 'mean']) expect(svgs[0]).toContain(`>${v}<`);
  });

  it('runs the same trials in parallel worker processes with the same results', async () => {
    const dir = tempDir();
    const r = await cli(['run', write(dir), '--runs-dir', dir, '--json', '--quiet', '--parallel', '2']);
    expect(r.code).toBe(0);
    const par = JSON.parse(r.stdout);
    const seq = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8'));
    expect(par.trials.map((t: { status: string }) => t.status)).toEqual(['ok', 'ok']);
    for (const i of [0, 1]) {
      const a = JSON.parse(readFileSync(join(seq.trials[i].run_dir, 'metrics.json'), 'utf8'));
      expect(par.trials[i].models).toEqual(a.models);
    }
  });

  it('diffs two trials: the changed key and signed metric deltas', async () => {
    const a = join(sweepDir, 'trials', '1');
    const b = join(sweepDir, 'trials', '2');
    const r = await cli(['diff', a, b, '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.config).toEqual([{ path: 'model.pooling', a: 'cls', b: 'mean' }]);
    const ma = JSON.parse(readFileSync(join(a, 'metrics.json'), 'utf8')).models.base;
    const mb = JSON.parse(readFileSync(join(b, 'metrics.json'), 'utf8')).models.base;
    expect(d.metrics.base['mrr@1'].delta).toBeCloseTo(mb['mrr@1'] - ma['mrr@1'], 10);
    const text = await cli(['diff', a, b]);
    expect(text.stdout).toContain('model.pooling');
    expect(text.stdout).toMatch(/[+-]\d\.\d{3}/);
  });

  it('diffs two trials as a self-contained HTML page: config, metrics with a chart, per-query changes', async () => {
    const a = join(sweepDir, 'trials', '1');
    const b = join(sweepDir, 'trials', '2');
    const r = await cli(['diff', a, b, '--html']);
    expect(r.code).toBe(0);
    const html = r.stdout;
    expect(html).not.toMatch(/<script|<link|<img/i);
    expect(html).toContain('<h2>Config: 1 changed key</h2>');
    expect(html).toContain('<tr><td>model.pooling</td><td>cls</td><td>mean</td></tr>');
    const ma = JSON.parse(readFileSync(join(a, 'metrics.json'), 'utf8')).models.base['mrr@1'] as number;
    const mb = JSON.parse(readFileSync(join(b, 'metrics.json'), 'utf8')).models.base['mrr@1'] as number;
    expect(html).toContain(`<tr><td>base</td><td>MRR@1</td><td class="num">${ma.toFixed(3)}</td><td class="num">${mb.toFixed(3)}</td>`);
    expect([...html.matchAll(/<svg/g)]).toHaveLength(1);
    expect(html).toContain('<h2>Queries B (base) ranks worse than A</h2>');
    expect(html).toContain('<h2>Queries B (base) ranks better than A</h2>');
    // --html with another format flag is refused
    expect((await cli(['diff', a, b, '--html', '--json'])).stderr).toBe('error[E_USAGE]: ftrun diff: --json and --html each choose the output format; give one\n');
  });

  it('lists runs and sweeps', async () => {
    const r = await cli(['ls', runs, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.stringify(JSON.parse(r.stdout))).toContain('pooling-sweep');
  });
});

describeShared('Ctrl-C', () => {
  it('marks the run interrupted and leaves every file valid', async () => {
    const dir = tempDir();
    const entry = join(ROOT, 'bin', 'ftrun.js');
    const args = [entry, 'run', join(ROOT, 'configs', 'bge.yaml'), '--runs-dir', dir, '--set', `model={path: ${TINY_BERT}}`, '--set', 'store.type=memory'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('data: ')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(sent).toBe(true);
    expect(code).toBe(1);
    const [runDir] = readdirSync(join(dir, 'bge-base-transactions')).map((d) => join(dir, 'bge-base-transactions', d));
    const env = JSON.parse(readFileSync(join(runDir!, 'env.json'), 'utf8'));
    expect(env.status).toBe('interrupted');
    expect(JSON.parse(readFileSync(join(runDir!, 'metrics.json'), 'utf8')).status).toBe('interrupted');
    for (const l of readFileSync(join(runDir!, 'events.jsonl'), 'utf8').trim().split('\n')) JSON.parse(l);
    expect(readdirSync(runDir!).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('SIGTERM and SIGINT', () => {
  it('the first asks for a graceful stop, a second quits at once (143 / 130)', () => {
    for (const [signal, code, again] of [['SIGTERM', 143, 'SIGTERM'], ['SIGINT', 130, 'Ctrl-C']] as const) {
      const controller = new AbortController();
      const written: string[] = [];
      const exits: number[] = [];
      const stop = stopper(controller, (t) => written.push(t), (c) => exits.push(c));
      stop(signal);
      expect(controller.signal.aborted).toBe(true);
      expect(exits).toEqual([]);
      expect(written.join('')).toContain(`finishing the current step and marking the run interrupted (${again} again to quit now)`);
      stop(signal);
      expect(exits).toEqual([code]);
    }
  });
});
