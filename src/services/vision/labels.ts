import { cocoClasses, supercategoryZh } from '../../inference/models/coco-classes.js';
import { classify } from '../../inference/models/object-detector.js';
import type { ModelEntry } from '../../inference/registry.js';
import type { InferenceRuntime } from '../../inference/runtime.js';
import type { ImageContext } from './context.js';
import { computeModeration, type ModerationPolicy, type ModerationScores } from './moderation.js';
import { computeObjects } from './objects.js';
import { defaults, type LabelsRequest } from './params.js';

/**
 * Whole-image labels in the spirit of Tencent DetectLabel, built only from what our models see:
 * - every COCO class the detector finds (category: its COCO supercategory, confidence: its best box),
 * - the moderation classifier's non-neutral classes when they are likely (drawing as "illustration",
 *   hentai/porn/sexy as "moderation"),
 * - every operator classifier (task "classification" with labels, <data dir>/models/custom): its top classes,
 *   category = the model id.
 * It cannot name scenes, landmarks, brands, plants, dog breeds or anything outside those vocabularies
 * (docs/models.md).
 */
export interface Label {
  /** In the language asked for (lang). */
  name: string;
  nameEn: string;
  nameZh: string;
  /** 0..100 */
  confidence: number;
  category: string;
  /** What produced it: objects, moderation, or the operator model's id. */
  source: string;
}

export interface LabelsResult {
  labels: Label[];
}

/** Lowest probability (0..1) that becomes a label. */
export const labelMinScore = 0.3;
/** Classes answered per operator classifier. */
const customTopK = 5;

const moderationLabels: { key: keyof ModerationScores; en: string; zh: string; category: string; categoryZh: string }[] = [
  { key: 'drawing', en: 'drawing', zh: '绘画', category: 'illustration', categoryZh: '插画' },
  { key: 'hentai', en: 'hentai', zh: '色情动漫', category: 'moderation', categoryZh: '审核' },
  { key: 'porn', en: 'porn', zh: '色情', category: 'moderation', categoryZh: '审核' },
  { key: 'sexy', en: 'sexy', zh: '性感', category: 'moderation', categoryZh: '审核' },
];

interface Draft extends Omit<Label, 'name' | 'category'> { category: string; categoryZh: string }

export interface LabelSources {
  runtime: InferenceRuntime;
  policy: ModerationPolicy;
  /** Operator classifiers that declare their labels. */
  classifiers: readonly ModelEntry[];
}

async function customLabels(ctx: ImageContext, deps: LabelSources, entry: ModelEntry): Promise<Draft[]> {
  const image = await ctx.decoded();
  const probs = await ctx.withTensor(image, entry.input, (t) => classify(deps.runtime, entry.id, t));
  const names = entry.labels ?? [];
  return probs
    .map((p, i) => ({ p, name: names[i] ?? `class ${i}` }))
    .filter((x) => x.p >= labelMinScore)
    .sort((a, b) => b.p - a.p)
    .slice(0, customTopK)
    // An operator's vocabulary comes in one language; it is answered as given in both.
    .map((x) => ({ nameEn: x.name, nameZh: x.name, confidence: Math.round(x.p * 100), category: entry.id, categoryZh: entry.id, source: entry.id }));
}

export async function computeLabels(ctx: ImageContext, deps: LabelSources, req: LabelsRequest = {}): Promise<LabelsResult> {
  const lang = req.lang ?? defaults.labels.lang;
  const topK = req.top_k ?? defaults.labels.top_k;
  const [objects, moderation, custom] = await Promise.all([
    computeObjects(ctx, deps.runtime, { top_k: 100, min_score: labelMinScore }),
    computeModeration(ctx, deps.runtime, deps.policy),
    Promise.all(deps.classifiers.map((e) => customLabels(ctx, deps, e))),
  ]);
  const drafts: Draft[] = [];
  const best = new Map<number, number>();
  for (const o of objects.objects) best.set(o.classId, Math.max(best.get(o.classId) ?? 0, o.score));
  for (const [classId, score] of best) {
    const c = cocoClasses[classId]!;
    drafts.push({ nameEn: c.name, nameZh: c.nameZh, confidence: Math.round(score * 100), category: c.supercategory, categoryZh: supercategoryZh[c.supercategory]!, source: 'objects' });
  }
  for (const m of moderationLabels) {
    const score = moderation.scores[m.key];
    if (score >= labelMinScore) drafts.push({ nameEn: m.en, nameZh: m.zh, confidence: Math.round(score * 100), category: m.category, categoryZh: m.categoryZh, source: 'moderation' });
  }
  drafts.push(...custom.flat());
  const labels = drafts
    .sort((a, b) => b.confidence - a.confidence)
    .slice(0, topK)
    .map(({ categoryZh, category, ...d }) => ({
      name: lang === 'zh' ? d.nameZh : d.nameEn,
      nameEn: d.nameEn,
      nameZh: d.nameZh,
      confidence: d.confidence,
      category: lang === 'zh' ? categoryZh : category,
      source: d.source,
    }));
  return { labels };
}
