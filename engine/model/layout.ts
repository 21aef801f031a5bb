/**
 * Reads a Hugging Face + sentence-transformers model directory into a ModelLayout: which files
 * exist (config, tokenizer, ONNX, safetensors) and how sentence embeddings are made (pooling,
 * normalize, max_seq_length, prompts, truncate_dim). Values given in the model spec override the
 * directory's.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { ModelSpec } from '../../core/types.js';
import { POOLING_MODES, type PoolingMode } from './pooling.js';

export interface ModelLayout {
  dir: string;
  config: Record<string, unknown>;
  tokenizerFile: string;
  onnxFile?: string;
  weightsFile?: string;
  pooling: PoolingMode;
  normalize: boolean;
  maxSeqLength: number;
  queryPrompt: string;
  documentPrompt: string;
  hiddenSize: number;
  /**
   * sentence-transformers' truncate_dim: embeddings are cut to their first truncateDim values (the
   * spec's `truncate_dim`, else config_sentence_transformers.json's); undefined: full dimension.
   */
  truncateDim?: number;
}

/** Where an ONNX export is looked for, in order. */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx'] as const;

type Json = Record<string, any>;

function readJson(dir: string, file: string): Json | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (e) {
    throw new UserError('E_MODEL', `unreadable model file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export function loadModelLayout(dir: string, spec: ModelSpec): ModelLayout {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError('E_MODEL', `unreadable model directory ${dir}: it does not exist or is not a directory`);
  }
  const missing = ['config.json', 'tokenizer.json'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new UserError(
      'E_MODEL',
      `unreadable model directory ${dir}: missing ${missing.join(' and ')} ` +
        '(expected a Hugging Face model directory with config.json and tokenizer.json)',
    );
  }
  const config = readJson(dir, 'config.json')!;
  const tokenizerFile = join(dir, 'tokenizer.json');
  const onnx = ONNX_CANDIDATES.find((f) => existsSync(join(dir, f)));
  const modules = (readJson(dir, 'modules.json') ?? []) as Json[];
  const moduleOf = (suffix: string) => modules.find((m) => typeof m.type === 'string' && m.type.endsWith(suffix));
  const poolingDir = (moduleOf('Pooling')?.path as string | undefined) || '1_Pooling';
  const poolingCfg = readJson(dir, join(poolingDir, 'config.json'));
  const sbert = readJson(dir, 'sentence_bert_config.json') ?? {};
  const stConfig = readJson(dir, 'config_sentence_transformers.json') ?? {};
  const prompts = (stConfig.prompts ?? {}) as Record<string, string>;

  const hiddenSize = Number(config.hidden_size ?? config.dim ?? config.d_model ?? poolingCfg?.embedding_dimension ?? poolingCfg?.word_embedding_dimension);
  if (!Number.isInteger(hiddenSize) || hiddenSize <= 0) {
    throw new UserError('E_MODEL', `unreadable model directory ${dir}: config.json has no hidden_size`);
  }
  const maxPositions = config.max_position_embeddings as number | undefined;
  if (spec.max_seq_length !== undefined && maxPositions !== undefined && spec.max_seq_length > maxPositions) {
    throw new UserError(
      'E_MODEL',
      `model.max_seq_length ${spec.max_seq_length} exceeds the model's max_position_embeddings ${maxPositions} (${dir}/config.json)`,
    );
  }

  const truncateDim = spec.truncate_dim ?? (typeof stConfig.truncate_dim === 'number' ? stConfig.truncate_dim : undefined);
  // Without a Dense module the embedding dimension is the hidden size (with one, the encoder checks its output's).
  if (truncateDim !== undefined && moduleOf('Dense') === undefined && (!Number.isInteger(truncateDim) || truncateDim < 1 || truncateDim > hiddenSize)) {
    const from = spec.truncate_dim !== undefined ? 'model.truncate_dim' : `${join(dir, 'config_sentence_transformers.json')} truncate_dim`;
    throw new UserError(spec.truncate_dim !== undefined ? 'E_CONFIG' : 'E_MODEL', `${from}: ${truncateDim} is more than the model's embedding dimension ${hiddenSize} (${dir}); valid: integers from 1 to ${hiddenSize}`);
  }

  return {
    dir,
    config,
    tokenizerFile,
    ...(onnx ? { onnxFile: join(dir, onnx) } : {}),
    ...(existsSync(join(dir, 'model.safetensors')) ? { weightsFile: join(dir, 'model.safetensors') } : {}),
    pooling: spec.pooling ?? poolingMode(poolingCfg, join(dir, poolingDir, 'config.json')),
    normalize: spec.normalize ?? (moduleOf('Normalize') !== undefined || existsSync(join(dir, '2_Normalize'))),
    maxSeqLength: spec.max_seq_length ?? defaultMaxSeqLength(dir, sbert, tokenizerFile, maxPositions),
    queryPrompt: spec.query_prompt || prompts.query || '',
    documentPrompt: spec.document_prompt || prompts.document || prompts.passage || prompts.corpus || '',
    hiddenSize,
    ...(truncateDim !== undefined ? { truncateDim } : {}),
  };
}

/** sentence_bert_config.json, then tokenizer truncation, then max_position_embeddings (capped by model_max_length). */
function defaultMaxSeqLength(dir: string, sbert: Json, tokenizerFile: string, maxPositions?: number): number {
  if (typeof sbert.max_seq_length === 'number') return sbert.max_seq_length;
  const tok = readJson(dir, 'tokenizer.json');
  const trunc = tok?.truncation as Json | null | undefined;
  if (typeof trunc?.max_length === 'number') return trunc.max_length;
  if (maxPositions !== undefined) {
    const modelMax = readJson(dir, 'tokenizer_config.json')?.model_max_length;
    return typeof modelMax === 'number' && modelMax < maxPositions ? modelMax : maxPositions;
  }
  throw new UserError(
    'E_MODEL',
    `cannot tell the maximum sequence length of ${dir}: no max_seq_length in sentence_bert_config.json, ` +
      `no truncation in ${tokenizerFile}, no max_position_embeddings in config.json; set model.max_seq_length`,
  );
}

const FLAG_MODES: Record<string, string> = {
  pooling_mode_cls_token: 'cls',
  pooling_mode_mean_tokens: 'mean',
  pooling_mode_max_tokens: 'max',
  pooling_mode_mean_sqrt_len_tokens: 'mean_sqrt_len_tokens',
  pooling_mode_weightedmean_tokens: 'weightedmean',
  pooling_mode_lasttoken: 'lasttoken',
};

/** The pooling mode of a sentence-transformers Pooling config; no config → mean (as sentence-transformers does). */
function poolingMode(cfg: Json | undefined, file: string): PoolingMode {
  if (!cfg) return 'mean';
  const modes =
    typeof cfg.pooling_mode === 'string'
      ? [cfg.pooling_mode as string]
      : Object.entries(FLAG_MODES).filter(([flag]) => cfg[flag] === true).map(([, mode]) => mode);
  if (modes.length === 1 && (POOLING_MODES as readonly string[]).includes(modes[0]!)) return modes[0] as PoolingMode;
  const what = modes.length === 0 ? 'no pooling mode' : `pooling ${modes.join(' + ')}`;
  throw new UserError(
    'E_MODEL',
    `${file}: ${what} is not supported; supported: ${POOLING_MODES.join(', ')} (or set model.pooling)`,
  );
}
