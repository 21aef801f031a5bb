/**
 * What the declarations of ftrun's entries need from a plugin's program so that they type-check
 * without `skipLibCheck`: they name tfjs-core's tensor types (LossBatch, LossPlugin, `tf` of
 * 'ftrun/loss'), and tfjs-core's own declarations name browser types (HTMLImageElement, ImageData,
 * WebGLTexture … in its from-pixels and io functions) and the global `Long` of @types/long (a
 * dependency of tfjs-core). Referenced by types/index.d.ts and types/loss.d.ts, the `types` of the
 * package's entries; outside the project's own compilation, which keeps lib ES2022 only.
 */
/// <reference lib="dom" />
/// <reference types="long" />
