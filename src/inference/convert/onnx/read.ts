/**
 * A minimal ONNX reader: the graph's nodes (op, inputs, outputs) and its inputs and outputs with their
 * shapes. Enough to inspect onnxruntime's optimised model and to describe an operator's own .onnx file.
 */
export interface OnnxSummary {
  nodes: { opType: string; domain: string; inputs: string[]; outputs: string[] }[];
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  initializers: Set<string>;
}

type Field = { field: number; wire: number; value: bigint | Uint8Array };

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated protobuf varint');
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) yield { field, wire, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new Error('truncated protobuf field');
      yield { field, wire, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 5) { pos += 4; } else if (wire === 1) { pos += 8; } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const text = (v: bigint | Uint8Array) => new TextDecoder().decode(v as Uint8Array);
const sub = (buf: Uint8Array, field: number) => [...fields(buf)].filter((f) => f.field === field && f.wire === 2).map((f) => f.value as Uint8Array);

function valueInfo(buf: Uint8Array): { name: string; shape: (number | string)[] } {
  let name = '';
  const shape: (number | string)[] = [];
  for (const f of fields(buf)) {
    if (f.field === 1) name = text(f.value);
    if (f.field === 2) {
      for (const tensor of sub(f.value as Uint8Array, 1)) {
        for (const s of sub(tensor, 2)) {
          for (const dim of sub(s, 1)) {
            const d = [...fields(dim)][0];
            shape.push(!d ? '?' : d.field === 1 ? Number(d.value) : text(d.value));
          }
        }
      }
    }
  }
  return { name, shape };
}

export function readOnnx(model: Uint8Array): OnnxSummary {
  const graph = sub(model, 7)[0];
  if (!graph) throw new Error('not an ONNX model: no graph');
  const summary: OnnxSummary = { nodes: [], inputs: [], outputs: [], initializers: new Set() };
  for (const f of fields(graph)) {
    if (f.wire !== 2) continue;
    const body = f.value as Uint8Array;
    if (f.field === 1) {
      const node = { opType: '', domain: '', inputs: [] as string[], outputs: [] as string[] };
      for (const g of fields(body)) {
        if (g.field === 1) node.inputs.push(text(g.value));
        else if (g.field === 2) node.outputs.push(text(g.value));
        else if (g.field === 4) node.opType = text(g.value);
        else if (g.field === 7) node.domain = text(g.value);
      }
      summary.nodes.push(node);
    } else if (f.field === 5) {
      const name = [...fields(body)].find((g) => g.field === 8);
      if (name) summary.initializers.add(text(name.value));
    } else if (f.field === 11) summary.inputs.push(valueInfo(body));
    else if (f.field === 12) summary.outputs.push(valueInfo(body));
  }
  summary.inputs = summary.inputs.filter((i) => !summary.initializers.has(i.name));
  return summary;
}
