import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { monthExpected, type UsageReports } from '../../../services/accounts/usage-reports.js';
import { adminGuard } from '../../plugins/admin-auth.js';
import { appIdOf } from '../../request-context.js';

const MonthParams = Type.Object({
  month: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: monthExpected }),
});

const Line = Type.Object({
  action: Type.String(),
  unit: Type.String({ description: 'call, megapixel, ...' }),
  calls: Type.Integer({ description: 'every usage line of the month, failed ones included' }),
  failedCalls: Type.Integer({ description: 'counted, never charged' }),
  units: Type.Number({ description: 'units of successful calls' }),
  freeUnits: Type.Number({ description: 'of those, inside the monthly free allowance' }),
  billableUnits: Type.Number(),
  mode: Type.Union([Type.Literal('whole'), Type.Literal('progressive'), Type.Null()]),
  tier: Type.Union([Type.Object({
    index: Type.Integer({ description: '1-based' }),
    upTo: Type.Union([Type.Number(), Type.Null()], { description: 'null: the open-ended last tier' }),
    pricePerThousand: Type.Number(),
  }), Type.Null()], { description: 'the tier the month reached; null when nothing is billable' }),
  amount: Type.Number(),
  priced: Type.Boolean({ description: 'false: the price table has no entry for this action (listed, not charged)' }),
});

const billFields = {
  month: Type.String(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  complete: Type.Boolean({ description: 'false while the month is still running (the bill so far)' }),
  currency: Type.String(),
};

const Bill = Type.Object({ appId: Type.String(), ...billFields, lines: Type.Array(Line), total: Type.Number() });
const MonthBills = Type.Object({ ...billFields, bills: Type.Array(Bill), total: Type.Number() });

const AdminQuery = Type.Object({
  appId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "one app's bill; default every app with usage that month" })),
}, { additionalProperties: false });

const rules = 'Prices come from the operator\'s price table (IMGSENSE_PRICES_FILE). Per action: the monthly free units come '
  + 'off first, then volume tiers apply, either the whole volume at the tier reached or progressively. Failed calls are not billed.';

/** Itemised monthly bills: the calling app's own, and the operator's view of every app. Not metered themselves. */
export function billingRoutes(app: FastifyInstance, usage: UsageReports, adminKey: string): void {
  app.get<{ Params: { month: string } }>('/v1/billing/:month', {
    schema: {
      tags: ['usage'],
      summary: "The calling app's itemised bill for a month (UTC)",
      description: rules,
      params: MonthParams,
      response: { 200: Bill },
    },
  }, async (request) => usage.bill(appIdOf(request), request.params.month));

  app.get<{ Params: { month: string }; Querystring: { appId?: string } }>('/v1/admin/billing/:month', {
    schema: {
      tags: ['usage'],
      summary: "Operator: every app's bill for a month (or one app's, with appId) and their total",
      description: `Authorization: Bearer <admin key>. ${rules}`,
      params: MonthParams,
      querystring: AdminQuery,
      response: { 200: MonthBills },
    },
    onRequest: adminGuard(adminKey),
  }, async (request) => usage.bills(request.params.month, request.query.appId));
}
