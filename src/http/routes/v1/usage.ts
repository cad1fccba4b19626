import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { timeExpected, UsageReports, type ReportInput } from '../../../services/accounts/usage-reports.js';
import type { UsageDimension } from '../../../storage/usage.js';
import { adminGuard } from '../../plugins/admin-auth.js';
import { appIdOf } from '../../request-context.js';

const rangeFields = {
  from: Type.Optional(Type.String({ description: `start, inclusive: ${timeExpected}; default the start of this UTC month` })),
  to: Type.Optional(Type.String({ description: `end, exclusive (a date alone: the end of that day); ${timeExpected}; default now` })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { description: 'csv: also chosen by Accept: text/csv' })),
};

const AppQuery = Type.Object({
  ...rangeFields,
  groupBy: Type.Optional(Type.String({ description: 'day, action, or day,action (default action). With csv and no groupBy: every record' })),
}, { additionalProperties: false });

const AdminQuery = Type.Object({
  ...rangeFields,
  groupBy: Type.Optional(Type.String({ description: 'any of day, action, app, comma-separated (default action)' })),
  appId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'one app; default every app' })),
}, { additionalProperties: false });

const metrics = {
  calls: Type.Integer({ description: 'usage lines: one per call, one per feature of an analyze call' }),
  units: Type.Number({ description: 'units of every call, failed ones included' }),
  succeeded: Type.Integer(),
  clientErrors: Type.Integer(),
  serverErrors: Type.Integer(),
  billableUnits: Type.Number({ description: 'units of successful calls: what a bill counts' }),
};

const Report = Type.Object({
  appId: Type.Optional(Type.String()),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  groupBy: Type.Array(Type.String()),
  rows: Type.Array(Type.Object({
    day: Type.Optional(Type.String({ description: 'YYYY-MM-DD, UTC' })),
    action: Type.Optional(Type.String()),
    appId: Type.Optional(Type.String()),
    ...metrics,
  })),
  total: Type.Object(metrics),
});

const csvNote = 'CSV (format=csv or Accept: text/csv): with groupBy, the rows; without, every usage record '
  + '(created_at, request_id, app_id, secret_id, action, units, outcome, status, latency_ms), oldest first.';

const responses = {
  200: {
    description: 'Usage totals, or CSV',
    content: {
      'application/json': { schema: Report },
      'text/csv': { schema: Type.String() },
    },
  },
};

/** format=csv wins; otherwise Accept decides, text/csv only when the client prefers it to JSON. */
function wantsCsv(request: FastifyRequest, format: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  const accept = request.headers.accept ?? '';
  const csv = accept.indexOf('text/csv');
  const json = accept.indexOf('application/json');
  return csv >= 0 && (json < 0 || csv < json);
}

async function answer(
  request: FastifyRequest, reply: FastifyReply, usage: UsageReports, input: ReportInput & { format?: string },
  allowed: readonly UsageDimension[],
) {
  if (!wantsCsv(request, input.format)) return usage.report(input, allowed);
  // Parameters are checked before the CSV headers are set, so a mistake is a plain JSON error envelope.
  let body: string | Readable;
  if (input.groupBy !== undefined) body = UsageReports.reportCsv(await usage.report(input, allowed));
  else {
    usage.checkRange(input);
    body = Readable.from(usage.recordsCsv(input));
  }
  const name = `usage-${input.appId ?? 'all'}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(body);
}

/** Usage for the calling app, and across apps for the operator. Not metered themselves. */
export function usageRoutes(app: FastifyInstance, usage: UsageReports, adminKey: string): void {
  app.get<{ Querystring: { from?: string; to?: string; groupBy?: string; format?: string } }>('/v1/usage', {
    schema: {
      tags: ['usage'],
      summary: "The calling app's usage over a time range, grouped by day and/or action",
      description: `Counts every call, failed ones too (billableUnits counts only successes). ${csvNote}`,
      querystring: AppQuery,
      response: responses,
    },
  }, async (request, reply) => answer(request, reply, usage, { ...request.query, appId: appIdOf(request) }, ['day', 'action']));

  app.get<{ Querystring: { from?: string; to?: string; groupBy?: string; format?: string; appId?: string } }>('/v1/admin/usage', {
    schema: {
      tags: ['usage'],
      summary: 'Operator: usage across apps (or of one app), grouped by day, action and/or app',
      description: `Authorization: Bearer <admin key>. ${csvNote}`,
      querystring: AdminQuery,
      response: responses,
    },
    // Refused before the query is even validated: nothing about the operator API is told to a stranger.
    onRequest: adminGuard(adminKey),
  }, async (request, reply) => answer(request, reply, usage, request.query, ['day', 'action', 'app']));
}
