import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { catalogue } from '../../src/errors/catalogue.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| `([A-Za-z0-9.]+)` \| (\d{3}) \| (.*?) \| (.*?) \|$/gm)].map((m) => ({
  code: m[1]!, status: Number(m[2]), setting: m[4]!,
}));

test('every catalogued code is documented in docs/errors.md with its status and setting', () => {
  for (const [code, spec] of Object.entries(catalogue)) {
    const row = rows.find((r) => r.code === code);
    assert.ok(row, `${code} is missing from docs/errors.md`);
    assert.equal(row.status, spec.status, `${code}: status in docs/errors.md differs from the catalogue`);
    const settings = 'setting' in spec ? spec.setting.split(', ') : [];
    for (const s of settings) assert.ok(row.setting.includes(s), `${code}: docs/errors.md does not name its setting ${s}`);
  }
});

test('every code in docs/errors.md exists in the catalogue', () => {
  assert.ok(rows.length > 10, 'the table in docs/errors.md was not found');
  for (const row of rows) assert.ok(Object.hasOwn(catalogue, row.code), `docs/errors.md lists ${row.code}, which the catalogue lacks`);
});

test('4xx codes are client faults and only InternalError and ServiceUnavailable are 5xx', () => {
  const fiveHundreds = Object.entries(catalogue).filter(([, s]) => s.status >= 500).map(([c]) => c).sort();
  assert.deepEqual(fiveHundreds, ['InternalError', 'ServiceUnavailable']);
});
