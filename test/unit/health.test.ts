import { describe, expect, it } from 'vitest';
import { assessHealth } from '../../src/health/assess.js';
import type { HealthStats } from '../../src/health/types.js';

const DAY = 86_400;
const healthy: HealthStats = {
  generatedAt: '2026-11-22T00:00:00.000Z',
  tokens: { total: 100, active: 90, expired: 0, revoked: 10 },
  keys: { active: 1, published: 0, retired: 1, inactive: 0, activeKid: 'k1', activeAlg: 'RS256', activeSince: '2026-11-12T00:00:00.000Z', activeAgeSeconds: 10 * DAY },
  last24h: { tokensCreated: 40, tokensRevoked: 3, keysActivated: 0, runs: { completed: 3 }, failedJobs: [] },
  scopes: { missing: [] },
  oidc: { providers: 2, failing: [] },
};
const thresholds = { rotateAfterSeconds: 30 * DAY, maxActiveKeys: 3 };
const assess = (patch: (s: HealthStats) => void) => {
  const s = structuredClone(healthy);
  patch(s);
  return assessHealth(s, thresholds);
};

describe('health assessment', () => {
  it('is ok when nothing needs attention', () => {
    expect(assessHealth(healthy, thresholds)).toMatchObject({ status: 'ok', recommendations: [] });
  });

  it.each<[string, (s: HealthStats) => void, string, RegExp, string]>([
    ['no signing key', (s) => Object.assign(s.keys, { active: 0, activeKid: null, activeAgeSeconds: null }), 'critical', /no signing key/, 'create one: maint keys rotate --wait'],
    ['an overdue rotation', (s) => (s.keys.activeAgeSeconds = 45 * DAY), 'warning', /k1 is 45 days old \(rotate after 30\)/, 'rotate it: maint keys rotate'],
    ['too many keys in the JWKS', (s) => (s.keys.retired = 3), 'warning', /4 keys are in the JWKS \(at most 3\)/, 'withdraw keys whose tokens expired: maint run keypair-cleanup'],
    ['missing scopes', (s) => (s.scopes.missing = ['admin']), 'warning', /default scopes missing: admin/, 'create them: maint run scopes'],
    ['a failing OIDC provider', (s) => (s.oidc.failing = ['google']), 'warning', /last JWKS refresh failed: google/, 'check the providers and retry: maint run refresh-jwks'],
    ['failed runs', (s) => Object.assign(s.last24h, { runs: { completed: 1, failed: 2 }, failedJobs: ['scopes'] }), 'warning', /2 maintenance runs failed in the last 24 hours \(scopes\)/, 'see what failed: maint runs'],
    ['mostly expired tokens', (s) => Object.assign(s.tokens, { expired: 60 }), 'warning', /60 of 100 tokens are expired/, 'purge them: maint run purge-expired-tokens'],
  ])('flags %s', (_, patch, status, reason, recommendation) => {
    const r = assess(patch);
    expect(r.status).toBe(status);
    expect(r.reasons.join('\n')).toMatch(reason);
    expect(r.recommendations).toContain(recommendation);
  });

  it('recommends a purge for a few expired tokens without raising the status', () => {
    expect(assess((s) => (s.tokens.expired = 5))).toMatchObject({ status: 'ok', recommendations: ['5 expired tokens can be purged: maint run purge-expired-tokens'] });
  });

  it('takes the worst finding as the status', () => {
    const r = assess((s) => {
      Object.assign(s.keys, { active: 0, activeAgeSeconds: null });
      s.scopes.missing = ['base'];
    });
    expect(r.status).toBe('critical');
    expect(r.reasons).toHaveLength(2);
  });
});
