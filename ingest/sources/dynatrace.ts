import { z } from 'zod';
import type { Severity } from '../../correlator/alert.ts';
import {
  mapSeverity,
  tagsToLabels,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type Source,
} from '../normalize.ts';

const text = z.string().nullish();
const id = z.union([z.string(), z.number()]).nullish();

const entitySchema = z.looseObject({ type: text, name: text, entity: text });

// {ProblemDetailsJSON}: the fields read from Dynatrace's problem object.
const detailsSchema = z.looseObject({
  startTime: z.number().nullish(),
  endTime: z.number().nullish(),
  severityLevel: text,
  impactLevel: text,
  tagsOfAffectedEntities: z
    .array(z.looseObject({ context: text, key: z.string(), value: text }))
    .nullish(),
});

// The custom-integration placeholders; the default template names the URL "Problem URL".
const problemSchema = z.looseObject({
  State: z.string(),
  ProblemID: id,
  PID: id,
  ProblemTitle: text,
  ProblemImpact: text,
  ProblemSeverity: text,
  ProblemURL: text,
  'Problem URL': text,
  ImpactedEntity: text,
  ImpactedEntities: z.array(entitySchema).nullish(),
  ImpactedEntityNames: text,
  Tags: z.union([z.string(), z.array(z.string())]).nullish(),
  ProblemDetails: z.union([z.string(), detailsSchema]).nullish(),
  ProblemDetailsJSON: detailsSchema.nullish(),
  ProblemDetailsText: text,
  ProblemDetailsMarkdown: text,
  KeptnProject: text,
  KeptnStage: text,
  KeptnService: text,
});

// The Keptn dynatrace-service template wraps the same fields in a CloudEvent's `data`.
const cloudEventSchema = z.looseObject({
  specversion: z.string(),
  id: z.union([z.string(), z.number()]),
  source: z.string(),
  data: z.record(z.string(), z.unknown()),
});

/** Dynatrace problem severity levels, worst first. */
const SEVERITY: Record<string, Severity> = {
  availability: 'critical',
  error: 'major',
  performance: 'minor',
  resource_contention: 'minor',
  custom_alert: 'warning',
  monitoring_unavailable: 'warning',
  info: 'info',
};

/** States that end the problem: MERGED means it lives on inside another problem. */
const ENDED = new Set(['RESOLVED', 'CLOSED', 'MERGED']);

/**
 * A test notification leaves placeholders it cannot fill as literal `{PID}`, `{Tags}`...: such a
 * top-level value is treated as absent.
 */
function withoutPlaceholders(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([, value]) =>
        !(typeof value === 'string' && /^\{[A-Za-z][A-Za-z0-9]*\}$/.test(value.trim())),
    ),
  );
}

const present = (value: string | number | null | undefined): string | undefined =>
  value === null || value === undefined || String(value).trim() === ''
    ? undefined
    : String(value).trim();

function normalizeProblem(
  fields: unknown,
  at: readonly PropertyKey[],
  receivedAt: Date,
  deliveryId: string | undefined,
): Normalized {
  const body =
    typeof fields === 'object' && fields !== null && !Array.isArray(fields)
      ? withoutPlaceholders(fields as Record<string, unknown>)
      : fields;
  const parsed = validate(problemSchema, body, at);
  if (!parsed.ok) return parsed.result;
  const p = parsed.value;

  const problemId = present(p.ProblemID) ?? present(p.PID);
  const state = p.State.trim().toUpperCase();
  const resolved = ENDED.has(state);
  const details =
    p.ProblemDetailsJSON ?? (typeof p.ProblemDetails === 'object' ? p.ProblemDetails : null);
  const entities = p.ImpactedEntities ?? [];
  const tags = typeof p.Tags === 'string' ? p.Tags.split(',') : (p.Tags ?? []);
  const detailTags = (details?.tagsOfAffectedEntities ?? []).map((t) =>
    t.value ? `${t.key}:${t.value}` : t.key,
  );
  const severityLevel = present(p.ProblemSeverity) ?? present(details?.severityLevel);
  const entityList = entities
    .map((e) => [present(e.name), present(e.type) && `(${present(e.type)})`].filter(Boolean))
    .filter((parts) => parts.length > 0)
    .map((parts) => parts.join(' '));

  const alert = toAlert(
    {
      source: 'dynatrace',
      title: present(p.ProblemTitle),
      description: [
        present(p.ProblemDetailsText) ??
          (typeof p.ProblemDetails === 'string' ? present(p.ProblemDetails) : undefined) ??
          present(p.ProblemDetailsMarkdown),
        present(p.ImpactedEntity),
        entityList.length > 0 ? `Impacted entities: ${entityList.join(', ')}` : undefined,
      ]
        .filter(Boolean)
        .join('\n'),
      severity: mapSeverity(severityLevel, SEVERITY),
      status: resolved ? 'resolved' : 'firing',
      ci: present(entities[0]?.name) ?? present(p.ImpactedEntityNames?.split(',')[0]),
      service: present(p.KeptnService),
      fingerprint: problemId ? `dynatrace:${problemId}` : undefined,
      labels: toLabels(
        tagsToLabels([...tags, ...detailTags].map((t) => t.trim()).filter(Boolean)),
        {
          problem_id: present(p.ProblemID),
          pid: present(p.PID),
          problem_url: present(p.ProblemURL) ?? present(p['Problem URL']),
          problem_impact: present(p.ProblemImpact) ?? present(details?.impactLevel),
          problem_severity: severityLevel,
          impacted_entities:
            entities
              .map((e) => present(e.entity))
              .filter(Boolean)
              .join(',') || undefined,
          keptn_project: present(p.KeptnProject),
          keptn_stage: present(p.KeptnStage),
          keptn_service: present(p.KeptnService),
        },
      ),
      startsAt: toTimestamp(details?.startTime),
      endsAt:
        resolved && details?.endTime && details.endTime > 0 ? toTimestamp(details.endTime) : null,
    },
    receivedAt,
  );
  return deliveryId
    ? { kind: 'alerts', alerts: [alert], deliveryId }
    : { kind: 'alerts', alerts: [alert] };
}

/**
 * Dynatrace problem notifications from a custom-integration webhook (default or custom template,
 * test notifications included) or the Keptn CloudEvent template. Keyed by the problem's display
 * id (`ProblemID`), so the RESOLVED notification resolves what OPEN opened.
 */
export const dynatrace: Source = {
  normalize({ body, receivedAt }): Normalized {
    if (typeof body === 'object' && body !== null && 'specversion' in body) {
      const event = validate(cloudEventSchema, body);
      if (!event.ok) return event.result;
      const { source, id, data } = event.value;
      return normalizeProblem(data, ['data'], receivedAt, `${source}/${id}`);
    }
    return normalizeProblem(body, [], receivedAt, undefined);
  },
};
