import { AppError } from '../../errors/app-error.js';
import type { ImageContext } from './context.js';
import type { FeatureName } from './params.js';

/**
 * What /v1/vision/analyze can compute: a feature name -> a function of the shared, once-decoded image and
 * that feature's own parameters (the same object its own endpoint takes). Features not wired in this build
 * are absent and refused by name before any work starts.
 *
 * Faces plugs in at merge time with one entry in services/create.ts, e.g.
 *   features: { faces: (ctx, params) => faces.detect({ kind: 'bytes', bytes: ctx.probe.bytes }, params) }
 * (better: a FaceService method taking the ImageContext, so that it reuses ctx.decoded()).
 */
export type FeatureFn = (ctx: ImageContext, params: Record<string, unknown> | undefined) => Promise<unknown>;
export type FeatureRegistry = Partial<Record<FeatureName, FeatureFn>>;

export function checkFeatures(registry: FeatureRegistry, wanted: readonly string[]): FeatureName[] {
  const unique = [...new Set(wanted)] as FeatureName[];
  for (const name of unique) {
    if (!registry[name]) {
      const available = Object.keys(registry).join(', ');
      throw new AppError('UnsupportedOperation', `Expected features from ${available} for features but received ${JSON.stringify(name)}, which this server does not provide yet`);
    }
  }
  return unique;
}
