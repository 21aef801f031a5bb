/**
 * The one way ftrun compiles JSON Schemas (the config envelope, plugin options): strict ajv that
 * knows ftrun's `format: 'path'` (a file path relative to the file that writes it; see paths.ts).
 * Plugin authors can test their schema with it as ftrun will compile it.
 */
import { Ajv, type Options } from 'ajv';

/** The JSON Schema `format` that marks a file path option. */
export const PATH_FORMAT = 'path';

export function configAjv(options: Options = {}): Ajv {
  return new Ajv({ strict: true, ...options, formats: { [PATH_FORMAT]: true, ...options.formats } });
}
