/**
 * Reads the models nsfwjs ships as browserify bundles (model.min.js, group1-shard*.min.js) without running
 * them: each bundle's single module is `module.exports = <literal>`, and the literal is parsed as data.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import type { GraphModelJson } from './graph/tf-types.js';
import { ConvertError } from './ir.js';
import type { LayersModelJson } from './layers/types.js';

export type NsfwjsModelName = 'mobilenet_v2' | 'mobilenet_v2_mid' | 'inception_v3';

/** Told apart by `format`, as TF.js does: graph models say "graph-model", nsfwjs's layers models say nothing. */
export type NsfwjsModelJson = (GraphModelJson & { format: 'graph-model' }) | LayersModelJson;

const require = createRequire(import.meta.url);

/** Where each bundle's module body starts: `{1:[function(req,module,exports){module.exports=`. */
const exportsAt = /\{1:\[function\([\w$]+,([\w$]+),[\w$]+\)\{\1\.exports=/;

/**
 * A parser for the JavaScript literal subset minifiers emit for JSON data: objects (bare or quoted keys),
 * arrays, strings, numbers (".5", "1e-3"), !0/!1, null and void 0. Anything else is refused, never evaluated.
 */
class LiteralParser {
  pos: number;
  constructor(private readonly text: string, start: number, private readonly file: string) {
    this.pos = start;
  }

  private fail(what: string): never {
    throw new ConvertError(`${this.file}: ${what} at offset ${this.pos} (${JSON.stringify(this.text.slice(this.pos, this.pos + 30))})`);
  }

  private skipSpace(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  value(): unknown {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"' || c === "'") return this.string();
    if (c === '!' && (this.text[this.pos + 1] === '0' || this.text[this.pos + 1] === '1')) {
      this.pos += 2;
      return this.text[this.pos - 1] === '0';
    }
    for (const [word, v] of [['null', null], ['true', true], ['false', false], ['void 0', undefined]] as const) {
      if (this.text.startsWith(word, this.pos) && !/[\w$]/.test(this.text[this.pos + word.length] ?? '')) {
        this.pos += word.length;
        return v;
      }
    }
    const m = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 40));
    if (m) {
      this.pos += m[0].length;
      return Number(m[0]);
    }
    return this.fail('unexpected token');
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') { this.pos++; return out; }
    for (;;) {
      this.skipSpace();
      let key: string;
      const c = this.text[this.pos];
      if (c === '"' || c === "'") key = this.string();
      else {
        const m = /^[A-Za-z_$][\w$]*|^\d+/.exec(this.text.slice(this.pos, this.pos + 200));
        if (!m) this.fail('expected a key');
        key = m[0];
        this.pos += key.length;
      }
      this.skipSpace();
      if (this.text[this.pos++] !== ':') this.fail('expected ":"');
      // defineProperty: a "__proto__" key in the data must stay plain data.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const sep = this.text[this.pos++];
      if (sep === '}') return out;
      if (sep !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') { this.pos++; return out; }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const sep = this.text[this.pos++];
      if (sep === ']') return out;
      if (sep !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const quote = this.text[this.pos]!;
    let end = this.pos + 1;
    while (end < this.text.length && this.text[end] !== quote) end += this.text[end] === '\\' ? 2 : 1;
    if (end >= this.text.length) this.fail('unterminated string');
    let body = this.text.slice(this.pos + 1, end);
    if (quote === "'") body = body.replace(/\\'/g, "'").replace(/"/g, '\\"');
    this.pos = end + 1;
    try {
      return JSON.parse(`"${body}"`) as string;
    } catch {
      return this.fail('a string escape JSON does not have');
    }
  }
}

/** The literal a bundle exports. */
function readBundle(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  const m = exportsAt.exec(text);
  if (!m) throw new ConvertError(`${file}: not a browserify bundle exporting one literal`);
  const parser = new LiteralParser(text, m.index + m[0].length, file);
  const value = parser.value();
  if (text[parser.pos] !== '}') throw new ConvertError(`${file}: the module does more than export a literal (offset ${parser.pos})`);
  return value;
}

/** nsfwjs's exports map hides package.json, so the package root is found from its resolved entry point. */
export function nsfwjsModelDir(name: NsfwjsModelName): string {
  const entry = require.resolve('nsfwjs');
  const dist = entry.lastIndexOf(`${sep}dist${sep}`);
  if (dist < 0) throw new ConvertError(`nsfwjs resolved to ${entry}, outside a dist folder`);
  return join(entry.slice(0, dist), 'dist', 'models', name);
}

/**
 * The model JSON and its weight shards concatenated in manifest order, the bytes nsfwjs's JSONHandler
 * hands to TF.js. mobilenet_v2 and inception_v3 are Keras layers models; mobilenet_v2_mid is a graph model.
 */
export function readNsfwjsModel(name: 'mobilenet_v2' | 'inception_v3'): { json: LayersModelJson; weights: Uint8Array };
export function readNsfwjsModel(name: 'mobilenet_v2_mid'): { json: GraphModelJson & { format: 'graph-model' }; weights: Uint8Array };
export function readNsfwjsModel(name: NsfwjsModelName): { json: NsfwjsModelJson; weights: Uint8Array };
export function readNsfwjsModel(name: NsfwjsModelName): { json: NsfwjsModelJson; weights: Uint8Array } {
  const dir = nsfwjsModelDir(name);
  const json = readBundle(join(dir, 'model.min.js')) as { format?: unknown; modelTopology?: unknown; weightsManifest?: { paths: string[] }[] };
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ConvertError(`nsfwjs ${name}: model.min.js does not hold a TF.js model`);
  }
  if (json.format !== undefined && json.format !== 'graph-model' && json.format !== 'layers-model') {
    throw new ConvertError(`nsfwjs ${name}: unknown model format ${String(json.format)}`);
  }
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const path of group.paths) {
      if (!/^[\w.-]+$/.test(path)) throw new ConvertError(`nsfwjs ${name}: unexpected weight path ${path}`);
      const base64 = readBundle(join(dir, `${path}.min.js`));
      if (typeof base64 !== 'string') throw new ConvertError(`nsfwjs ${name}: ${path}.min.js does not export a base64 string`);
      shards.push(Buffer.from(base64, 'base64'));
    }
  }
  const weights = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  let offset = 0;
  for (const s of shards) {
    weights.set(s, offset);
    offset += s.length;
  }
  return { json: json as unknown as NsfwjsModelJson, weights };
}
