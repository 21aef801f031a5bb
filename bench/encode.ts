/**
 * Encode benchmark: sentences/s of the `ort` backend on the tiny-bert fixture model, encoding the
 * 66 eval transactions of ../shared/data/transactions/eval_transactions.jsonl (one warmup pass,
 * then 20 timed repeats by default; the median is the headline, as the machine is often shared).
 * Run: `npm run bench -- [--threads N] [--batch N] [--repeats N] [--model DIR]`
 * (DIR: another HF model directory with an ONNX export; the texts still come from ../shared).
 * Skips with a printed reason when ../shared is absent.
 */
import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tokenizer } from '../engine/tokenizer.js';
import OrtBackend from '../plugins/backend/ort.js';
import type { RunContext } from '../core/types.js';

/** The repository root: the nearest folder above this file with a package.json (works from dist/ too). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const int = (v: string | undefined, name: string, dflt: number): number => {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, batch: { type: 'string' }, repeats: { type: 'string' }, model: { type: 'string' } } });
  const threads = int(values.threads, 'threads', 2);
  const batch = Math.max(1, int(values.batch, 'batch', 32));
  const repeats = Math.max(1, int(values.repeats, 'repeats', 20));

  const shared = resolve(repoRoot(), '..', 'shared');
  const model = values.model ? resolve(values.model) : join(shared, 'fixtures', 'sentence-transformers', 'tiny-bert');
  const data = join(shared, 'data', 'transactions', 'eval_transactions.jsonl');
  if (!existsSync(model) || !existsSync(data)) {
    console.log(`bench skipped: ../shared not found (looked for ${model} and ${data})`);
    return;
  }
  const texts = readFileSync(data, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { input: string }).input);

  const ctx: RunContext = {
    configFile: join(repoRoot(), 'bench', 'encode.ts'),
    baseDir: repoRoot(),
    runDir: repoRoot(),
    runId: 'bench',
    seed: 0,
    logger: { info() {}, warn: (m) => console.warn(m), debug() {} },
    progress: { start: () => ({ update() {}, done() {} }) },
    write: (s) => void process.stderr.write(s),
    quiet: true,
    signal: new AbortController().signal,
    resolvePath: (p) => resolve(repoRoot(), p),
  };
  const backend = new OrtBackend({ intra_op_threads: threads, batch_size: batch, execution_providers: ['cpu'] }, ctx);
  const encoder = await backend.loadEncoder({ path: model, query_prompt: '', document_prompt: '' }, 'tiny-bert');
  await encoder.encode(texts, { kind: 'document' }); // warmup

  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    await encoder.encode(texts, { kind: 'document' });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(texts.length / secs);
  }
  await encoder.dispose();

  const tokenizer = Tokenizer.fromFile(join(model, 'tokenizer.json'));
  const t1 = process.hrtime.bigint();
  for (let r = 0; r < repeats; r++) tokenizer.encodeBatch(texts, encoder.info.max_seq_length as number);
  const tokRate = (texts.length * repeats) / (Number(process.hrtime.bigint() - t1) / 1e9);
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const cpu = cpus();
  console.log(`machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, ${platform()} ${release()}, node ${process.version}`);
  console.log(`backend: ort (onnxruntime-node, cpu), intra_op_threads: ${threads}${threads === 0 ? ' (ORT default)' : ''}, batch: ${batch}`);
  console.log(`model: ${values.model ? model : 'tiny-bert fixture (hidden 64, 2 layers)'}, ${texts.length} eval transactions, ${repeats} repeats after a warmup`);
  console.log(`tokenizer alone: ${tokRate.toFixed(0)} sentences/s`);
  console.log(`sentences/s: median ${median.toFixed(0)}, best ${sorted[sorted.length - 1]!.toFixed(0)}, worst ${sorted[0]!.toFixed(0)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
