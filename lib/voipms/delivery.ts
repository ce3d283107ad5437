import type { Db } from '../db/index.js';
import { recordMessageStatus, voipmsCarrierStatus } from '../messages/status.js';
import { countMetric, logger } from '../observability.js';
import { asArray } from './as-array.js';
import type { VoipmsClient, VoipmsResponse } from './client.js';
import { VoipmsApiError } from './errors.js';
import { maskNumber, toE164, toVoipmsNumber } from './phone.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type SmsLister = Pick<VoipmsClient, 'callApi'>;

export interface DeliveryPollerDeps {
  db: Db;
  /** The client, or a way to make one: built only when a text is waiting (no credentials needed otherwise). */
  client: SmsLister | (() => SmsLister);
  now?: Date;
}

export interface DeliveryPollOptions {
  /** How long after it was stored a text is still checked. Default 24 hours. */
  windowMs?: number;
  /** Texts checked per run at most, newest first. Default 500. */
  maxPending?: number;
  /** Rows asked of getSMS per call (VoIP.ms's own default is 50). Default 1000. */
  pageSize?: number;
  /** When a DID's list came back full, texts not in it are looked for per contact, this many contacts a run. */
  maxContactLookups?: number;
}

export interface DeliveryPollResult {
  /** VoIP.ms texts sent within the window and still without a final status. */
  pending: number;
  /** getSMS calls made (0: nothing was waiting, VoIP.ms was not asked). */
  requests: number;
  /** Listed messages that are parts of a pending text (same id, DID and contact). */
  matched: number;
  delivered: number;
  undelivered: number;
}

/** One sent text still waiting for its outcome: its numbers, and the VoIP.ms id of each part in order. */
interface PendingText {
  from: string;
  to: string;
  partIds: string[];
  storedAt: Date;
}

/** A `getSMS` entry (every value may arrive as a string or a number). */
interface ListedSms {
  id?: unknown;
  type?: unknown;
  did?: unknown;
  contact?: unknown;
  carrier_status?: unknown;
}

/**
 * The VoIP.ms texts stored within the window that VoIP.ms took (they carry its ids) and whose status is not
 * final yet; through the event-time index, so a run with nothing sent lately reads next to nothing.
 */
async function pendingTexts(db: Db, since: Date, limit: number): Promise<PendingText[]> {
  const { rows } = await db.query<{
    from_number: string;
    to_number: string;
    provider_sent_ids: string[];
    stored_at: Date | string;
  }>(
    `SELECT from_number, to_number, provider_sent_ids, message_time(sent_at, created_at) AS stored_at
     FROM sms_messages
     WHERE message_time(sent_at, created_at) >= $1
       AND provider = 'voipms' AND direction = 'outbound'
       AND cardinality(provider_sent_ids) > 0
       AND message_status_rank(status) < message_status_rank('delivered')
     ORDER BY message_time(sent_at, created_at) DESC, id DESC
     LIMIT $2`,
    [since.toISOString(), limit],
  );
  return rows.map((row) => ({
    from: row.from_number,
    to: row.to_number,
    partIds: row.provider_sent_ids,
    storedAt: new Date(row.stored_at),
  }));
}

const utcDay = (instant: Date): string => instant.toISOString().slice(0, 10);

/** Sent texts (type 0) of a DID, optionally to one contact, between two days; `no_sms` is an empty list. */
async function listSent(
  client: SmsLister,
  query: { did: string; contact?: string; from: string; to: string; limit: number },
): Promise<ListedSms[]> {
  try {
    const body = await client.callApi<VoipmsResponse & { sms?: ListedSms | ListedSms[] }>(
      'getSMS',
      {
        from: query.from,
        to: query.to,
        type: 0,
        did: query.did,
        contact: query.contact,
        timezone: 0,
        limit: query.limit,
      },
      { idempotent: true },
    );
    return asArray(body.sms);
  } catch (error) {
    if (error instanceof VoipmsApiError && error.status === 'no_sms') return [];
    throw error;
  }
}

/**
 * One poll of VoIP.ms delivery outcomes. VoIP.ms pushes no delivery receipts; `getSMS` shows a free-text
 * `carrier_status` per sent message. Postgres is asked first which VoIP.ms texts of the window are still not
 * final, and VoIP.ms only when there are some: one getSMS per sending DID over the days those texts span.
 * Each listed message whose id is a part of a waiting text, sent from that text's DID to its recipient, and
 * whose carrier status is a clear outcome is recorded with recordMessageStatus (parts in order, so a text sent
 * in several parts takes the first final part status; a final status never changes). Anything else —
 * "Information not available", another DID or contact, an id we never stored — changes nothing.
 * A failed VoIP.ms call fails the run after the other DIDs are done; what it did not record is still waiting,
 * and the next run asks again.
 */
export async function pollVoipmsDelivery(
  deps: DeliveryPollerDeps,
  options: DeliveryPollOptions = {},
): Promise<DeliveryPollResult> {
  const now = deps.now ?? new Date();
  const windowMs = options.windowMs ?? DAY;
  const pageSize = options.pageSize ?? 1000;
  const pending = await pendingTexts(deps.db, new Date(now.getTime() - windowMs), options.maxPending ?? 500);
  const result: DeliveryPollResult = {
    pending: pending.length,
    requests: 0,
    matched: 0,
    delivered: 0,
    undelivered: 0,
  };
  if (pending.length === 0) {
    logger.debug('VoIP.ms delivery poll: nothing waiting');
    return result;
  }
  const client = typeof deps.client === 'function' ? deps.client() : deps.client;

  const byDid = new Map<string, PendingText[]>();
  for (const text of pending) {
    const did = toVoipmsNumber(text.from);
    byDid.set(did, [...(byDid.get(did) ?? []), text]);
  }

  const failures: unknown[] = [];
  for (const [did, texts] of byDid) {
    try {
      await pollDid(deps.db, client, did, texts, now, pageSize, options.maxContactLookups ?? 20, result);
    } catch (error) {
      failures.push(error);
      logger.error('VoIP.ms delivery poll failed for a DID', {
        did: maskNumber(did),
        error: (error as Error).message,
      });
    }
  }

  for (const status of ['delivered', 'undelivered'] as const) {
    if (result[status] > 0) countMetric('VoipmsDeliveryStatus', { status }, result[status]);
  }
  logger.info('VoIP.ms delivery poll', { ...result, failed: failures.length });
  if (failures.length > 0) throw failures[0];
  return result;
}

async function pollDid(
  db: Db,
  client: SmsLister,
  did: string,
  texts: PendingText[],
  now: Date,
  pageSize: number,
  maxContactLookups: number,
  result: DeliveryPollResult,
): Promise<void> {
  // getSMS filters by whole days in a zone it does not promise: a day before the oldest text covers any offset.
  const oldest = Math.min(...texts.map((text) => text.storedAt.getTime()));
  const days = { from: utcDay(new Date(oldest - DAY)), to: utcDay(now) };

  result.requests += 1;
  const listed = await listSent(client, { did, ...days, limit: pageSize });
  const found = await recordOutcomes(db, texts, listed, result);

  // A full page may have left texts out (VoIP.ms has no paging for getSMS): ask for those per contact.
  if (listed.length < pageSize) return;
  const missing = texts.filter((text) => !text.partIds.some((id) => found.has(id)));
  const contacts = [...new Set(missing.map((text) => toVoipmsNumber(text.to)))];
  if (contacts.length > maxContactLookups) {
    logger.warn('VoIP.ms delivery poll: more contacts to look up than one run allows', {
      did: maskNumber(did),
      contacts: contacts.length,
    });
  }
  for (const contact of contacts.slice(0, maxContactLookups)) {
    result.requests += 1;
    const own = await listSent(client, { did, contact, ...days, limit: pageSize });
    await recordOutcomes(
      db,
      missing.filter((text) => toVoipmsNumber(text.to) === contact),
      own,
      result,
    );
  }
}

/**
 * Records the clear outcomes among `listed` for `texts`, parts in order; returns the ids of the parts found
 * listed. A listed message counts for a text only with one of its part ids, from its DID, to its recipient.
 */
async function recordOutcomes(
  db: Db,
  texts: PendingText[],
  listed: ListedSms[],
  result: DeliveryPollResult,
): Promise<Set<string>> {
  const byId = new Map<string, ListedSms[]>();
  for (const entry of listed) {
    const id = String(entry.id ?? '');
    byId.set(id, [...(byId.get(id) ?? []), entry]);
  }
  const found = new Set<string>();
  for (const text of texts) {
    for (const partId of text.partIds) {
      const sms = byId.get(partId)?.find(
        (entry) =>
          // Only what we sent (type 0), from this text's DID, to its recipient.
          (entry.type === undefined || String(entry.type) === '0') &&
          toE164(String(entry.did ?? '')) === text.from &&
          toE164(String(entry.contact ?? '')) === text.to,
      );
      if (!sms) continue;
      found.add(partId);
      result.matched += 1;
      const status = voipmsCarrierStatus(
        typeof sms.carrier_status === 'string' ? sms.carrier_status : undefined,
      );
      if (!status) continue;
      const { changed } = await recordMessageStatus.run(db, {
        provider: 'voipms',
        providerMessageId: partId,
        status,
        fromNumber: text.from,
        toNumber: text.to,
      });
      if (changed > 0) result[status] += 1;
      // The text is final now: its later parts could change nothing.
      break;
    }
  }
  return found;
}
