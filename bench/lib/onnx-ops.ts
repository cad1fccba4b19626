/**
 * Counts the nodes of an ONNX model by op type, reading just enough of the protobuf wire format:
 * ModelProto.graph (7) -> GraphProto.node (1) -> NodeProto.op_type (4) / domain (7) / attribute (5), and the
 * subgraphs held in AttributeProto.g (6) / graphs (11).
 */

interface Field { no: number; wire: number; start: number; end: number; value: number }

function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (pos >= end) throw new Error('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
  };
  while (pos < end) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    switch (wire) {
      case 0: yield { no, wire, start: pos, end: pos, value: varint() }; break;
      case 1: pos += 8; break;
      case 5: pos += 4; break;
      case 2: {
        const len = varint();
        yield { no, wire, start: pos, end: pos + len, value: len };
        pos += len;
        break;
      }
      default: throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

const text = new TextDecoder();

function countGraph(buf: Uint8Array, start: number, end: number, counts: Map<string, number>): void {
  for (const f of fields(buf, start, end)) {
    if (f.no !== 1 || f.wire !== 2) continue;
    let op = '';
    let domain = '';
    for (const g of fields(buf, f.start, f.end)) {
      if (g.wire !== 2) continue;
      if (g.no === 4) op = text.decode(buf.subarray(g.start, g.end));
      else if (g.no === 7) domain = text.decode(buf.subarray(g.start, g.end));
      else if (g.no === 5) {
        for (const a of fields(buf, g.start, g.end)) {
          if (a.wire === 2 && (a.no === 6 || a.no === 11)) countGraph(buf, a.start, a.end, counts);
        }
      }
    }
    const key = domain && domain !== 'ai.onnx' ? `${domain}:${op}` : op;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}

/** Node count per op type ("domain:op" outside the default domain), subgraphs included. */
export function countOps(model: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of fields(model, 0, model.length)) {
    if (f.no === 7 && f.wire === 2) countGraph(model, f.start, f.end, counts);
  }
  return counts;
}

export function opCount(counts: Map<string, number>, op: string): number {
  let n = 0;
  for (const [k, v] of counts) if (k === op || k.endsWith(`:${op}`)) n += v;
  return n;
}

/** Ops that only move data between layouts: Transpose, and the NCHWc reorders onnxruntime inserts. */
export function isLayoutOp(op: string): boolean {
  return op === 'Transpose' || op.endsWith('ReorderInput') || op.endsWith('ReorderOutput');
}
