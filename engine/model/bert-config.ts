/**
 * Hugging Face BERT config.json → BertConfig, and the weight names/shapes that config implies.
 * Only model_type "bert" with hidden_act "gelu" and absolute positions is supported (BertModel:
 * bge-*, all-MiniLM-*, e5-* checkpoints); anything else is a UserError E_MODEL naming that.
 */
import { UserError } from '../../core/errors.js';

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
}

export const SUPPORTED_MODELS = 'supported: model_type "bert" with hidden_act "gelu" and absolute position embeddings (BertModel layout: bge-*, all-MiniLM-*, e5-*)';

/** Validate a HF config.json object and extract what the encoder needs. */
export function parseBertConfig(json: Record<string, unknown>, source = 'config.json'): BertConfig {
  const bad = (what: string): never => {
    throw new UserError('E_MODEL', `${source}: ${what}; ${SUPPORTED_MODELS}`);
  };
  if (json.model_type !== 'bert') bad(`unsupported model_type ${JSON.stringify(json.model_type)}`);
  const act = json.hidden_act ?? 'gelu';
  if (act !== 'gelu') bad(`unsupported hidden_act ${JSON.stringify(act)}`);
  const pos = json.position_embedding_type ?? 'absolute';
  if (pos !== 'absolute') bad(`unsupported position_embedding_type ${JSON.stringify(pos)}`);
  if (json.is_decoder === true) bad('decoder configurations are not supported');
  const int = (key: string, dflt?: number): number => {
    const v = json[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const num = (key: string, dflt: number): number => {
    const v = json[key] ?? dflt;
    if (typeof v !== 'number' || !(v >= 0)) bad(`"${key}" must be a non-negative number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const cfg: BertConfig = {
    vocabSize: int('vocab_size'),
    hiddenSize: int('hidden_size'),
    numLayers: int('num_hidden_layers'),
    numHeads: int('num_attention_heads'),
    intermediateSize: int('intermediate_size'),
    maxPositions: int('max_position_embeddings', 512),
    typeVocabSize: int('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
    hiddenDropout: num('hidden_dropout_prob', 0.1),
    attentionDropout: num('attention_probs_dropout_prob', 0.1),
  };
  if (cfg.hiddenSize % cfg.numHeads !== 0) bad(`hidden_size ${cfg.hiddenSize} is not a multiple of num_attention_heads ${cfg.numHeads}`);
  return cfg;
}

/** The weight names (without prefix) and shapes a BertModel with `cfg` needs, in HF order. */
export function bertWeightShapes(cfg: BertConfig): Map<string, number[]> {
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const m = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [cfg.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [cfg.maxPositions, H]],
    ['embeddings.token_type_embeddings.weight', [cfg.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      m.set(`${p}${n}.weight`, [H, H]).set(`${p}${n}.bias`, [H]);
    }
    m.set(`${p}attention.output.LayerNorm.weight`, [H]).set(`${p}attention.output.LayerNorm.bias`, [H]);
    m.set(`${p}intermediate.dense.weight`, [I, H]).set(`${p}intermediate.dense.bias`, [I]);
    m.set(`${p}output.dense.weight`, [H, I]).set(`${p}output.dense.bias`, [H]);
    m.set(`${p}output.LayerNorm.weight`, [H]).set(`${p}output.LayerNorm.bias`, [H]);
  }
  return m;
}
