/**
 * An adapter on disk: `adapter.safetensors` (float32 tensors, torch nn.Linear layout: linear.weight,
 * linear.bias or fc1.*, fc2.*) and `adapter.json` (what it is, which side it maps, which base model
 * it belongs to, when it was made). Both written atomically; loading validates every shape.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { writeJsonAtomic } from '../../core/fsutil.js';
import { readSafetensors, writeSafetensors } from '../../core/safetensors.js';
import { checkAdapterWeights, type AdapterTensor, type AdapterWeights } from './model.js';
import { ADAPTER_APPLY_TO, ADAPTER_KINDS, type AdapterApplyTo } from '../../core/train/adapter-schema.js';

export const ADAPTER_WEIGHTS_FILE = 'adapter.safetensors';
export const ADAPTER_META_FILE = 'adapter.json';
export const ADAPTER_FORMAT = 'ftrun-adapter';

/** The contents of adapter.json. */
export interface AdapterMeta {
  format: typeof ADAPTER_FORMAT;
  version: 1;
  kind: AdapterWeights['kind'];
  dim: number;
  /** mlp hidden width (0 for linear). */
  hidden: number;
  apply_to: AdapterApplyTo;
  /** The output is L2-normalised after the map (always true). */
  normalize: true;
  /** The frozen base model the adapter was trained on (model spec and/or encoder facts). */
  base_model: Record<string, unknown>;
  created: string;
  /** Relative path of the ONNX model with the adapter appended, when one was written. */
  onnx?: string;
  /** Free-form facts about training (steps, best step, loss…). */
  training?: Record<string, unknown>;
}

export interface SavedAdapter {
  weights: AdapterWeights;
  meta: AdapterMeta;
}

/** Write the weights only (checkpoints use this too). */
export function writeAdapterWeights(file: string, w: AdapterWeights): void {
  checkAdapterWeights(w, file);
  writeSafetensors(file, w.tensors, { format: ADAPTER_FORMAT, kind: w.kind, dim: String(w.dim), hidden: String(w.hidden) });
}

/** Read weights written by writeAdapterWeights. */
export function readAdapterWeights(file: string): AdapterWeights {
  if (!existsSync(file)) throw new UserError('E_MODEL', `adapter weights ${file} not found`);
  const raw = readSafetensors(file);
  const has = (n: string) => raw.has(n);
  const kind = has('linear.weight') ? 'linear' : has('fc1.weight') ? 'mlp' : undefined;
  if (!kind) throw new UserError('E_MODEL', `${file}: not an adapter (expected linear.weight or fc1.weight)`);
  const tensors = new Map<string, AdapterTensor>([...raw].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
  const first = tensors.get(kind === 'linear' ? 'linear.weight' : 'fc1.weight')!;
  const w: AdapterWeights = {
    kind,
    dim: first.shape[1] ?? 0,
    hidden: kind === 'mlp' ? (first.shape[0] ?? 0) : 0,
    tensors,
  };
  try {
    checkAdapterWeights(w, file);
  } catch (e) {
    throw new UserError('E_MODEL', (e as Error).message, { cause: e });
  }
  return w;
}

/** Save an adapter into `dir` (created when missing). */
export function saveAdapter(dir: string, weights: AdapterWeights, meta: Omit<AdapterMeta, 'format' | 'version' | 'kind' | 'dim' | 'hidden' | 'normalize'>): AdapterMeta {
  const full: AdapterMeta = {
    format: ADAPTER_FORMAT,
    version: 1,
    kind: weights.kind,
    dim: weights.dim,
    hidden: weights.hidden,
    apply_to: meta.apply_to,
    normalize: true,
    base_model: meta.base_model,
    created: meta.created,
    ...(meta.onnx !== undefined ? { onnx: meta.onnx } : {}),
    ...(meta.training !== undefined ? { training: meta.training } : {}),
  };
  writeAdapterWeights(join(dir, ADAPTER_WEIGHTS_FILE), weights);
  writeJsonAtomic(join(dir, ADAPTER_META_FILE), full);
  return full;
}

/** Load an adapter directory; a missing or inconsistent one is a UserError (E_MODEL) naming the file. */
export function loadAdapter(dir: string): SavedAdapter {
  const metaFile = join(dir, ADAPTER_META_FILE);
  if (!existsSync(metaFile)) {
    throw new UserError('E_MODEL', `${dir} is not an adapter directory: ${ADAPTER_META_FILE} not found (expected ${ADAPTER_META_FILE} + ${ADAPTER_WEIGHTS_FILE})`);
  }
  let meta: AdapterMeta;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as AdapterMeta;
  } catch (e) {
    throw new UserError('E_MODEL', `${metaFile}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const bad = (what: string): never => {
    throw new UserError('E_MODEL', `${metaFile}: ${what}`);
  };
  if (meta.format !== ADAPTER_FORMAT) bad(`format must be "${ADAPTER_FORMAT}", got ${JSON.stringify(meta.format)}`);
  if (!ADAPTER_KINDS.includes(meta.kind)) bad(`kind must be one of ${ADAPTER_KINDS.join(', ')}, got ${JSON.stringify(meta.kind)}`);
  if (!ADAPTER_APPLY_TO.includes(meta.apply_to)) bad(`apply_to must be one of ${ADAPTER_APPLY_TO.join(', ')}, got ${JSON.stringify(meta.apply_to)}`);
  const weights = readAdapterWeights(join(dir, ADAPTER_WEIGHTS_FILE));
  if (weights.kind !== meta.kind || weights.dim !== meta.dim || weights.hidden !== meta.hidden) {
    bad(`says ${meta.kind} ${meta.dim}-d (hidden ${meta.hidden}), but ${ADAPTER_WEIGHTS_FILE} holds ${weights.kind} ${weights.dim}-d (hidden ${weights.hidden})`);
  }
  return { weights, meta };
}
