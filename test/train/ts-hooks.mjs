/**
 * Node module hooks registered by ts-loader.mjs: `.js` imports resolve to the `.ts` file beside
 * them, and `.ts` files are transpiled with the project's TypeScript (decorators and their
 * metadata included), so test child processes run the sources directly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export async function resolve(spec, context, next) {
  const relative = spec.startsWith('.') || spec.startsWith('file:') || spec.startsWith('/');
  if (relative && spec.endsWith('.js') && context.parentURL?.startsWith('file:')) {
    const url = new URL(spec.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(spec, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      useDefineForClassFields: false,
      inlineSourceMap: true,
    },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
