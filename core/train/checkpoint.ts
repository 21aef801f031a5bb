/**
 * Training checkpoints: <checkpointDir>/step-<N>/ holds
 *   model.safetensors      the weights (names as in the model's own weights file)
 *   optimizer.safetensors  AdamW moments, `<name>.exp_avg` / `<name>.exp_avg_sq` (torch's names)
 *   optimizer.json         AdamW hyper-parameters and the update count of each parameter
 *   trainer_state.json     global step, epoch and batch position (the sampler state), RNG seed,
 *                          samples seen, metrics at this step, best metric so far, config fingerprint
 * A checkpoint is written into a hidden temp directory and renamed into place when complete, so
 * a killed run leaves either a whole checkpoint or none (stale temp directories are removed on
 * resume). Pruning honours save_total_limit and never removes the best checkpoint.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import { writeFailureOf, writeJsonAtomic, writingTo } from '../fsutil.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../safetensors.js';
import type { AdamWState } from './optimizer-state.js';
import type { EarlyStoppingState } from './early-stopping.js';
import { CHECKPOINT_OPTIMIZER_JSON, CHECKPOINT_OPTIMIZER_WEIGHTS, CHECKPOINT_PREFIX, CHECKPOINT_WEIGHTS, TRAINER_STATE_JSON } from '../run/records.js';

export interface BestMetric {
  metric: string;
  value: number;
  step: number;
}

export interface TrainerState {
  /** Optimizer steps done. */
  global_step: number;
  /** Epoch (0-based) and index in that epoch's batch plan of the next batch to train on. */
  epoch: number;
  batch_in_epoch: number;
  /** Training examples processed so far. */
  samples_seen: number;
  /** Seed of batch order, dropout and evaluation triplets (every random choice derives from it and the position). */
  seed: number;
  sampler: string;
  /** Evaluation metrics at this step (absent without a test split). */
  metrics?: Record<string, number>;
  best?: BestMetric;
  /** training.early_stopping: the best value of its metric, its step and the evaluations since without improvement. */
  early_stopping?: EarlyStoppingState;
  /** Seconds spent in training steps so far. */
  train_seconds: number;
  /** What must not change for a resume to continue the same run. */
  fingerprint: Record<string, unknown>;
}

export interface OptimizerConfigJson {
  type: 'AdamW';
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  /** Update count of each parameter that has received a gradient. */
  steps: Record<string, number>;
}

export interface CheckpointData {
  state: TrainerState;
  weights: Map<string, TensorToWrite>;
  /** AdamW state keyed by weight names (as in `weights`). */
  optimizer: AdamWState;
  optimizerConfig: Omit<OptimizerConfigJson, 'steps'>;
}

export interface CheckpointRef {
  step: number;
  dir: string;
}

const STATE = TRAINER_STATE_JSON;
const DIR_RE = new RegExp(`^${CHECKPOINT_PREFIX}(\\d+)$`);

export function checkpointPath(checkpointDir: string, step: number): string {
  return join(checkpointDir, `${CHECKPOINT_PREFIX}${step}`);
}

/** Write a complete checkpoint atomically; returns its directory. */
export function writeCheckpoint(checkpointDir: string, data: CheckpointData): string {
  const final = checkpointPath(checkpointDir, data.state.global_step);
  const tmp = join(checkpointDir, `.${CHECKPOINT_PREFIX}${data.state.global_step}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`);
  writingTo(final, () => mkdirSync(tmp, { recursive: true }));
  try {
    writeSafetensors(join(tmp, CHECKPOINT_WEIGHTS), data.weights, { format: 'pt' });
    const moments = new Map<string, TensorToWrite>();
    const steps: Record<string, number> = {};
    for (const p of data.optimizer.params) {
      moments.set(`${p.name}.exp_avg`, { shape: p.shape, data: p.m });
      moments.set(`${p.name}.exp_avg_sq`, { shape: p.shape, data: p.v });
      steps[p.name] = p.step;
    }
    writeSafetensors(join(tmp, CHECKPOINT_OPTIMIZER_WEIGHTS), moments);
    writeJsonAtomic(join(tmp, CHECKPOINT_OPTIMIZER_JSON), { ...data.optimizerConfig, steps } satisfies OptimizerConfigJson);
    writeJsonAtomic(join(tmp, STATE), data.state);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeFailureOf(final, e);
  }
  return final;
}

function unreadable(dir: string, e: unknown): never {
  throw new UserError('E_RUN', `checkpoint ${dir} is unreadable: ${(e as Error).message}`, { cause: e });
}

export function readTrainerState(dir: string): TrainerState {
  try {
    return JSON.parse(readFileSync(join(dir, STATE), 'utf8')) as TrainerState;
  } catch (e) {
    return unreadable(dir, e);
  }
}

/** Read a whole checkpoint back. */
export function readCheckpoint(dir: string): CheckpointData {
  const state = readTrainerState(dir);
  let cfg: OptimizerConfigJson;
  try {
    cfg = JSON.parse(readFileSync(join(dir, CHECKPOINT_OPTIMIZER_JSON), 'utf8')) as OptimizerConfigJson;
  } catch (e) {
    return unreadable(dir, e);
  }
  const weights = readSafetensors(join(dir, CHECKPOINT_WEIGHTS));
  const moments = readSafetensors(join(dir, CHECKPOINT_OPTIMIZER_WEIGHTS));
  const params: AdamWState['params'] = Object.entries(cfg.steps).map(([name, step]) => {
    const m = moments.get(`${name}.exp_avg`);
    const v = moments.get(`${name}.exp_avg_sq`);
    if (!m || !v) unreadable(dir, new Error(`optimizer.safetensors lacks the moments of ${name}`));
    return { name, shape: m!.shape, step, m: m!.data, v: v!.data };
  });
  const { steps: _steps, ...optimizerConfig } = cfg;
  return { state, weights, optimizer: { params }, optimizerConfig };
}

/** Complete checkpoints in `checkpointDir`, oldest first. */
export function listCheckpoints(checkpointDir: string): CheckpointRef[] {
  if (!existsSync(checkpointDir)) return [];
  const out: CheckpointRef[] = [];
  for (const name of readdirSync(checkpointDir)) {
    const m = DIR_RE.exec(name);
    const dir = join(checkpointDir, name);
    if (m && existsSync(join(dir, STATE))) out.push({ step: Number(m[1]), dir });
  }
  return out.sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(checkpointDir: string): CheckpointRef | undefined {
  return listCheckpoints(checkpointDir).at(-1);
}

/** Remove temp directories left by a writer that was killed mid-checkpoint. */
export function removePartialCheckpoints(checkpointDir: string): void {
  if (!existsSync(checkpointDir)) return;
  for (const name of readdirSync(checkpointDir)) {
    if (new RegExp(`^\\.${CHECKPOINT_PREFIX}\\d+\\.tmp-`).test(name)) rmSync(join(checkpointDir, name), { recursive: true, force: true });
  }
}

/**
 * Keep the newest `limit` checkpoints (0 = all) and, in any case, the one at `bestStep`: with
 * limit 1 that means the newest and the best. Returns the directories removed.
 */
export function pruneCheckpoints(checkpointDir: string, limit: number, bestStep?: number): string[] {
  const all = listCheckpoints(checkpointDir);
  if (limit <= 0 || all.length <= limit) return [];
  const keep = new Set(all.slice(-limit).map((c) => c.step));
  if (bestStep !== undefined && !keep.has(bestStep) && all.some((c) => c.step === bestStep)) {
    if (limit > 1) keep.delete(all.slice(-limit)[0]!.step);
    keep.add(bestStep);
  }
  const removed: string[] = [];
  for (const c of all) {
    if (keep.has(c.step)) continue;
    rmSync(c.dir, { recursive: true, force: true });
    removed.push(c.dir);
  }
  return removed;
}
