/**
 * Writes a fine-tuned model as a Hugging Face + sentence-transformers model directory:
 *   config.json, model.safetensors, tokenizer files (tokenizer.json, tokenizer_config.json,
 *   vocab.txt, special_tokens_map.json, added_tokens.json when the base model has them),
 *   modules.json, <pooling dir>/config.json, 2_Normalize/ (when normalizing),
 *   sentence_bert_config.json, config_sentence_transformers.json (with the prompts).
 * Module files of the base model are kept in their own format (so a model sentence-transformers
 * loaded still loads); what the model spec overrides (pooling, normalize, max_seq_length,
 * prompts, truncate_dim) is written in: truncate_dim as sentence-transformers saves it, a key of
 * config_sentence_transformers.json when set. A base model without sentence-transformers files gets the classic
 * layout (Transformer → Pooling → Normalize). The directory is assembled beside `outDir` and
 * renamed into place, then read back with loadModelLayout to check that nothing changed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFailureOf, writeJsonAtomic, writingTo } from '../../core/fsutil.js';
import { loadModelLayout, type ModelLayout } from './layout.js';
import { writeSafetensors, type TensorToWrite } from '../../core/safetensors.js';

type Json = Record<string, any>;

const COPIED = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json', 'added_tokens.json'];
const CLASSIC = 'sentence_transformers.models.';

/** Copy a file or directory tree with fresh (writable) permissions: a read-only source stays replaceable here. */
function copy(src: string, dest: string): void {
  if (statSync(src).isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const name of readdirSync(src)) copy(join(src, name), join(dest, name));
  } else writingTo(dest, () => writeFileSync(dest, readFileSync(src)));
}

function readJson(path: string): Json | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Json) : undefined;
}

const isType = (m: Json, suffix: string): boolean => typeof m.type === 'string' && m.type.endsWith(suffix);

/** The modules list: the base model's, with a Normalize module added or removed to match `normalize`. */
function modulesFor(base: Json[] | undefined, normalize: boolean): Json[] {
  let mods = base ? base.map((m) => ({ ...m })) : [
    { idx: 0, name: '0', path: '', type: `${CLASSIC}Transformer` },
    { idx: 1, name: '1', path: '1_Pooling', type: `${CLASSIC}Pooling` },
  ];
  if (!mods.some((m) => isType(m, 'Pooling'))) mods.splice(1, 0, { name: '1', path: '1_Pooling', type: `${CLASSIC}Pooling` });
  const hasNorm = mods.some((m) => isType(m, 'Normalize'));
  if (normalize && !hasNorm) mods.push({ idx: mods.length, name: String(mods.length), path: `${mods.length}_Normalize`, type: `${CLASSIC}Normalize` });
  if (!normalize && hasNorm) mods = mods.filter((m) => !isType(m, 'Normalize'));
  return mods.map((m, i) => ({ ...m, idx: i }));
}

/** The pooling config in the base model's format (pooling_mode string, or the classic flags). */
function poolingConfig(base: Json | undefined, layout: ModelLayout): Json {
  const mode = layout.pooling;
  if (base && typeof base.pooling_mode === 'string') return { ...base, pooling_mode: mode };
  return {
    ...(base ?? {}),
    word_embedding_dimension: base?.word_embedding_dimension ?? layout.hiddenSize,
    pooling_mode_cls_token: mode === 'cls',
    pooling_mode_mean_tokens: mode === 'mean',
    pooling_mode_max_tokens: mode === 'max',
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: false,
    include_prompt: base?.include_prompt ?? true,
  };
}

/**
 * Write the weights (by weight-file name; integer buffers such as position_ids dropped, the rest
 * as F32) with `layout` (how sentence embeddings are made) to `outDir`, replacing it.
 */
export function saveSentenceTransformer(weights: Map<string, TensorToWrite>, layout: ModelLayout, outDir: string): void {
  const src = layout.dir;
  const tmp = `${outDir}.tmp-${process.pid}`;
  // leftovers of a save cut short (this or a killed process)
  const parent = dirname(outDir);
  if (existsSync(parent)) for (const n of readdirSync(parent)) if (n.startsWith(`${basename(outDir)}.tmp-`)) rmSync(join(parent, n), { recursive: true, force: true });
  writingTo(outDir, () => mkdirSync(tmp, { recursive: true }));
  try {
    for (const f of COPIED) if (existsSync(join(src, f))) copy(join(src, f), join(tmp, f));
    writeSafetensors(join(tmp, 'model.safetensors'), weights, { format: 'pt' });

    const baseModules = readJson(join(src, 'modules.json')) as Json[] | undefined;
    const modules = modulesFor(baseModules, layout.normalize);
    writeJsonAtomic(join(tmp, 'modules.json'), modules);
    for (const m of modules) {
      const path = typeof m.path === 'string' ? m.path : '';
      if (!path) continue;
      if (isType(m, 'Pooling')) {
        writeJsonAtomic(join(tmp, path, 'config.json'), poolingConfig(readJson(join(src, path, 'config.json')), layout));
      } else if (existsSync(join(src, path))) {
        copy(join(src, path), join(tmp, path));
      } else {
        mkdirSync(join(tmp, path), { recursive: true });
        if (isType(m, 'Normalize')) writeJsonAtomic(join(tmp, path, 'config.json'), {});
      }
    }

    const sbert = readJson(join(src, 'sentence_bert_config.json')) ?? { max_seq_length: layout.maxSeqLength, do_lower_case: false };
    const st = readJson(join(src, 'config_sentence_transformers.json')) ?? { prompts: {}, default_prompt_name: null, similarity_fn_name: 'cosine' };
    const prompts: Json = { ...(st.prompts ?? {}) };
    if (layout.queryPrompt) prompts.query = layout.queryPrompt;
    if (layout.documentPrompt) prompts.document = layout.documentPrompt;
    const { truncate_dim: _t, ...rest } = st;
    writeJsonAtomic(join(tmp, 'config_sentence_transformers.json'), { ...rest, prompts, ...(layout.truncateDim !== undefined ? { truncate_dim: layout.truncateDim } : {}) });
    writeJsonAtomic(join(tmp, 'sentence_bert_config.json'), sbert);
    // max_seq_length is written only where the files would otherwise imply another value.
    if (readLayout(tmp).maxSeqLength !== layout.maxSeqLength) {
      writeJsonAtomic(join(tmp, 'sentence_bert_config.json'), { ...sbert, max_seq_length: layout.maxSeqLength });
    }
    checkSame(readLayout(tmp), layout, tmp);
    mkdirSync(dirname(outDir), { recursive: true });
    rmSync(outDir, { recursive: true, force: true });
    renameSync(tmp, outDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeFailureOf(outDir, e);
  }
}

function readLayout(dir: string): ModelLayout {
  return loadModelLayout(dir, { query_prompt: '', document_prompt: '' });
}

function checkSame(got: ModelLayout, want: ModelLayout, dir: string): void {
  const keys = ['pooling', 'normalize', 'maxSeqLength', 'queryPrompt', 'documentPrompt', 'hiddenSize', 'truncateDim'] as const;
  const diff = keys.filter((k) => got[k] !== want[k]);
  if (diff.length > 0) {
    const what = diff.map((k) => `${k} ${JSON.stringify(got[k])} instead of ${JSON.stringify(want[k])}`).join(', ');
    throw new Error(`saving the fine-tuned model to ${dir}: the written files read back with ${what}`);
  }
}
