import type { FastifyRequest } from 'fastify';

/** Who a request acts for, once authentication has run (the accounts layer fills it). */
export interface Principal {
  appId: string;
  /** The key pair or token that authenticated the call; absent when authentication is off. */
  keyId?: string;
  scopes: readonly string[];
  via: 'token' | 'signature' | 'api-key' | 'open';
}

/** One billable line of a call: a route bills one unit of its action unless the handler says more. */
export interface UsageItem {
  action: string;
  units: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    usage?: UsageItem[];
  }
  interface FastifyContextConfig {
    /** The billable, scoped action of a route, e.g. 'vision.objects'. Routes without one are not metered. */
    action?: string;
  }
}

/** The app that owns what this request creates or reads; 'default' when authentication is off. */
export function appIdOf(request: FastifyRequest): string {
  return request.principal?.appId ?? 'default';
}

/**
 * Records billable units for this call. Handlers call it when the price depends on the work
 * (one line per feature of an analyze call, megapixels of an upscale); otherwise the route's action bills one unit.
 */
export function meter(request: FastifyRequest, action: string, units = 1): void {
  (request.usage ??= []).push({ action, units });
}
