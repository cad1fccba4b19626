/** The converter's view of a tensor while the ONNX graph is being built. */
export type DType = 'float32' | 'int32' | 'int64' | 'bool' | 'uint8';
export type ConstData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

export interface Value {
  /** The ONNX value name. */
  readonly name: string;
  readonly dtype: DType;
  /** Known shape: null for a dimension known only at run time; undefined when even the rank is unknown. */
  readonly shape?: readonly (number | null)[];
  /** The value itself when it is a constant known at conversion time (weights, shapes, axes). */
  readonly data?: ConstData;
  /**
   * When this NHWC value is only a transpose of an NCHW one (a convolution's output), that NCHW value:
   * per-channel elementwise ops then run before the transpose, where onnxruntime fuses them into the Conv.
   */
  readonly nchw?: Value;
}

/** A model that cannot be converted: names the model, the node and the op, never skipped silently. */
export class ConvertError extends Error {
  override name = 'ConvertError';
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function toNumbers(data: ConstData): number[] {
  return data instanceof BigInt64Array ? Array.from(data, Number) : Array.from(data);
}
