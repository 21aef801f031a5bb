/**
 * Sentence embeddings of the fixture model (../shared/fixtures/sentence-transformers/tiny-bert) computed
 * with its ONNX export through onnxruntime-node: tokenize (max 64), run, CLS pooling, L2 normalize —
 * which matches sentence-transformers within 1.2e-7. Used by the loss tests as their input batch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '../../engine/tokenizer.js';
import { FIXTURE_DIR, TINY_BERT } from './shared.js';

const MAX_SEQ_LENGTH = 64;

let session: Promise<ort.InferenceSession> | undefined;
let tokenizer: Tokenizer | undefined;

function int64(rows: number[][]): ort.Tensor {
  const n = rows.length;
  const s = rows[0]?.length ?? 0;
  const data = new BigInt64Array(n * s);
  rows.forEach((r, i) => r.forEach((v, j) => (data[i * s + j] = BigInt(v))));
  return new ort.Tensor('int64', data, [n, s]);
}

/** One batch of texts → normalized CLS embeddings (one Float32Array per text). */
export async function fixtureEmbeddings(texts: string[]): Promise<Float32Array[]> {
  session ??= ort.InferenceSession.create(join(TINY_BERT, 'model.onnx'), { intraOpNumThreads: 1 });
  tokenizer ??= Tokenizer.fromFile(join(TINY_BERT, 'tokenizer.json'));
  const enc = tokenizer.encodeBatch(texts, MAX_SEQ_LENGTH);
  const out = await (await session).run({
    input_ids: int64(enc.inputIds),
    attention_mask: int64(enc.attentionMask),
    token_type_ids: int64(enc.tokenTypeIds),
  });
  const hidden = out['last_hidden_state']!;
  const [, seq, dim] = hidden.dims as number[];
  const data = hidden.data as Float32Array;
  return texts.map((_, i) => {
    const cls = data.slice(i * seq! * dim!, i * seq! * dim! + dim!);
    let norm = 0;
    for (const v of cls) norm += v * v;
    const d = Math.max(Math.sqrt(norm), 1e-12);
    return cls.map((v) => v / d);
  });
}

export interface LossFixture {
  batch: {
    anchor: string[];
    labels: number[];
    label_names: string[];
    positive: string[];
    negative: string[];
    contrastive_pair_label: number[];
  };
  losses: Record<string, { value: number; config: Record<string, string> }>;
}

export function lossFixture(): LossFixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, 'losses.json'), 'utf8')) as LossFixture;
}

export interface FixtureColumns {
  anchor: Float32Array[];
  positive: Float32Array[];
  negative: Float32Array[];
}

/** Embeddings of the three text columns of losses.json, each encoded as one batch (as sentence-transformers does). */
export async function lossFixtureEmbeddings(fx: LossFixture = lossFixture()): Promise<FixtureColumns> {
  return {
    anchor: await fixtureEmbeddings(fx.batch.anchor),
    positive: await fixtureEmbeddings(fx.batch.positive),
    negative: await fixtureEmbeddings(fx.batch.negative),
  };
}
