/** The experiment-file language: load, override, validate, expand sweeps, publish the schema. */
export { loadConfig, type LoadOptions } from './load.js';
export { displayPath, type LoadedConfig, type Origin } from './located.js';
export { applySets, parseSet } from './set.js';
export { interpolate } from './interpolate.js';
export { formatPath, parsePath, type ConfigPath } from './path.js';
export { COMPARE_MODELS, CORE_SCHEMAS, STAGE_SECTIONS, TOP_LEVEL_KEYS, TRAINING_METHODS } from './envelope.js';
export { pluginEntrySchema, schemaPasses, validateConfig } from './validate.js';
export { CHECKS, runChecks, type CheckContext, type ConfigCheck } from './checks.js';
export { expandTrials, hasSweep, sweepProblems, type Trial } from './sweep.js';
export { buildJsonSchema, stageEntrySchema } from './schema.js';
export { loadCustomPlugins } from './plugins.js';
export { isSecretKey, redactSecrets, toYaml } from './output.js';
