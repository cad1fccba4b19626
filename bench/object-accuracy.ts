/**
 * The two COCO detectors on every fixture whose manifest entry lists its objects: instance recall of the
 * listed classes (found boxes per class, capped at the count listed, or the low end of objects_range), boxes of
 * classes not listed (a rough false-positive count), and detector milliseconds per image (in-process: decode,
 * preprocessing, model run, decoding, NMS). Prints a markdown table for docs/models.md.
 *
 *   npx tsx bench/object-accuracy.ts [--min-score 0.3]
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/env.js';
import { createServices } from '../src/services/create.js';

const fixtures = new URL('../../shared/fixtures/', import.meta.url);
interface Entry { path: string; objects?: Record<string, number>; objects_range?: Record<string, [number, number]>; format?: string }
const manifest: { files: Entry[] } = JSON.parse(readFileSync(new URL('manifest.json', fixtures), 'utf8'));
const argMin = process.argv.indexOf('--min-score');
const minScore = argMin > 0 ? Number(process.argv[argMin + 1]) : 0.3;

// HEVC HEIC is refused by the input gate (not decodable here); every other listed image counts.
const images = manifest.files.filter((f) => f.objects && !f.path.endsWith('.heic'));
const services = createServices(loadConfig({ IMGSENSE_DATA_DIR: '.tmp/test-data', LOG_LEVEL: 'silent' }));

console.log(`${images.length} images, min_score ${minScore}\n`);
console.log('| model | instances found / listed | recall | classes found / listed | boxes of unlisted classes | ms per image (median) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const model of ['centernet', 'nanodet'] as const) {
  // warm: the first run pays for session creation
  await services.vision.objects({ kind: 'bytes', bytes: readFileSync(new URL(images[0]!.path, fixtures)) }, { model });
  let found = 0, listed = 0, classesFound = 0, classesListed = 0, extra = 0;
  const times: number[] = [];
  const misses: string[] = [];
  for (const img of images) {
    const bytes = readFileSync(new URL(img.path, fixtures));
    const t0 = performance.now();
    const r = await services.vision.objects({ kind: 'bytes', bytes }, { model, top_k: 100, min_score: minScore });
    times.push(performance.now() - t0);
    for (const [name, count] of Object.entries(img.objects!)) {
      // "at least": the low end of objects_range where detectors may reasonably differ (a motorcycle of [0, 1] is not required).
      const want = img.objects_range?.[name]?.[0] ?? count;
      if (want === 0) continue;
      const got = r.objects.filter((o) => o.name === name).length;
      found += Math.min(got, want);
      listed += want;
      classesListed++;
      if (got > 0) classesFound++;
      else misses.push(`${img.path}:${name}`);
    }
    extra += r.objects.filter((o) => !(o.name in img.objects!)).length;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`| ${model} | ${found} / ${listed} | ${(found / listed).toFixed(2)} | ${classesFound} / ${classesListed} | ${extra} | ${median.toFixed(0)} |`);
  if (process.argv.includes('--misses')) console.log(`  missed: ${misses.join(', ')}`);
}
await services.inference.close();
