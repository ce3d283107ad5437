import type { VoipmsClient, VoipmsResponse } from './client.js';
import { VoipmsApiError } from './errors.js';
import { toVoipmsNumber } from './phone.js';

/**
 * The ids of texts VoIP.ms lists as sent from `did` to `dst` since `since` whose text begins the message we
 * meant to send (a long text goes out as several parts): how a worker learns whether a send whose answer it
 * never read went out. `getSMS` filters by whole days; times are asked in UTC (timezone 0).
 */
export async function findSentVoipmsSms(
  client: Pick<VoipmsClient, 'callApi'>,
  query: { did: string; dst: string; message: string; since: Date },
): Promise<string[]> {
  const day = (date: Date) => date.toISOString().slice(0, 10);
  let body: VoipmsResponse & { sms?: { id?: unknown; date?: unknown; message?: unknown }[] };
  try {
    body = await client.callApi<typeof body>(
      'getSMS',
      {
        from: day(query.since),
        to: day(new Date()),
        type: 0,
        did: toVoipmsNumber(query.did),
        contact: toVoipmsNumber(query.dst),
        timezone: 0,
        limit: 100,
      },
      { idempotent: true },
    );
  } catch (error) {
    if (error instanceof VoipmsApiError && error.status === 'no_sms') return [];
    throw error;
  }
  const sinceMs = query.since.getTime() - 60_000;
  const start = query.message.trim().slice(0, 40);
  return (body.sms ?? [])
    .filter((sms) => {
      const sentMs = Date.parse(`${String(sms.date ?? '').replace(' ', 'T')}Z`);
      return String(sms.message ?? '').startsWith(start) && !(sentMs < sinceMs);
    })
    .map((sms) => String(sms.id));
}
