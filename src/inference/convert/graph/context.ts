import type { GraphBuilder } from '../builder.js';
import { ConvertError, toNumbers, type DType, type Value } from '../ir.js';
import type { TfAttr, TfNode } from './tf-types.js';

/** What an op handler gets: the node, its resolved inputs, typed attribute readers and the builder. */
export class OpContext {
  constructor(
    readonly node: TfNode,
    readonly inputs: readonly Value[],
    readonly b: GraphBuilder,
    readonly model: string,
  ) {}

  fail(message: string): never {
    throw new ConvertError(`model ${this.model}: ${this.node.op} node ${this.node.name}: ${message}`);
  }

  input(i: number): Value {
    return this.inputs[i] ?? this.fail(`expected input ${i}`);
  }

  private attr(name: string): TfAttr | undefined {
    return this.node.attr?.[name];
  }

  int(name: string, fallback?: number): number {
    const a = this.attr(name);
    if (a?.i !== undefined) return Number(a.i);
    if (fallback !== undefined) return fallback;
    return this.fail(`missing integer attribute ${name}`);
  }

  float(name: string, fallback?: number): number {
    const a = this.attr(name);
    if (a?.f !== undefined) return a.f;
    if (fallback !== undefined) return fallback;
    return this.fail(`missing float attribute ${name}`);
  }

  bool(name: string, fallback = false): boolean {
    return this.attr(name)?.b ?? fallback;
  }

  str(name: string, fallback?: string): string {
    const s = this.attr(name)?.s;
    if (s !== undefined) return Buffer.from(s, 'base64').toString('utf8');
    if (fallback !== undefined) return fallback;
    return this.fail(`missing string attribute ${name}`);
  }

  ints(name: string, fallback?: number[]): number[] {
    const l = this.attr(name)?.list;
    if (l?.i) return l.i.map(Number);
    if (l) return [];
    if (fallback !== undefined) return fallback;
    return this.fail(`missing integer list attribute ${name}`);
  }

  strs(name: string): string[] {
    return (this.attr(name)?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  }

  dtype(name: string): DType {
    const t = this.attr(name)?.type;
    switch (t) {
      case 'DT_FLOAT': return 'float32';
      case 'DT_INT32': return 'int32';
      case 'DT_INT64': return 'int64';
      case 'DT_BOOL': return 'bool';
      case 'DT_UINT8': return 'uint8';
      default: return this.fail(`unsupported dtype ${t ?? 'undefined'} in attribute ${name}`);
    }
  }

  /** The values of an input that must be known at conversion time (axes, perms, shapes in most models). */
  constInts(i: number): number[] {
    const v = this.input(i);
    if (!v.data) this.fail(`input ${i} (${v.name}) must be a constant for this conversion`);
    return toNumbers(v.data);
  }

  /** A float constant input with a known shape: weights. */
  constFloats(i: number): { data: Float32Array; shape: number[] } {
    const v = this.input(i);
    if (!(v.data instanceof Float32Array) || !v.shape || v.shape.some((d) => d === null)) {
      return this.fail(`input ${i} (${v.name}) must be a float constant`);
    }
    return { data: v.data, shape: v.shape as number[] };
  }

  isConst(i: number): boolean {
    return this.inputs[i]?.data !== undefined;
  }

  rank(i: number): number {
    const shape = this.input(i).shape;
    if (!shape) this.fail(`the rank of input ${i} is unknown`);
    return shape.length;
  }
}

export type OpHandler = (ctx: OpContext) => Value | Value[];
