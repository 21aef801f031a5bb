/**
 * The tfjs backend's `device` values, apart from device selection (./device.ts, which loads tfjs):
 * the backend's options schema lists them, and reading a schema loads no tensor library.
 */
export type TfjsDevice = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu' | 'webgpu';
export const TFJS_DEVICES: readonly TfjsDevice[] = ['auto', 'node-gpu', 'node', 'wasm', 'cpu', 'webgpu'];
