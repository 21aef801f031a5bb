/**
 * Backend `tfjs`: encoder parity with sentence-transformers, prompts and overrides, the saved
 * model directory (exact round trip, spec overrides written into the files), train() end to end
 * (events, model directory, ONNX export read by the ort backend) and the kill/resume test: a
 * child process training through train() is killed after its first checkpoint, then resumed.
 */
import '@tensorflow/tfjs-backend-wasm';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { loadModelLayout } from '../../../engine/model/layout.js';
import { readSafetensors } from '../../../core/safetensors.js';
import { selectTfjsDevice } from '../../../plugins/backend/tfjs/device.js';
import { TfjsSentenceModel } from '../../../plugins/backend/tfjs/sentence.js';
import { saveSentenceTransformer } from '../../../engine/model/model-dir.js';
import type { ModelSpec } from '../../../core/types.js';
import OrtBackend from '../../../plugins/backend/ort.js';
import TfjsBackend, { type TfjsOptions } from '../../../plugins/backend/tfjs.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, FIXTURE_DIR, ROOT, TINY_BERT } from '../../helpers/shared.js';
import { killSetup } from '../../train/kill-setup.js';

const fx = () => JSON.parse(readFileSync(join(FIXTURE_DIR, 'encode.json'), 'utf8')) as { texts: string[]; cls_normalized: number[][]; mean_unnormalized: number[][] };
const extra = () => JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'st-tiny-bert-extra.json'), 'utf8')) as { prompt: string; max: number[][]; query_prompt_cls: number[][]; max_len_8_cls: number[][] };
const OPTS: TfjsOptions = { device: 'wasm', threads: 1, batch_size: 32 };
const spec = (o: Partial<ModelSpec> = {}): ModelSpec => ({ path: TINY_BERT, query_prompt: '', document_prompt: '', ...o });
const tmp = (): string => mkdtempSync(join(tmpdir(), 'ftrun-tfjs-'));

function maxErr(actual: ArrayLike<number>[], expected: ArrayLike<number>[]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((v, i) => {
    for (let d = 0; d < v.length; d++) worst = Math.max(worst, Math.abs(v[d]! - expected[i]![d]!));
  });
  return worst;
}

async function encode(s: Partial<ModelSpec>, texts: string[], kind: 'query' | 'document' = 'document', o: Partial<TfjsOptions> = {}) {
  const enc = await new TfjsBackend({ ...OPTS, ...o }, makeContext()).loadEncoder(spec(s), 'base');
  try {
    return await enc.encode(texts, { kind });
  } finally {
    await enc.dispose();
  }
}

const weightsDiff = (a: string, b: string): number => {
  const wa = readSafetensors(a);
  const wb = readSafetensors(b);
  expect([...wa.keys()].sort()).toEqual([...wb.keys()].sort());
  let d = 0;
  for (const [k, t] of wa) for (let i = 0; i < t.data.length; i++) d = Math.max(d, Math.abs(t.data[i]! - wb.get(k)!.data[i]!));
  return d;
};

it('declares a closed options schema with defaults and descriptions, and can train', () => {
  const s = TfjsBackend.schema as { additionalProperties: boolean; properties: Record<string, { default: unknown; description: string }> };
  expect(TfjsBackend.type).toBe('tfjs');
  expect(TfjsBackend.canTrain).toBe(true);
  expect(s.additionalProperties).toBe(false);
  expect(Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, v.default]))).toEqual({ device: 'auto', threads: 2, batch_size: 32 });
  for (const p of Object.values(s.properties)) expect(p.description.length).toBeGreaterThan(10);
});

describeShared('tfjs backend on the tiny-bert fixture', () => {
  beforeAll(async () => {
    await selectTfjsDevice('wasm', { threads: 1 });
  });

  it('encodes like sentence-transformers (CLS + Normalize, mean, max) within 1e-5 and records its device', async () => {
    const progress: number[] = [];
    const enc = await new TfjsBackend({ ...OPTS, batch_size: 8 }, makeContext()).loadEncoder(spec(), 'base');
    const vecs = await enc.encode([...fx().texts].reverse(), { kind: 'document', onProgress: (d) => progress.push(d) });
    await enc.dispose();
    expect(maxErr(vecs.reverse(), fx().cls_normalized)).toBeLessThan(1e-5);
    expect(progress).toEqual([8, 16, 20]);
    expect(enc.dim).toBe(64);
    expect(enc.info).toMatchObject({ backend: 'tfjs', device: 'wasm', tfjs_backend: 'wasm', pooling: 'cls', normalize: true, max_seq_length: 64, model_dir: TINY_BERT });
    expect(maxErr(await encode({ pooling: 'mean', normalize: false }, fx().texts), fx().mean_unnormalized)).toBeLessThan(1e-5);
    expect(maxErr(await encode({ pooling: 'max', normalize: false }, fx().texts.slice(0, 4)), extra().max)).toBeLessThan(1e-5);
    expect(await encode({}, [])).toEqual([]);
  });

  it('prefixes queries (only) with the query prompt and honours max_seq_length', async () => {
    const x = extra();
    const texts = fx().texts.slice(0, 3);
    expect(maxErr(await encode({ query_prompt: x.prompt }, texts, 'query'), x.query_prompt_cls)).toBeLessThan(1e-5);
    expect(maxErr(await encode({ query_prompt: x.prompt }, texts, 'document'), fx().cls_normalized.slice(0, 3))).toBeLessThan(1e-5);
    expect(maxErr(await encode({ max_seq_length: 8 }, texts), x.max_len_8_cls)).toBeLessThan(1e-5);
  });

  it('a model without model.safetensors is E_MODEL', async () => {
    const d = tmp();
    cpSync(TINY_BERT, d, { recursive: true, filter: (src) => !src.endsWith('.safetensors') });
    const err = await new TfjsBackend(OPTS, makeContext()).loadEncoder(spec({ path: d }), 'base').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(`model base (${d}) has no model.safetensors`);
    rmSync(d, { recursive: true, force: true });
  });

  it('saves a model directory that loads back exactly, with spec overrides written into its files', async () => {
    for (const s of [spec(), spec({ pooling: 'mean', normalize: false, max_seq_length: 32, query_prompt: 'query: ', document_prompt: 'passage: ' })]) {
      const layout = loadModelLayout(TINY_BERT, s);
      const model = TfjsSentenceModel.load(layout);
      const out = join(tmp(), 'model');
      saveSentenceTransformer(model.bert.exportTensors(), layout, out);
      expect(readdirSync(out).sort()).toEqual(
        ['1_Pooling', 'config.json', 'config_sentence_transformers.json', 'model.safetensors', 'modules.json', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', ...(layout.normalize ? ['2_Normalize'] : [])].sort(),
      );
      const back = loadModelLayout(out, { query_prompt: '', document_prompt: '' });
      for (const k of ['pooling', 'normalize', 'maxSeqLength', 'queryPrompt', 'documentPrompt'] as const) expect(back[k]).toBe(layout[k]);
      expect(weightsDiff(join(TINY_BERT, 'model.safetensors'), join(out, 'model.safetensors'))).toBe(0);
      const texts = fx().texts.slice(0, 5);
      for (const kind of ['query', 'document'] as const) {
        expect(maxErr(await encodeDir(out, texts, kind), model.embed(texts, kind))).toBe(0);
      }
      model.dispose();
    }
  });

  it('train(): events, the fine-tuned model directory, and its ONNX export read by the ort backend', async () => {
    const runDir = tmp();
    const events: Array<Record<string, any>> = [];
    const { backend, request } = killSetup(runDir, false, (e) => events.push(e));
    const res = await backend.train({ ...request, training: { ...request.training, epochs: 1, export_onnx: true } });
    expect(res).toMatchObject({ modelDir: join(runDir, 'model'), steps: 4, epochs: 1 });
    expect(res.samplesPerSecond).toBeGreaterThan(0);
    expect(res.info).toMatchObject({ backend: 'tfjs', device: 'wasm', steps: 4, samples: 64, onnx_file: join(runDir, 'model', 'onnx', 'model.onnx') });
    expect(events.filter((e) => e.type === 'train_step').map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([2, 4]);
    // the saved weights are the best checkpoint's (load_best)
    expect(weightsDiff(join(runDir, 'model', 'model.safetensors'), join(runDir, 'checkpoints', `step-${res.bestStep}`, 'model.safetensors'))).toBe(0);
    expect(weightsDiff(join(TINY_BERT, 'model.safetensors'), join(runDir, 'model', 'model.safetensors'))).toBeGreaterThan(1e-4);
    const texts = fx().texts;
    const tuned = await encodeDir(join(runDir, 'model'), texts, 'query');
    const ort = await new OrtBackend({ intra_op_threads: 1, batch_size: 32, execution_providers: ['cpu'] }, makeContext()).loadEncoder(spec({ path: join(runDir, 'model') }), 'finetuned');
    const viaOnnx = await ort.encode(texts, { kind: 'query' });
    await ort.dispose();
    expect(maxErr(viaOnnx, tuned)).toBeLessThan(1e-4);
  });

  it('a run killed after its first checkpoint resumes to the same weights as an uninterrupted run', async () => {
    const reference = tmp();
    await killSetup(reference, false, () => {}).backend.train(killSetup(reference, false, () => {}).request);

    const runDir = tmp();
    const child = spawn(process.execPath, ['--import', './test/train/ts-loader.mjs', 'test/train/kill-child.ts', runDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const seen: Array<Record<string, any>> = [];
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as Record<string, any>;
        seen.push(e);
        if (e.type === 'checkpoint' && !child.killed) child.kill('SIGKILL');
      }
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal, stderr).toBe('SIGKILL');
    expect(seen.find((e) => e.type === 'checkpoint')?.step).toBe(2);
    expect(seen.some((e) => e.type === 'finished')).toBe(false);
    expect(existsSync(join(runDir, 'model'))).toBe(false);

    const events: Array<Record<string, any>> = [];
    const { backend, request } = killSetup(runDir, true, (e) => events.push(e));
    const res = await backend.train(request);
    expect(events[0]).toMatchObject({ type: 'resume', step: 2 });
    expect(res.info.resumed_from_step).toBe(2);
    expect(res.steps).toBe(12);
    expect(weightsDiff(join(runDir, 'model', 'model.safetensors'), join(reference, 'model', 'model.safetensors'))).toBeLessThanOrEqual(1e-6);
    expect(readdirSync(join(runDir, 'checkpoints')).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

async function encodeDir(dir: string, texts: string[], kind: 'query' | 'document'): Promise<Float32Array[]> {
  const enc = await new TfjsBackend(OPTS, makeContext()).loadEncoder({ path: dir, query_prompt: '', document_prompt: '' }, 'saved');
  try {
    return await enc.encode(texts, { kind });
  } finally {
    await enc.dispose();
  }
}
