import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/env.js';

test('moderation settings: defaults, operator values, and bad values refused naming the variable', () => {
  assert.deepEqual(loadConfig({}).vision, { moderationBlock: 0.7, moderationReview: 0.4, moderationFrames: 5 });
  assert.deepEqual(
    loadConfig({ IMGSENSE_MODERATION_BLOCK: '0.9', IMGSENSE_MODERATION_REVIEW: '0.25', IMGSENSE_MODERATION_FRAMES: '12' }).vision,
    { moderationBlock: 0.9, moderationReview: 0.25, moderationFrames: 12 },
  );
  const cases: [Record<string, string>, RegExp][] = [
    [{ IMGSENSE_MODERATION_BLOCK: '1.5' }, /^Expected number between 0 and 1 for IMGSENSE_MODERATION_BLOCK but received "1.5"$/],
    [{ IMGSENSE_MODERATION_REVIEW: 'high' }, /for IMGSENSE_MODERATION_REVIEW but received "high"/],
    [{ IMGSENSE_MODERATION_REVIEW: '-0.1' }, /for IMGSENSE_MODERATION_REVIEW but received "-0.1"/],
    [{ IMGSENSE_MODERATION_FRAMES: '0' }, /^Expected integer between 1 and 50 for IMGSENSE_MODERATION_FRAMES but received "0"$/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
  }
});
