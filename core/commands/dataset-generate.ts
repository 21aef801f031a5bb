/**
 * `ftrun dataset generate CONFIG [--set k=v] [--out FILE]`: the queries of the experiment's
 * `dataset: { type: generate }` written (and filtered) without training: the corpus read, every
 * answer taken from the generation cache or asked of the server, the set written as JSONL to
 * --out (default: generated.jsonl in the current directory; when a document was chunked, the
 * chunks beside it as <out>_corpus.jsonl). Prints the file and the counts; exit 0, 1 (failed),
 * 2 (a config or usage error, or the server refused / did not answer: E_LLM). A round-trip filter
 * loads its encoder through the experiment's backend, as a run does.
 */
import { basename, dirname, extname, join, resolve } from 'node:path';
import { displayPath } from '../config/located.js';
import { hasSweep } from '../config/sweep.js';
import { validateConfig } from '../config/validate.js';
import { UserError } from '../errors.js';
import { locateError } from '../run/locate-error.js';
import { makeRunContext } from '../run/context.js';
import { RunResources } from '../run/resources.js';
import type { BackendPlugin, DatasetServices } from '../types.js';
import { prepare } from './prepare.js';
import type { IO } from './run.js';

export interface DatasetGenerateArgs {
  file: string;
  sets: string[];
  out?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

export async function datasetGenerateCommand(args: DatasetGenerateArgs, io: IO): Promise<number> {
  const { loaded, registry } = await prepare(args.file, args.sets);
  if (hasSweep(loaded)) {
    throw new UserError('E_USAGE', `ftrun dataset generate: ${displayPath(loaded.file)} has a sweep: section; generate from an experiment without one (each trial of ftrun run reuses the cached answers)`);
  }
  const config = validateConfig(loaded, registry);
  if (config.dataset.type !== 'generate') {
    const at = loaded.locate(['dataset', 'type']);
    throw new UserError('E_USAGE', `ftrun dataset generate: ${displayPath(at.file)}${at.line !== undefined ? `:${at.line}` : ''} dataset.type is "${config.dataset.type}"; the command writes the queries of a dataset of type generate (dataset: { type: generate, corpus, llm }). See: ftrun dataset --help`);
  }
  const out = resolve(args.out ?? 'generated.jsonl');
  const log = { quiet: args.quiet, verbose: args.verbose, write: io.err };
  const ctx = makeRunContext(loaded, { runDir: dirname(out), runId: 'dataset-generate', seed: config.seed, log, signal: io.signal });
  const res = new RunResources(registry, ctx);
  let backend: BackendPlugin | undefined;
  const services: DatasetServices = {
    loadEncoder: async (spec, name) => {
      backend ??= await res.make('backend', config.backend);
      return res.track(await backend.loadEncoder(spec, name));
    },
    release: (encoder) => res.release(encoder),
  };
  const { GenerateDataset, writeGeneratedSet } = await import('../../plugins/dataset/generate.js');
  try {
    const dataset = await res.make('dataset', config.dataset);
    if (!(dataset instanceof GenerateDataset)) throw new Error(`dataset type generate made ${dataset.constructor.name}, not a GenerateDataset`);
    const set = await dataset.generate(services);
    const corpusFile = writeGeneratedSet(set, out, join(dirname(out), `${basename(out, extname(out))}_corpus.jsonl`));
    if (args.json) io.out(JSON.stringify({ file: out, ...(corpusFile ? { corpus_file: corpusFile } : {}), ...set.info }, null, 2) + '\n');
    if (!args.quiet) io.err(`${set.records.length} queries → ${out}${corpusFile ? ` (the chunked corpus they name → ${corpusFile})` : ''}\n`);
    return 0;
  } catch (e) {
    throw locateError(e, loaded, 'dataset');
  } finally {
    await res.close();
  }
}
