import type { GraphBuilder } from '../builder.js';
import { ConvertError, type Value } from '../ir.js';
import type { DecodedWeight } from '../weights.js';
import type { KerasLayer } from './types.js';

/** Work a layer absorbs from its neighbours: a ZeroPadding2D before it, a BatchNormalization after it. */
export interface Fusion {
  /** [top, bottom, left, right] */
  pads?: [number, number, number, number];
  bn?: KerasLayer;
}

/** The model's weights by name; records which were read so unread ones can be reported. */
export class WeightStore {
  readonly used = new Set<string>();
  constructor(private readonly weights: Map<string, DecodedWeight>, private readonly model: string) {}

  /**
   * `layer/param` as TF.js's converter writes it; some exports prefix a scope ("model/layer/param"),
   * accepted when exactly one weight ends that way.
   */
  find(layer: string, param: string): { name: string; weight: DecodedWeight } | undefined {
    const exact = `${layer}/${param}`;
    const w = this.weights.get(exact);
    if (w) return { name: exact, weight: w };
    const matches = [...this.weights.keys()].filter((n) => n.endsWith(`/${exact}`));
    if (matches.length > 1) throw new ConvertError(`model ${this.model}: weight ${exact} is ambiguous (${matches.join(', ')})`);
    return matches[0] ? { name: matches[0], weight: this.weights.get(matches[0])! } : undefined;
  }

  get(layer: string, param: string): { data: Float32Array; shape: number[] } | undefined {
    const found = this.find(layer, param);
    if (!found) return undefined;
    if (!(found.weight.data instanceof Float32Array)) throw new ConvertError(`model ${this.model}: weight ${found.name} is not float32`);
    this.used.add(found.name);
    return { data: found.weight.data, shape: found.weight.shape };
  }

  unused(): string[] {
    return [...this.weights.keys()].filter((n) => !this.used.has(n));
  }
}

type Config = Record<string, unknown>;

/** What a layer handler gets: the layer, its resolved inputs, typed config readers, weights and the builder. */
export class LayerContext {
  constructor(
    readonly b: GraphBuilder,
    readonly layer: KerasLayer,
    readonly name: string,
    readonly inputs: readonly Value[],
    readonly model: string,
    private readonly store: WeightStore,
    readonly fusion: Fusion = {},
  ) {}

  get config(): Config {
    return this.layer.config;
  }

  fail(message: string): never {
    throw new ConvertError(`model ${this.model}: ${this.layer.class_name} layer ${this.name}: ${message}`);
  }

  input(i = 0): Value {
    return this.inputs[i] ?? this.fail(`expected input ${i}`);
  }

  /** The single input of a layer that takes exactly one. */
  only(): Value {
    if (this.inputs.length !== 1) this.fail(`expected one input, got ${this.inputs.length}`);
    return this.inputs[0]!;
  }

  weight(param: string, layer = this.name): { data: Float32Array; shape: number[] } {
    return this.store.get(layer, param) ?? this.fail(`weight ${layer}/${param} is missing from the weights manifest`);
  }

  num(key: string, fallback?: number): number {
    const v = this.config[key];
    if (typeof v === 'number') return v;
    if (v == null && fallback !== undefined) return fallback;
    return this.fail(`config ${key} should be a number, not ${JSON.stringify(v)}`);
  }

  str(key: string, fallback?: string): string {
    const v = this.config[key];
    if (typeof v === 'string') return v;
    if (v == null && fallback !== undefined) return fallback;
    return this.fail(`config ${key} should be a string, not ${JSON.stringify(v)}`);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key];
    if (typeof v === 'boolean') return v;
    if (v == null) return fallback;
    return this.fail(`config ${key} should be a boolean, not ${JSON.stringify(v)}`);
  }

  /** Keras's int-or-tuple arguments (kernel_size, strides, ...) as a [height, width] pair. */
  pair(key: string, fallback?: [number, number]): [number, number] {
    const v = this.config[key];
    if (typeof v === 'number') return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
    if (v == null && fallback) return fallback;
    return this.fail(`config ${key} should be an integer pair, not ${JSON.stringify(v)}`);
  }

  /** Layers here compute in TF's NHWC; a channels_first layer would need its own layout handling. */
  channelsLast(): void {
    const f = this.str('data_format', 'channels_last');
    if (f !== 'channels_last') this.fail(`data_format ${f} is not supported`);
  }

  /** Rank of an input whose rank the converter tracked. */
  rank(v: Value): number {
    return v.shape?.length ?? this.fail('the input rank is unknown');
  }

  out(shape: readonly (number | null)[] | undefined): { dtype: 'float32'; shape?: readonly (number | null)[] } {
    return { dtype: 'float32', ...(shape && { shape }) };
  }
}

export type LayerHandler = (ctx: LayerContext) => Value;
