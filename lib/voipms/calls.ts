import type { Db, Queryable } from '../db/index.js';
import { BadRequestError } from '../http/errors.js';
import type { WebhookRequest } from '../http/request.js';
import { defineAction } from '../ingest/action.js';
import { logger } from '../observability.js';
import { loadPracticeSettings } from '../practice/settings.js';
import { asArray } from './as-array.js';
import {
  type NormalizedCall,
  normalizeCdrRecord,
  type VoipmsCdrInput,
  type VoipmsCdrRecord,
  voipmsCdrPayloadSchema,
  voipmsCdrRecordSchema,
} from './cdr.js';
import { toE164 } from './phone.js';

/** CDR records as pushed to our route, validated; normalised (with the practice zone) by the store action. */
export interface VoipmsCdrEvent {
  records: VoipmsCdrInput[];
  /** Our DID, to find the practice settings (timezone). */
  did?: string;
}

/** `{"cdr": [...]}` or `{"cdr": {...}}` → records, or a 400 naming the first problems. */
export function parseVoipmsCdr(request: WebhookRequest): VoipmsCdrInput[] {
  const body = request.json;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('body must be a JSON object {"cdr": [...]}');
  }
  const parsed = voipmsCdrPayloadSchema.safeParse(body);
  if (!parsed.success) {
    // The array-or-object union reports only "Invalid input": name the first bad record's fields instead.
    const cdr = (body as { cdr?: unknown }).cdr;
    if (cdr === undefined || cdr === null) throw new BadRequestError('cdr is required');
    for (const [index, record] of asArray(cdr).entries()) {
      const one = voipmsCdrRecordSchema.safeParse(record);
      if (!one.success) {
        const fields = one.error.issues.map(
          (issue) => `${issue.path.map(String).join('.') || 'record'} ${issue.message}`,
        );
        throw new BadRequestError(`cdr.${index}: ${fields.join('; ')}`);
      }
    }
    // Not reached: the union fails only where one of these same records fails the record check above.
    throw new BadRequestError('cdr must be a call record or a list of them');
  }
  const records = parsed.data.cdr as VoipmsCdrInput[];
  // Dates are checked here (in any zone) so a bad record is a 400 now, not a failure later.
  for (const [index, record] of records.entries()) {
    try {
      normalizeCdrRecord(record, { timeZone: 'UTC' });
    } catch (error) {
      throw new BadRequestError(`cdr.${index}: ${(error as Error).message}`);
    }
  }
  return records;
}

/**
 * Upserts calls by (voipms, uniqueid) in one statement. A status never moves backwards (call_status_rank):
 * every final status ranks the same, so the first final one stays on re-ingest, and the disposition stays
 * with it; duration, cost and caller name take the newest non-null value. Duplicates within the batch collapse first,
 * since one INSERT may not touch a row twice.
 */
export async function upsertVoipmsCalls(db: Queryable, calls: NormalizedCall[]): Promise<number> {
  const unique = [...new Map(calls.map((call) => [call.providerCallId, call])).values()];
  if (unique.length === 0) return 0;
  const column = <T>(pick: (call: NormalizedCall) => T) => unique.map(pick);
  const { rows } = await db.query<{ n: string }>(
    `WITH upserted AS (
       INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, caller_name, status,
         disposition, duration_seconds, cost, started_at, ended_at)
       SELECT 'voipms', r.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::text[], $8::integer[], $9::numeric[], $10::timestamptz[], $11::timestamptz[]) AS r
       ON CONFLICT (provider, provider_call_id) DO UPDATE SET
         status = CASE WHEN call_status_rank(EXCLUDED.status) > call_status_rank(calls.status)
           THEN EXCLUDED.status ELSE calls.status END,
         disposition = CASE WHEN call_status_rank(EXCLUDED.status) > call_status_rank(calls.status)
           OR calls.disposition IS NULL THEN coalesce(EXCLUDED.disposition, calls.disposition)
           ELSE calls.disposition END,
         duration_seconds = coalesce(EXCLUDED.duration_seconds, calls.duration_seconds),
         cost = coalesce(EXCLUDED.cost, calls.cost),
         caller_name = coalesce(EXCLUDED.caller_name, calls.caller_name),
         from_number = coalesce(calls.from_number, EXCLUDED.from_number),
         to_number = coalesce(calls.to_number, EXCLUDED.to_number),
         started_at = coalesce(calls.started_at, EXCLUDED.started_at),
         ended_at = coalesce(EXCLUDED.ended_at, calls.ended_at)
       RETURNING 1
     )
     SELECT count(*) AS n FROM upserted`,
    [
      column((c) => c.providerCallId),
      column((c) => c.direction),
      column((c) => c.fromNumber || null),
      column((c) => c.toNumber || null),
      column((c) => c.callerName),
      column((c) => c.status),
      column((c) => c.disposition || null),
      column((c) => c.durationSeconds),
      column((c) => (c.cost === null ? null : String(c.cost))),
      column((c) => c.startedAt.toISOString()),
      column((c) => c.endedAt.toISOString()),
    ],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Normalises records in `timeZone`; a record that cannot be read is logged (without numbers) and skipped. */
export function normalizeCdrRecords(
  records: readonly (VoipmsCdrInput | VoipmsCdrRecord)[],
  timeZone: string,
): NormalizedCall[] {
  const calls: NormalizedCall[] = [];
  for (const record of records) {
    try {
      calls.push(normalizeCdrRecord(record, { timeZone }));
    } catch (error) {
      logger.warn('VoIP.ms CDR record skipped', { error: (error as Error).message });
    }
  }
  return calls;
}

/** Pushed CDR records: dates are in the account's zone, taken to be the practice timezone (voip_settings). */
export const storeVoipmsCdr = defineAction('voipms.cdr', async (db: Db, event: VoipmsCdrEvent) => {
  const settings = await loadPracticeSettings(db, 'voipms', event.did ? toE164(event.did) : '*');
  return upsertVoipmsCalls(db, normalizeCdrRecords(event.records, settings.timezone));
});
