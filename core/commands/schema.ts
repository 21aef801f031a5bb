/** `ftrun schema`: the JSON Schema of experiment files with every built-in plugin (docs/ftrun.schema.json). */
import { builtinRegistry } from '../builtins.js';
import { buildJsonSchema } from '../config/schema.js';
import type { IO } from './run.js';

export function schemaCommand(io: IO): number {
  io.out(JSON.stringify(buildJsonSchema(builtinRegistry()), null, 2) + '\n');
  return 0;
}
