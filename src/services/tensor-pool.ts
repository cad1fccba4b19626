/**
 * Reusable model-input arrays. A model input is megabytes of float32 (CenterNet's 512x512x3: 3 MB); allocated
 * per request, that memory made V8 run a full garbage collection every 100-200 ms under load (external memory
 * pressure), about a sixth of the server thread. Not shared memory: onnxruntime-node refuses a
 * SharedArrayBuffer-backed input ("Invalid argument").
 */
export class TensorPool {
  private readonly free = new Map<number, Float32Array[]>();

  /** `keep`: arrays kept per length, about the number of requests in flight. */
  constructor(private readonly keep = 4) {}

  take(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  /** Only once nothing reads the array any more (the runtime keeps no reference once a run has settled). */
  give(array: Float32Array): void {
    const list = this.free.get(array.length) ?? [];
    if (list.length < this.keep) list.push(array);
    this.free.set(array.length, list);
  }
}
