/**
 * No option is accepted and ignored. Given the others, some options cannot take effect (a
 * learning rate of a method that does not train, an mlp's hidden width on a linear adapter, a
 * shuffle seed with `shuffle: false`, a hub revision of a local model directory). Each such option
 * is a located config error when the user wrote it, and is left out of the resolved config when it
 * only came from a default — so resolved.yaml, reports and leaderboards show only options that
 * took effect. The core sections' rules are here; a plugin states its own with a static
 * `ineffective(options)`.
 */
import type { Problem } from '../errors.js';
import type { Registry } from '../registry.js';
import { MERGE_METHODS, TRAINING_METHODS } from '../train/methods.js';
import type { IneffectiveOption } from '../types.js';
import { pluginEntries } from './envelope.js';
import { originsOf, problemAt, type LoadedConfig } from './located.js';
import { formatPath, getAtPath, type ConfigPath } from './path.js';
import type { TrainingMethod } from './types.js';
import { callHook } from './plugin-hooks.js';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Record<string, unknown>, k: string) => o[k] !== undefined;

/** The `model:` options that cannot take effect. */
function ineffectiveModel(model: Record<string, unknown>): IneffectiveOption[] {
  const out: IneffectiveOption[] = [];
  if (!has(model, 'id') && has(model, 'revision')) out.push({ path: ['revision'], because: 'a revision is of a hub model (model.id); this model is not from the hub' });
  if (has(model, 'bundled')) {
    for (const k of ['pooling', 'normalize', 'max_seq_length']) {
      if (has(model, k)) out.push({ path: [k], because: `bundled model ${String(model.bundled)} has a fixed graph (its own pooling, normalization and length)` });
    }
  }
  return out;
}

/** Why training.merge cannot take effect with method `m`: it averages the encoder's weights, which only some methods change. */
const mergeNeedsWeights = (m: TrainingMethod) =>
  `training.method ${m} leaves the encoder's weights as they are, so there is nothing to average with the base model; training.merge works with training.method ${MERGE_METHODS().join(', ')}`;

/** The `training:` options that cannot take effect with its method and the other options. */
function ineffectiveTraining(training: Record<string, unknown>): IneffectiveOption[] {
  const m = training.method as TrainingMethod;
  const method = TRAINING_METHODS[m];
  if (!method) return [];
  const out: IneffectiveOption[] = [];
  for (const key of Object.keys(training)) {
    if (!method.uses(key)) out.push({ path: [key], because: key === 'merge' ? mergeNeedsWeights(m) : `training.method ${m} does not use it` });
  }
  if (!method.trains) return out;
  if (training.batch_sampler !== 'group-by-label' && has(training, 'samples_per_label')) {
    out.push({ path: ['samples_per_label'], because: `it sizes the groups of batch_sampler group-by-label (batch_sampler is ${String(training.batch_sampler)})` });
  }
  if (typeof training.warmup_steps === 'number' && training.warmup_steps > 0 && has(training, 'warmup_ratio')) {
    out.push({ path: ['warmup_ratio'], because: `warmup_steps (${training.warmup_steps}) sets the warmup; warmup_ratio is used only when warmup_steps is 0` });
  }
  if (typeof training.mini_batch_size === 'number' && typeof training.batch_size === 'number' && training.mini_batch_size >= training.batch_size) {
    out.push({ path: ['mini_batch_size'], because: `it caches batches in chunks smaller than batch_size (${training.batch_size}); a chunk of ${training.mini_batch_size} is the whole batch` });
  }
  if (has(training, 'max_steps') && has(training, 'epochs')) {
    out.push({ path: ['epochs'], because: `max_steps (${String(training.max_steps)}) sets the length of training and overrides epochs` });
  }
  const adapter = training.adapter;
  if (m === 'adapter' && isMap(adapter) && adapter.kind !== 'mlp' && has(adapter, 'hidden')) {
    out.push({ path: ['adapter', 'hidden'], because: `only an mlp adapter has a hidden layer (adapter.kind is ${String(adapter.kind ?? 'linear')})` });
  }
  return out;
}

/**
 * An option written in an extended file (an `extends:` parent, a shipped config) that cannot take
 * effect given the layers over it (the file you run, `--set`, a sweep): left out of the resolved
 * config, not an error — you did not write it, and the file you extend is not yours to edit —
 * and listed by `ftrun plan` with where it was written.
 */
export interface DroppedOption {
  /** Dotted path, e.g. `training.epochs`. */
  path: string;
  /** Where it was written: the extended file (as displayed), line and column. */
  file: string;
  line?: number;
  col?: number;
  because: string;
}

/**
 * Apply the rules to `data` (the validated config with defaults, mutated). Options written in the
 * file you run or with `--set` (present in `loaded.data`, located there) become problems; those
 * written in an extended file are deleted and returned as `dropped`; those that only came from a
 * default are deleted silently.
 */
export function dropIneffective(data: Record<string, unknown>, loaded: LoadedConfig, registry: Registry): { problems: Problem[]; dropped: DroppedOption[] } {
  const sections: Array<[ConfigPath, IneffectiveOption[]]> = [];
  if (isMap(data.model)) sections.push([['model'], ineffectiveModel(data.model)]);
  if (isMap(data.training)) sections.push([['training'], ineffectiveTraining(data.training)]);
  for (const { stage, path: at, entry } of pluginEntries(data)) {
    if (!isMap(entry) || typeof entry.type !== 'string') continue;
    const cls = registry.get(stage, entry.type);
    const { type: _t, ...options } = entry;
    if (cls?.ineffective) sections.push([at, callHook({ loaded, at, stage, type: entry.type }, 'ineffective', () => cls.ineffective!(options))]);
  }
  const problems: Problem[] = [];
  const dropped: DroppedOption[] = [];
  // With --set flags, an option of the file itself can go from the command line too.
  const hasSets = [...originsOf(loaded).values.values()].some((o) => o.file === '--set');
  for (const [at, list] of sections) {
    for (const { path, because } of list) {
      const full = [...at, ...path];
      const written = getAtPath(loaded.data, full) !== undefined;
      const origin = written ? loaded.locate(full) : undefined;
      if (origin && (origin.file === loaded.file || origin.file === '--set')) {
        const alternative = hasSets && origin.file !== '--set' ? ` (or add --set ${formatPath(full)}=null)` : '';
        problems.push(problemAt(loaded, full, `has no effect here: ${because}; remove it${alternative}`));
        continue;
      }
      if (origin) {
        const where = problemAt(loaded, full, because);
        dropped.push({ path: where.path, file: where.file, ...(where.line !== undefined ? { line: where.line, col: where.col } : {}), because });
      }
      const parent = getAtPath(data, full.slice(0, -1));
      if (isMap(parent)) delete parent[full[full.length - 1] as string];
    }
  }
  // "finetuned" in evaluate.compare, written in an extended file, when your layer's method trains
  // nothing (written in your file or with --set, the finetuned-needs-training check refuses it).
  const evaluate = data.evaluate;
  const method = isMap(data.training) ? TRAINING_METHODS[data.training.method as TrainingMethod] : undefined;
  const i = isMap(evaluate) && Array.isArray(evaluate.compare) ? evaluate.compare.indexOf('finetuned') : -1;
  if (method && !method.trains && i >= 0 && getAtPath(loaded.data, ['evaluate', 'compare', i]) === 'finetuned') {
    const origin = loaded.locate(['evaluate', 'compare', i]);
    // Not when it is all there is to compare: then the check says what is wrong.
    if (origin.file !== loaded.file && origin.file !== '--set' && (evaluate as Record<string, unknown[]>).compare!.length > 1) {
      const because = `training.method ${String((data.training as Record<string, unknown>).method)} trains no model to compare`;
      const where = problemAt(loaded, ['evaluate', 'compare', i], because);
      dropped.push({ path: where.path, file: where.file, ...(where.line !== undefined ? { line: where.line, col: where.col } : {}), because });
      ((evaluate as Record<string, unknown>).compare as unknown[]).splice(i, 1);
    }
  }
  return { problems, dropped };
}

/** `training.epochs (configs/quickstart.yaml:29:11): max_steps (50) sets the length of training…` */
export function formatDropped(d: DroppedOption): string {
  return `${d.path} (${d.line !== undefined ? `${d.file}:${d.line}:${d.col ?? 1}` : d.file}): ${d.because}`;
}
