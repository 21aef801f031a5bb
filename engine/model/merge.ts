/**
 * Weight averaging of the base model and the fine-tuned one (training.merge, LM-Cocktail's simple
 * form): a model directory like the fine-tuned one (<run>/model/), whose model.safetensors holds,
 * for every tensor of the fine-tuned model, base_weight · base + (1 − base_weight) · fine-tuned,
 * each value computed in double precision and stored as float32 (so base_weight 0 gives the
 * fine-tuned weights and 1 the base weights, bit for bit). Every other file (tokenizer, modules,
 * pooling, prompts) is the fine-tuned model's: the merged model embeds as sentence-transformers
 * loads it. With `exportOnnx`, onnx/model.onnx is exported too, so the ort backend can load it.
 * The directory is assembled beside `outDir` (`<outDir>.tmp-<pid>`, removed by `ftrun resume`
 * when a killed merge left it) and renamed into place.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { writeFailureOf, writingTo } from '../../core/fsutil.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../core/safetensors.js';
import type { ModelSpec, RunContext } from '../../core/types.js';
import { exportBertOnnx } from '../export/onnx.js';
import { resolveModelDir } from './hub.js';

const WEIGHTS = 'model.safetensors';
const ONNX_DIR = 'onnx';

/** w · base + (1 − w) · tuned for every tensor of `tuned` (names and shapes must match a base tensor). */
export function averageWeights(
  base: Map<string, { shape: number[]; data: Float32Array }>,
  tuned: Map<string, { shape: number[]; data: Float32Array }>,
  baseWeight: number,
  where: { base: string; tuned: string },
): Map<string, TensorToWrite> {
  if (!(baseWeight >= 0 && baseWeight <= 1)) throw new Error(`averageWeights: base weight ${baseWeight} is not in [0, 1]`);
  const w = baseWeight;
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of tuned) {
    const b = base.get(name);
    if (!b) throw new UserError('E_MODEL', `training.merge: the fine-tuned model's weight ${name} (${where.tuned}) is not in the base model's weights (${where.base}), so the two cannot be averaged`);
    if (b.shape.join(',') !== t.shape.join(',')) {
      throw new UserError('E_MODEL', `training.merge: weight ${name} has shape [${t.shape}] in the fine-tuned model (${where.tuned}) but [${b.shape}] in the base model (${where.base}), so the two cannot be averaged`);
    }
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < data.length; i++) data[i] = w * b.data[i]! + (1 - w) * t.data[i]!;
    out.set(name, { shape: [...t.shape], data });
  }
  return out;
}

export interface MergeRequest {
  /** The base model (model.id or model.path), resolved as the backend resolved it. */
  model: ModelSpec;
  ctx: RunContext;
  /** The fine-tuned model directory (<run>/model). */
  tunedDir: string;
  /** Where the merged model goes (<run>/merged), replaced. */
  outDir: string;
  baseWeight: number;
  exportOnnx: boolean;
}

export interface MergeResult {
  modelDir: string;
  baseDir: string;
  tensors: number;
  /** The ONNX export, when asked for and written. */
  onnxFile?: string;
  /** Why the ONNX export failed (the merged model is saved either way). */
  onnxError?: string;
}

/** Write the merged model directory (see the header). */
export async function mergeModelDirs(req: MergeRequest): Promise<MergeResult> {
  const baseDir = await resolveModelDir(req.model, req.ctx, { weights: ['safetensors'] });
  const baseFile = join(baseDir, WEIGHTS);
  const tunedFile = join(req.tunedDir, WEIGHTS);
  if (!existsSync(baseFile)) throw new UserError('E_MODEL', `training.merge: the base model has no ${WEIGHTS} (${baseDir}); weight averaging needs its weights`);
  const merged = averageWeights(readSafetensors(baseFile), readSafetensors(tunedFile), req.baseWeight, { base: baseFile, tuned: tunedFile });

  const { outDir } = req;
  const parent = dirname(outDir);
  // leftovers of a merge cut short (this or a killed process)
  if (existsSync(parent)) for (const n of readdirSync(parent)) if (n.startsWith(`${basename(outDir)}.tmp-`)) rmSync(join(parent, n), { recursive: true, force: true });
  const tmp = `${outDir}.tmp-${process.pid}`;
  try {
    writingTo(outDir, () => {
      mkdirSync(tmp, { recursive: true });
      // everything but the weights and their ONNX export: the fine-tuned model's files as they are
      for (const name of readdirSync(req.tunedDir)) {
        if (name === WEIGHTS || name === ONNX_DIR || /\.onnx(_data)?$/.test(name)) continue; // the tuned weights, in any format
        cpSync(join(req.tunedDir, name), join(tmp, name), { recursive: true });
      }
    });
    writeSafetensors(join(tmp, WEIGHTS), merged, { format: 'pt', ftrun_merge_base_weight: String(req.baseWeight) });
    let onnxError: string | undefined;
    if (req.exportOnnx) {
      try {
        await exportBertOnnx(tmp, join(tmp, ONNX_DIR, 'model.onnx'));
      } catch (e) {
        onnxError = (e as Error).message;
        req.ctx.logger.warn(`the merged model is saved in ${outDir}, but its ONNX export failed: ${onnxError}`);
      }
    }
    rmSync(outDir, { recursive: true, force: true });
    renameSync(tmp, outDir);
    return {
      modelDir: outDir,
      baseDir,
      tensors: merged.size,
      ...(req.exportOnnx && onnxError === undefined ? { onnxFile: join(outDir, ONNX_DIR, 'model.onnx') } : {}),
      ...(onnxError !== undefined ? { onnxError } : {}),
    };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeFailureOf(outDir, e);
  }
}
