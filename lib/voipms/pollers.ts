import type { Queryable } from '../db/index.js';
import { countMetric, logger } from '../observability.js';
import { loadPracticeSettings } from '../practice/settings.js';
import { zoneOffsetAt } from '../practice/zone.js';
import { normalizeCdrRecords, upsertVoipmsCalls } from './calls.js';
import type { VoipmsClient } from './client.js';
import { toE164 } from './phone.js';
import { insertVoipmsRecordings, normalizeRecording, queueNewRecordings } from './recordings.js';
import { fixedOffsetZone } from './time.js';

export const CDR_CURSOR = 'voipms.cdr';
export const RECORDINGS_CURSOR = 'voipms.recordings';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** VoIP.ms allows at most 92 days per getCDR call; a long outage is caught up to this far back. */
const MAX_CATCH_UP_MS = 90 * DAY;

export interface PollerDeps {
  db: Queryable;
  client: Pick<VoipmsClient, 'getCdr' | 'getCallRecordings'> & { readonly account?: string | undefined };
  /** The practice DID, for its settings (timezone); default settings otherwise. */
  did?: string;
  /** Account or sub-account for getCallRecordings (VoIP.ms requires one); default the client's. */
  account?: string;
  now?: Date;
}

export interface PollOptions {
  /** Window re-read before the cursor: records VoIP.ms writes late still get picked up. Default 1 hour. */
  overlapMs?: number;
  /**
   * The longest call to expect. VoIP.ms writes a call's record when it ends but dates it (and filters it) by
   * its start, so a call that began before the last poll's window — a long one across midnight — only
   * appears in a window reaching back to its start. Default 24 hours (two calendar days per poll).
   */
  longestCallMs?: number;
  /** How far back the very first run looks. Default 1 day. */
  firstRunLookbackMs?: number;
}

export interface PollResult {
  from: Date;
  to: Date;
  fetched: number;
  stored: number;
  /** Set when the poll did not run because of the configuration (the cursor did not move). */
  skipped?: 'no_account';
}

export async function readCursor(db: Queryable, name: string): Promise<Date | undefined> {
  const { rows } = await db.query<{ synced_until: Date | string }>(
    'SELECT synced_until FROM sync_state WHERE name = $1',
    [name],
  );
  return rows[0] ? new Date(rows[0].synced_until) : undefined;
}

/** Moves a cursor forward only (a slow run finishing late never rewinds a faster one). */
export async function advanceCursor(db: Queryable, name: string, to: Date): Promise<void> {
  await db.query(
    `INSERT INTO sync_state (name, synced_until) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET synced_until = greatest(sync_state.synced_until, EXCLUDED.synced_until),
       updated_at = now()`,
    [name, to.toISOString()],
  );
}

async function windowFor(db: Queryable, name: string, now: Date, options: PollOptions) {
  const cursor = await readCursor(db, name);
  const start = cursor
    ? cursor.getTime() - (options.overlapMs ?? HOUR) - (options.longestCallMs ?? DAY)
    : now.getTime() - (options.firstRunLookbackMs ?? DAY);
  return { from: new Date(Math.max(start, now.getTime() - MAX_CATCH_UP_MS)), to: now };
}

/**
 * VoIP.ms's `timezone` parameter: whole hours from UTC (-12..13). The practice zone's offset now, rounded
 * down for half-hour zones; dates come back written at exactly that offset, so reading them back with the
 * same fixed offset is exact whatever the practice zone (and its daylight saving) does.
 */
export function voipmsOffsetHours(timeZone: string, at: Date): number {
  const hours = Math.floor(zoneOffsetAt(timeZone, at.getTime()) / HOUR);
  return Math.min(13, Math.max(-12, hours));
}

/**
 * One getCDR poll: from the cursor minus the overlap and the longest call to now, every record upserted by
 * uniqueid (overlapping windows never make a second row, and a status never moves back), and the cursor
 * advanced only after the upsert succeeded.
 */
export async function pollVoipmsCdr(deps: PollerDeps, options: PollOptions = {}): Promise<PollResult> {
  const { db, client } = deps;
  const now = deps.now ?? new Date();
  const { from, to } = await windowFor(db, CDR_CURSOR, now, options);
  const settings = await loadPracticeSettings(db, 'voipms', deps.did ? toE164(deps.did) : '*');
  const offset = voipmsOffsetHours(settings.timezone, now);
  const records = await client.getCdr({ from, to, timezone: offset });
  const stored = await upsertVoipmsCalls(db, normalizeCdrRecords(records, fixedOffsetZone(offset)));
  await advanceCursor(db, CDR_CURSOR, to);
  logger.info('VoIP.ms CDR poll', { fetched: records.length, stored, offset });
  return { from, to, fetched: records.length, stored };
}

/** `YYYY-MM-DD` of an instant in a zone (VoIP.ms filters recordings by the account's calendar date). */
function dateIn(instant: Date, timeZone: string): string {
  return new Date(instant.getTime() + zoneOffsetAt(timeZone, instant.getTime())).toISOString().slice(0, 10);
}

/**
 * One getCallRecordings poll: the recordings since the cursor (minus the overlap) are inserted once and only
 * the new ones queued for the recording worker; the cursor moves after they are all queued.
 */
export async function pollVoipmsRecordings(deps: PollerDeps, options: PollOptions = {}): Promise<PollResult> {
  const { db, client } = deps;
  const now = deps.now ?? new Date();
  const { from, to } = await windowFor(db, RECORDINGS_CURSOR, now, options);
  const account = deps.account?.trim() || client.account;
  if (!account) {
    // VoIP.ms answers missing_account without one: say what to configure, and keep the cursor so the
    // recordings of the meantime (up to 90 days) are fetched once it is set.
    logger.error('VoIP.ms recording poller not configured: set VOIPMS_ACCOUNT (param voipmsAccount)');
    countMetric('VoipmsRecordingPollSkipped', { reason: 'no_account' });
    return { from, to, fetched: 0, stored: 0, skipped: 'no_account' };
  }
  const settings = await loadPracticeSettings(db, 'voipms', deps.did ? toE164(deps.did) : '*');
  const records = await client.getCallRecordings({
    account,
    dateFrom: dateIn(from, settings.timezone),
    dateTo: dateIn(to, settings.timezone),
  });
  const refs = records.map((record) => {
    const recording = normalizeRecording(record, { timeZone: settings.timezone });
    return {
      providerRecordingId: recording.providerRecordingId,
      account: recording.account,
      durationSeconds: recording.durationSeconds,
    };
  });
  const stored = await queueNewRecordings(await insertVoipmsRecordings(db, refs));
  await advanceCursor(db, RECORDINGS_CURSOR, to);
  logger.info('VoIP.ms recordings poll', { fetched: records.length, queued: stored });
  return { from, to, fetched: records.length, stored };
}
