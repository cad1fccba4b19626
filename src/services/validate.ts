import { AppError, describeValue, invalidValue } from '../errors/app-error.js';

/**
 * One validator for every request, HTTP or CLI, driven by the same JSON schemas that the OpenAPI document
 * publishes. It stops at the first problem and says it the sharp way: "Expected integer between 1 and 100
 * for output.quality but received 120". It covers the JSON Schema subset our schemas use.
 */
type Schema = Record<string, unknown> & {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  discriminator?: { propertyName: string };
  enum?: unknown[];
  const?: unknown;
};

export interface ValidateOptions {
  /** Query strings and multipart fields arrive as text: accept "12" for an integer and "true" for a boolean. */
  coerce?: boolean;
}

/** Describes what a schema allows, for the "Expected ..." half of a message. */
export function describeSchema(s: Schema): string {
  if (typeof s.description === 'string' && s.type === 'string' && s.pattern) return s.description;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  const range = (kind: string) => {
    const min = s.minimum as number | undefined;
    const max = s.maximum as number | undefined;
    if (min !== undefined && max !== undefined) return `${kind} between ${min} and ${max}`;
    if (min !== undefined) return `${kind} of at least ${min}`;
    if (max !== undefined) return `${kind} of at most ${max}`;
    return kind;
  };
  switch (s.type) {
    case 'integer': return range('integer');
    case 'number': return range('number');
    case 'boolean': return 'boolean';
    case 'string': {
      const min = (s.minLength as number | undefined) ?? 0;
      const max = s.maxLength as number | undefined;
      return max !== undefined ? `string of ${min} to ${max} characters` : min > 0 ? 'non-empty string' : 'string';
    }
    case 'array': {
      const of = s.items?.enum ? ` of ${s.items.enum.join(', ')}` : '';
      const count = s.minItems !== undefined && s.maxItems !== undefined ? ` (${s.minItems} to ${s.maxItems} items)` : s.maxItems !== undefined ? ` (at most ${s.maxItems} items)` : '';
      return `array${of}${count}`;
    }
    case 'object': return 'object';
    default: return 'value';
  }
}

const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

function coerceScalar(s: Schema, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  // A form field holds one string: `features=objects,faces` or `classes=dog` is the list a curl user means.
  if (s.type === 'array' && !value.trimStart().startsWith('[')) return value.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if ((s.type === 'integer' || s.type === 'number') && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (s.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function checkOneOf(s: Schema, value: unknown, path: string, opts: ValidateOptions): unknown {
  const branches = s.oneOf ?? s.anyOf ?? [];
  const key = s.discriminator?.propertyName;
  if (key && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const tag = (value as Record<string, unknown>)[key];
    const names = branches.map((b) => (b.properties?.[key] as Schema | undefined)?.const);
    const index = names.indexOf(tag);
    if (tag === undefined) throw invalidValue(join(path, key), `one of ${names.join(', ')}`, undefined, 'MissingParameter');
    if (index < 0) throw invalidValue(join(path, key), `one of ${names.join(', ')}`, tag, 'UnsupportedOperation');
    return check(branches[index]!, value, path, opts);
  }
  for (const branch of branches) {
    try {
      return check(branch, value, path, opts);
    } catch {
      // try the next branch
    }
  }
  throw invalidValue(path, branches.map(describeSchema).join(' or '), value);
}

/** Checks `value` against `s` and returns it (coerced where allowed). Throws the first problem as an AppError. */
export function check(s: Schema, input: unknown, path = '', opts: ValidateOptions = {}): unknown {
  if (s.oneOf || s.anyOf) return checkOneOf(s, input, path, opts);
  const value = opts.coerce ? coerceScalar(s, input) : input;
  const fail = (): never => { throw invalidValue(path || 'request', describeSchema(s), value); };
  if (s.const !== undefined && value !== s.const) fail();
  if (s.enum && !s.enum.includes(value)) fail();
  switch (s.type) {
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (s.type === 'integer' && !Number.isInteger(value))) fail();
      const n = value as number;
      if ((s.minimum !== undefined && n < (s.minimum as number)) || (s.maximum !== undefined && n > (s.maximum as number))) fail();
      return n;
    }
    case 'boolean':
      if (typeof value !== 'boolean') fail();
      return value;
    case 'string': {
      if (typeof value !== 'string') fail();
      const text = value as string;
      if (s.minLength !== undefined && text.length < (s.minLength as number)) fail();
      if (s.maxLength !== undefined && text.length > (s.maxLength as number)) fail();
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(text)) fail();
      return text;
    }
    case 'array': {
      if (!Array.isArray(value)) fail();
      const list = value as unknown[];
      if (s.maxItems !== undefined && list.length > (s.maxItems as number)) fail();
      if (s.minItems !== undefined && list.length < (s.minItems as number)) fail();
      return s.items ? list.map((item, i) => check(s.items!, item, join(path, i), opts)) : list;
    }
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail();
      const obj = value as Record<string, unknown>;
      const props = s.properties ?? {};
      for (const name of s.required ?? []) {
        if (obj[name] === undefined) {
          throw new AppError('MissingParameter', `Expected ${describeSchema(props[name] ?? {})} for ${join(path, name)} but received nothing`);
        }
      }
      if (s.additionalProperties === false) {
        const extra = Object.keys(obj).find((k) => !Object.hasOwn(props, k));
        if (extra !== undefined) {
          throw new AppError('InvalidParameter', `Expected only ${Object.keys(props).join(', ')} in ${path || 'the request'} but received ${describeValue(extra)}`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) out[k] = props[k] && v !== undefined ? check(props[k], v, join(path, k), opts) : v;
      return out;
    }
    default:
      return value;
  }
}

export function validate<T>(schema: unknown, value: unknown, path = '', opts: ValidateOptions = {}): T {
  return check(schema as Schema, value, path, opts) as T;
}
