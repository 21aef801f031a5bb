/**
 * Validation of a loaded experiment, in two schema passes and then named cross-stage checks:
 *  1. the envelope: top-level keys and the core sections (defaults filled), and each stage's
 *     `type` among the registered plugins of that stage;
 *  2. each plugin entry against its plugin's options schema (defaults filled; one cached ajv
 *     validator per plugin class).
 * Every problem is reported at once, located at file:line:col (or `--set`).
 */
import type { ValidateFunction } from 'ajv';
import { UserError, type Problem } from '../errors.js';
import type { Registry } from '../registry.js';
import type { JsonSchema, PluginClass } from '../types.js';
import { runChecks, CHECKS, type CheckMemo } from './checks.js';
import { CORE_SCHEMAS, envelopeSchema, pluginEntries, STAGE_SECTIONS } from './envelope.js';
import { anchorPaths } from './paths.js';
import { dropIneffective, type DroppedOption } from './effective.js';
import { configAjv } from './ajv.js';
import { problemAt, sortProblems, type LoadedConfig } from './located.js';
import { ajvProblems, choices, describeValue } from './messages.js';
import { expandTrials, hasSweep, randomSpec, sweepProblems, type Trial } from './sweep.js';
import { randomProbes } from './sweep-random.js';
import { stopTrialProblems } from './sweep-stop.js';
import { TRAINING_METHODS } from '../train/methods.js';
import type { ExperimentConfig, TrainingMethod } from './types.js';

export { redactSecrets, toYaml } from './output.js';

const ajv = configAjv({ allErrors: true, useDefaults: true, verbose: true });
let envelope: ValidateFunction | undefined;
const pluginValidators = new WeakMap<PluginClass, ValidateFunction>();

/** A plugin's options schema with the `type` key added (as validated and as published). */
export function pluginEntrySchema(cls: PluginClass): JsonSchema {
  const s = cls.schema ?? {};
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = Array.isArray(s.required) ? (s.required as string[]) : [];
  return {
    ...s,
    type: 'object',
    description: cls.description,
    properties: { type: { type: 'string', const: cls.type, description: cls.description }, ...props },
    required: ['type', ...required.filter((r) => r !== 'type')],
  };
}

function pluginValidator(stage: string, cls: PluginClass): ValidateFunction {
  let v = pluginValidators.get(cls);
  if (!v) {
    try {
      v = ajv.compile(pluginEntrySchema(cls));
    } catch (e) {
      throw new Error(`${stage} plugin "${cls.type}" has an invalid options schema: ${(e as Error).message}`, { cause: e });
    }
    pluginValidators.set(cls, v);
  }
  return v;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Both schema passes without throwing: the data with defaults filled in (as far as it is valid)
 * and every problem found.
 */
export function schemaPasses(loaded: LoadedConfig, registry: Registry): { config: ExperimentConfig; problems: Problem[]; dropped: DroppedOption[] } {
  const data = structuredClone(loaded.data);
  envelope ??= ajv.compile(envelopeSchema());
  const problems: Problem[] = [];
  if (!envelope(data)) problems.push(...ajvProblems(envelope.errors ?? [], [], data, loaded));

  for (const { stage, path, entry } of pluginEntries(data)) {
    const section = STAGE_SECTIONS[stage];
    if (!isMap(entry)) continue; // absent, or already reported by the envelope
    const available = registry.types(stage);
    // A section with a default plugin keeps that plugin when only options of it are written
    // (`backend: { intra_op_threads: 1 }`, or --set backend.execution_providers=… alone).
    const fallback = !section.list && isMap(section.default) ? section.default.type : undefined;
    const fallbackCls = typeof fallback === 'string' ? registry.get(stage, fallback) : undefined;
    if (entry.type === undefined && fallbackCls && Object.keys(entry).every((k) => k in ((fallbackCls.schema.properties ?? {}) as Record<string, unknown>))) entry.type = fallback;
    const type = entry.type;
    if (type === undefined) {
      problems.push(problemAt(loaded, path, `missing required option "type" (the ${stage} plugin). Available: ${available.join(', ') || '(none)'}.`));
      continue;
    }
    if (typeof type !== 'string') {
      problems.push(problemAt(loaded, [...path, 'type'], `expected a ${stage} plugin name, found ${describeValue(type)}. Available: ${available.join(', ') || '(none)'}.`));
      continue;
    }
    const cls = registry.get(stage, type);
    if (!cls) {
      problems.push(problemAt(loaded, [...path, 'type'], `unknown ${stage} plugin "${type}". ${choices(type, available, 'Available')}`));
      continue;
    }
    const validate = pluginValidator(stage, cls);
    if (!validate(entry)) problems.push(...ajvProblems(validate.errors ?? [], path, entry, loaded, ['type']));
  }
  delete data.extends;
  setLearningRate(data);
  setCompare(data);
  let dropped: DroppedOption[] = [];
  if (problems.length === 0) {
    const ineffective = dropIneffective(data, loaded, registry);
    problems.push(...ineffective.problems);
    dropped = ineffective.dropped;
  }
  anchorPaths(data, loaded, registry, CORE_SCHEMAS.model!);
  return { config: data as unknown as ExperimentConfig, problems, dropped };
}

/** evaluate.compare's default: base and fine-tuned when the method trains (a training run reports both), else base. */
function setCompare(data: Record<string, unknown>): void {
  const evaluate = data.evaluate;
  if (!isMap(evaluate) || evaluate.compare !== undefined) return;
  const training = data.training;
  const method = isMap(training) ? TRAINING_METHODS[training.method as TrainingMethod] : undefined;
  evaluate.compare = method?.trains ? ['base', 'finetuned'] : ['base'];
}

/** One learning rate per run, with the training method's default (2e-5 full, 2e-3 adapter). */
function setLearningRate(data: Record<string, unknown>): void {
  const training = data.training;
  if (!isMap(training)) return;
  const method = TRAINING_METHODS[training.method as TrainingMethod];
  if (method?.learningRate !== undefined && training.learning_rate === undefined) training.learning_rate = method.learningRate;
}

/**
 * Validate one configuration without sweep: schema passes, then (if they pass) the checks. The
 * trials of a sweep share `memo`, so what does not depend on the trial is checked once.
 */
function validateOne(loaded: LoadedConfig, registry: Registry, memo: CheckMemo = new Map()): { config: ExperimentConfig; problems: Problem[]; dropped: DroppedOption[] } {
  const r = schemaPasses(loaded, registry);
  if (r.problems.length === 0) r.problems.push(...runChecks(r.config, loaded, registry, CHECKS, memo));
  return r;
}

/**
 * Validate `loaded` against the registered plugins and fill in defaults. Throws
 * UserError.config with every problem. With a `sweep:`, the sweep section and every trial are
 * validated (trial problems carry "(sweep trial N: path=value)"), and the result is the base
 * config with defaults filled and its `sweep` kept; run trials via expandTrials().
 */
export function validateConfig(loaded: LoadedConfig, registry: Registry): ExperimentConfig {
  return validateWithDropped(loaded, registry).config;
}

/** validateConfig, and the options of extended files it left out (see DroppedOption). */
export function validateWithDropped(loaded: LoadedConfig, registry: Registry): { config: ExperimentConfig; dropped: DroppedOption[] } {
  if (!hasSweep(loaded)) {
    const { config, problems, dropped } = validateOne(loaded, registry);
    if (problems.length) throw UserError.config(sortProblems(problems, loaded.file));
    return { config, dropped };
  }
  validateTrials(loaded, registry);
  const { config, dropped } = schemaPasses(loaded, registry);
  return { config, dropped };
}

/** `path=value` pairs of a sweep trial, values as JSON: `model.pooling="cls", seed=1`. */
export function formatTrialOverrides(overrides: Record<string, unknown>): string {
  return Object.entries(overrides)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
}

/**
 * Validate the sweep section and every trial of a sweep; returns each trial with its resolved
 * config. Throws UserError.config with every problem of every trial (deduplicated), each marked
 * "(sweep trial N: path=value, …)"; with `sweep.random`, also the values its space allows that no
 * trial drew (each choice, each end of a range), marked "(sweep.random can draw path=value)".
 */
export function validateTrials(loaded: LoadedConfig, registry: Registry): Array<Trial & { config: ExperimentConfig; dropped: DroppedOption[] }> {
  const problems = sweepProblems(loaded);
  if (problems.length) throw UserError.config(problems);
  const seen = new Set<string>();
  const memo: CheckMemo = new Map();
  const trials = expandTrials(loaded).map((t) => {
    const r = validateOne(t.loaded, registry, memo);
    for (const p of r.problems) {
      const key = JSON.stringify(p);
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push({ ...p, message: `${p.message} (sweep trial ${t.index}: ${formatTrialOverrides(t.overrides)})` });
    }
    return { ...t, config: r.config, dropped: r.dropped };
  });
  // sweep.random: every choice and both ends of every range, drawn or not (randomProbes)
  const spec = randomSpec(loaded);
  if (spec && trials.length) {
    for (const probe of randomProbes(loaded, spec, trials[0]!)) {
      for (const p of validateOne(probe.loaded, registry, memo).problems) {
        const key = JSON.stringify(p);
        if (seen.has(key)) continue;
        seen.add(key);
        problems.push({ ...p, message: `${p.message} (sweep.random can draw ${formatTrialOverrides({ [probe.key]: probe.value })})` });
      }
    }
  }
  problems.push(...stopTrialProblems(loaded, trials.map((t) => t.config)));
  if (problems.length) throw UserError.config(sortProblems(problems, loaded.file));
  return trials;
}
