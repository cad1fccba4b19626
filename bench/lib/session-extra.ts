/** "a.b.c=v" entries as the nested object onnxruntime's SessionOptions.extra takes; undefined when empty. */
export function nestSessionExtra(entries: Record<string, string>): Record<string, unknown> | undefined {
  const keys = Object.keys(entries);
  if (keys.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const parts = key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = entries[key];
  }
  return out;
}

/** `base` with `extra`'s entries added or overriding, nested objects merged. */
export function mergeSessionExtra(base: Record<string, unknown> | undefined, extra: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!base || !extra) return base ?? extra;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const b = out[k];
    out[k] = b && typeof b === 'object' && v && typeof v === 'object' ? mergeSessionExtra(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}
