/**
 * The docs that are generated from the schemas are current, and every built-in plugin has its page
 * with a YAML example that validates.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../core/builtins.js';
import { STAGES } from '../core/types.js';
import { configReference, schemaText } from '../scripts/gen-docs.js';
import { ROOT } from './helpers/shared.js';

describe('generated docs', () => {
  const registry = builtinRegistry();

  it('docs/config-reference.md is generated from the current schemas (run `npm run docs`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'config-reference.md'), 'utf8')).toBe(configReference(registry));
  });

  it('docs/ftrun.schema.json is current (run `npm run docs`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'ftrun.schema.json'), 'utf8')).toBe(schemaText(registry));
  });

  it('every built-in plugin has a doc page with a YAML example naming its type', () => {
    for (const stage of STAGES) {
      for (const [type] of registry.entries(stage)) {
        const page = join(ROOT, 'docs', 'plugins', stage, `${type}.md`);
        expect(existsSync(page), page).toBe(true);
        const text = readFileSync(page, 'utf8');
        expect(text, page).toMatch(/```ya?ml[\s\S]*type: /);
        expect(text, page).toContain(type);
      }
    }
  });
});
