/**
 * A loss and a miner written by a user, as docs/writing-a-plugin.md shows them
 * (docs/examples/symmetric-mnrl.ts, docs/examples/relevant-doc-miner.ts), from a folder of their
 * own outside the repository: everything they import comes from the package ('ftrun' and
 * 'ftrun/loss': the contract, the helpers and `tf`), they train through the CLI on both training
 * engines to the same weights, no tensor library is registered twice at run time, and they
 * type-check against the published declarations without skipLibCheck.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { readSafetensors } from '../../core/safetensors.js';
import { tempDir } from '../helpers/cli.js';
import { tsc, typecheckOutside } from '../helpers/outside.js';
import { ROOT, TINY_BERT, TRANSACTIONS_EXPERIMENT, describeShared } from '../helpers/shared.js';

const BIN = join(ROOT, 'bin', 'ftrun.js');
const EXAMPLES = ['symmetric-mnrl.ts', 'relevant-doc-miner.ts', 'csv-sink.ts'];
const LEARNING_RATE = 2e-4;
const STEPS = 4;

const ftrun = (cwd: string, args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/** The user's experiment: their miner and loss on the reference data and the tiny BERT, on `backend`. */
const experiment = (backend: string) => `name: symmetric
seed: 7
plugins: [./plugins/relevant-doc-miner.ts, ./plugins/symmetric-mnrl.ts]
${TRANSACTIONS_EXPERIMENT}miner: { type: relevant-doc }
loss: { type: symmetric-mnrl, scale: 20 }
backend: ${backend}
training: { method: full, batch_size: 8, learning_rate: ${LEARNING_RATE}, max_steps: ${STEPS}, load_best: false }
store: { type: memory }
evaluate: { compare: [base, finetuned] }
`;

interface Summary {
  run_dir: string;
  status: string;
  models: Record<string, Record<string, number>>;
}

it('docs/writing-a-plugin.md shows the example loss and miner as they are (less their file comment)', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'writing-a-plugin.md'), 'utf8');
  for (const f of ['symmetric-mnrl.ts', 'relevant-doc-miner.ts']) {
    const code = readFileSync(join(ROOT, 'docs', 'examples', f), 'utf8').replace(/^\/\*\*[\s\S]*?\*\/\n/, '');
    expect(doc, f).toContain('```ts\n' + code + '```');
  }
});

describeShared('a loss and a miner importing ftrun/loss, from a folder outside the repository', () => {
  let dir = '';
  beforeAll(() => {
    dir = tempDir('ftrun-loss-');
    mkdirSync(join(dir, 'plugins'));
    for (const f of EXAMPLES) copyFileSync(join(ROOT, 'docs', 'examples', f), join(dir, 'plugins', f));
    writeFileSync(join(dir, 'ort.yaml'), experiment('{ type: ort, intra_op_threads: 1 }'));
    writeFileSync(join(dir, 'tfjs.yaml'), experiment('{ type: tfjs, device: wasm }'));
  });

  it('trains through the CLI on ort and on tfjs to the same weights, registering no tensor kernel twice', () => {
    const runs: Record<string, Summary> = {};
    for (const engine of ['ort', 'tfjs']) {
      const r = ftrun(dir, ['run', `${engine}.yaml`, '--runs-dir', 'runs', '--json', '--quiet']);
      // A second copy of the tensor library would print ~600 "The kernel '…' for backend 'cpu' is already registered".
      expect(r.stderr, engine).not.toMatch(/already registered|already been set/);
      expect(r.stderr, engine).toBe('');
      expect(r.status, engine).toBe(0);
      runs[engine] = JSON.parse(r.stdout) as Summary;
      expect(runs[engine]!.status).toBe('ok');
    }
    const { ort, tfjs } = runs as { ort: Summary; tfjs: Summary };
    const losses = (s: Summary) =>
      readFileSync(join(s.run_dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; loss: number }).filter((e) => e.type === 'train_step').map((e) => e.loss);
    expect(losses(ort)).toHaveLength(STEPS);
    losses(ort).forEach((l, i) => expect(Math.abs(l - losses(tfjs)[i]!), `step ${i + 1}`).toBeLessThanOrEqual(1e-5));
    // As test/cli/train-ort.test.ts for the built-in loss: the same fine-tuned metrics.
    for (const [k, v] of Object.entries(tfjs.models.finetuned!)) expect(ort.models.finetuned![k], k).toBeCloseTo(v, 6);

    const a = readSafetensors(join(tfjs.run_dir, 'model', 'model.safetensors'));
    const b = readSafetensors(join(ort.run_dir, 'model', 'model.safetensors'));
    const base = readSafetensors(join(TINY_BERT, 'model.safetensors'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    let moved = 0;
    for (const [name, t] of a) {
      const u = b.get(name)!.data;
      let diff = 0;
      t.data.forEach((x, i) => {
        diff = Math.max(diff, Math.abs(x - u[i]!));
        moved = Math.max(moved, Math.abs(x - base.get(name)!.data[i]!));
      });
      // An attention key bias has no true gradient (it adds the same score to every key of a query,
      // which the softmax ignores): Adam turns each engine's rounding noise into steps of up to the
      // learning rate. Every other weight agrees within 1e-5.
      const tolerance = /attention\.self\.key\.bias$/.test(name) ? LEARNING_RATE * STEPS : 1e-5;
      expect(diff, name).toBeLessThanOrEqual(tolerance);
    }
    expect(moved).toBeGreaterThan(1e-4); // the loss trained the model: the comparison means something
  });

  it('type-checks against the published declarations without skipLibCheck', () => {
    // As `npm install /path/to/ftrun` leaves it: 'ftrun' and 'ftrun/loss' resolve through package.json "exports".
    const ok = typecheckOutside(dir, ['plugins/*.ts']); // every file of the program, tfjs-core's declarations among them
    expect(ok.stdout.split('\n').filter((l) => l !== '' && !isAbsolute(l)), 'errors').toEqual([]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/@tensorflow\/tfjs-core\/dist\/hash_util\.d\.ts/);
    // …and the types are real: a loss that returns something other than a scalar tensor does not compile.
    writeFileSync(
      join(dir, 'plugins', 'wrong.ts'),
      `import { definePlugin } from 'ftrun';
import type { LossBatch } from 'ftrun/loss';
export default definePlugin({ stage: 'loss', type: 'w', description: 'd', needs: 'pairs', schema: {}, create: () => ({ compute: (b: LossBatch) => b.anchor }) });
`,
    );
    const bad = tsc(dir, '--skipLibCheck');
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/wrong\.ts\(3,\d+\): error TS\d+: [\s\S]*'Tensor2D' is not assignable to type 'Scalar'/);
    expect(bad.stdout.match(/error TS/g)).toHaveLength(1);
  });
});
