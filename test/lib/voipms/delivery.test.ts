import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../../lib/observability.js';
import { pollVoipmsDelivery } from '../../../lib/voipms/delivery.js';
import { createVoipmsClient, type VoipmsClient } from '../../../lib/voipms/index.js';
import type { FakeVoipms } from '../../fakes/voipms-api.js';
import { useTestDb } from '../../support/db.js';
import { metricsPublished } from '../../support/metrics.js';
import { useFakeVoipms } from '../../support/voipms.js';
import { DID, PATIENT, PATIENT_E164 } from './factories.js';

// Delivery outcomes of VoIP.ms texts, read from getSMS's carrier_status (VoIP.ms pushes no receipts), against
// the fake VoIP.ms built from the reference shapes.
const testDb = useTestDb();
const OTHER_DID = '5145550001';
const OTHER_PATIENT = '5145550199';
const HOUR = 3_600_000;
const day = (instant: Date) => instant.toISOString().slice(0, 10);

let fake: FakeVoipms;
let client: VoipmsClient;
useFakeVoipms((started) => ({ fake, client } = started), { dids: [DID, OTHER_DID] });

let replies = 0;

/**
 * A reply VoIP.ms took: sent through the fake (which lists it with getSMS from then on) and stored as the
 * outbound worker stores it, `sent` with VoIP.ms's part ids.
 */
async function sentReply(
  options: { message?: string; did?: string; to?: string; storedAt?: Date } = {},
): Promise<{ rowId: number; ids: string[] }> {
  const did = options.did ?? DID;
  const to = options.to ?? PATIENT;
  const sent = await client.sendSms({ did, dst: to, message: options.message ?? 'We open at 8 tomorrow.' });
  const { rows } = await testDb.db.query<{ id: string }>(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
       auto_response_intent, provider_sent_ids, created_at)
     VALUES ('voipms', $1, 'inbound', $2, $3, 'when do you open?', 'received', NULL, NULL, $6),
            ('voipms', $4, 'outbound', $3, $2, $5, 'sent', 'hours', $7::text[], $6)
     RETURNING id`,
    [
      `in-${++replies}`,
      `+1${to}`,
      `+1${did}`,
      `reply:in-${replies}`,
      options.message ?? 'We open at 8 tomorrow.',
      (options.storedAt ?? new Date()).toISOString(),
      sent.ids,
    ],
  );
  if (options.storedAt) for (const id of sent.ids) fake.sent.find((m) => m.id === id)!.at = options.storedAt;
  return { rowId: Number(rows[1]!.id), ids: sent.ids };
}

const statusOf = async (rowId: number) =>
  (
    await testDb.db.query<{ status: string; error_code: string | null }>(
      'SELECT status, error_code FROM sms_messages WHERE id = $1',
      [rowId],
    )
  ).rows[0];

const allRows = async () =>
  (
    await testDb.db.query(
      'SELECT id, provider_message_id, status, provider_sent_ids FROM sms_messages ORDER BY id',
    )
  ).rows;

const poll = (options: Parameters<typeof pollVoipmsDelivery>[1] = {}) =>
  pollVoipmsDelivery({ db: testDb.db, client }, options);

describe('VoIP.ms delivery poller', () => {
  beforeEach(() => {
    fake.calls.length = 0;
    fake.sent.length = 0;
    fake.bareObjects('getSMS', false);
  });
  afterEach(() => vi.restoreAllMocks());

  it('records delivered and failed outcomes on the reply each message belongs to', async () => {
    // Prepare: two replies to two patients; the carrier reports one delivered, the other failed.
    const published = metricsPublished();
    const toPatient = await sentReply();
    const toOther = await sentReply({ to: OTHER_PATIENT, message: 'Yes, we take your insurance.' });
    fake.setCarrierStatus(toPatient.ids[0]!, 'Message Delivered');
    fake.setCarrierStatus(toOther.ids[0]!, 'Failed - rejected by carrier');

    // Act
    const result = await poll();

    // Assess
    expect(result).toEqual({ pending: 2, requests: 1, matched: 2, delivered: 1, undelivered: 1 });
    expect(await statusOf(toPatient.rowId)).toEqual({ status: 'delivered', error_code: null });
    expect(await statusOf(toOther.rowId)).toEqual({ status: 'undelivered', error_code: null });
    // One row per real message: the VoIP.ms ids stay on the replies, no bare receipt row appears.
    expect(await allRows()).toHaveLength(4);
    expect(fake.callsTo('getSMS')[0]?.params).toMatchObject({ type: '0', did: DID, timezone: '0' });
    expect(published().filter((m) => m.name === 'VoipmsDeliveryStatus')).toEqual([
      { name: 'VoipmsDeliveryStatus', dimensions: expect.objectContaining({ status: 'delivered' }) },
      { name: 'VoipmsDeliveryStatus', dimensions: expect.objectContaining({ status: 'undelivered' }) },
    ]);
    // An undelivered reply is a message.delivery_failed event like any other failed text.
    const { rows: events } = await testDb.db.query<{ type: string }>('SELECT type FROM events');
    expect(events.map((event) => event.type)).toContain('message.delivery_failed');
  });

  it('"Information not available" changes nothing, and the reply is asked about again next run', async () => {
    // Prepare
    const reply = await sentReply();

    // Act
    const first = await poll();
    fake.setCarrierStatus(reply.ids[0]!, 'Delivered');
    const second = await poll();

    // Assess
    expect(first).toEqual({ pending: 1, requests: 1, matched: 1, delivered: 0, undelivered: 0 });
    expect(second).toMatchObject({ pending: 1, requests: 1, delivered: 1 });
    expect(await statusOf(reply.rowId)).toEqual({ status: 'delivered', error_code: null });
  });

  it('a final status stays: re-polled or redelivered outcomes change nothing, and VoIP.ms is not asked again', async () => {
    // Prepare
    const reply = await sentReply();
    fake.setCarrierStatus(reply.ids[0]!, 'Undelivered');
    await poll();
    fake.calls.length = 0;

    // Act: the carrier status now reads otherwise; the reply is no longer waiting.
    fake.setCarrierStatus(reply.ids[0]!, 'Delivered');
    const again = await poll();

    // Assess
    expect(again).toEqual({ pending: 0, requests: 0, matched: 0, delivered: 0, undelivered: 0 });
    expect(fake.calls).toEqual([]);
    expect(await statusOf(reply.rowId)).toEqual({ status: 'undelivered', error_code: null });
  });

  it('a reply sent in several parts takes the first final part status', async () => {
    // Prepare: two 3-part replies (over 160 characters each).
    const long = (word: string) => `${`${word} `.repeat(70).trim()}.`;
    const first = await sentReply({ message: long('alpha') });
    const second = await sentReply({ to: OTHER_PATIENT, message: long('bravo') });
    expect(first.ids.length).toBeGreaterThan(1);
    // First reply: part 1 delivered, part 2 failed, in the same run. Second: part 1 unknown, part 2 failed.
    fake.setCarrierStatus(first.ids[0]!, 'Delivered');
    fake.setCarrierStatus(first.ids[1]!, 'Failed');
    fake.setCarrierStatus(second.ids[1]!, 'Failed');

    // Act
    await poll();
    fake.setCarrierStatus(second.ids[0]!, 'Delivered'); // later: the second reply is already final
    await poll();

    // Assess
    expect(await statusOf(first.rowId)).toMatchObject({ status: 'delivered' });
    expect(await statusOf(second.rowId)).toMatchObject({ status: 'undelivered' });
    const { rows } = await testDb.db.query<{ provider_sent_ids: string[] }>(
      'SELECT provider_sent_ids FROM sms_messages WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[first.rowId, second.rowId]],
    );
    expect(rows.map((row) => row.provider_sent_ids)).toEqual([first.ids, second.ids]);
  });

  it('ignores a message to another contact, of another DID, or of no stored reply', async () => {
    // Prepare: our reply's status is unknown; VoIP.ms lists, under the same DID, a delivered text with the
    // reply's id to someone else, and a delivered text we never stored.
    const reply = await sentReply();
    fake.seedSent(
      {
        kind: 'sms',
        id: reply.ids[0]!,
        did: DID,
        dst: OTHER_PATIENT,
        message: 'x',
        media: [],
        carrierStatus: 'Delivered',
      },
      {
        kind: 'sms',
        id: '777001',
        did: DID,
        dst: PATIENT,
        message: 'y',
        media: [],
        carrierStatus: 'Delivered',
      },
    );
    fake.sent.push(fake.sent.shift()!); // the impostor listed before our own reply
    // A listing that (unlike VoIP.ms's filter) also shows another DID's text carrying the reply's id.
    const loose = {
      callApi: async () => ({
        status: 'success',
        sms: [
          { id: reply.ids[0], type: '0', did: OTHER_DID, contact: PATIENT, carrier_status: 'Delivered' },
          { id: reply.ids[0], type: '1', did: DID, contact: PATIENT, carrier_status: 'Delivered' },
        ],
      }),
    } as unknown as VoipmsClient;
    const before = await allRows();

    // Act
    const viaFake = await poll();
    const viaLoose = await pollVoipmsDelivery({ db: testDb.db, client: loose });

    // Assess
    expect(viaFake).toMatchObject({ matched: 1, delivered: 0, undelivered: 0 });
    expect(viaLoose).toMatchObject({ matched: 0, delivered: 0, undelivered: 0 });
    expect(await allRows()).toEqual(before);
  });

  it('asks VoIP.ms nothing (and builds no client) when no VoIP.ms text is waiting', async () => {
    // Prepare: a final reply, a Twilio text, an inbound text, and a reply older than the window.
    const final = await sentReply();
    await testDb.db.query(`UPDATE sms_messages SET status = 'delivered' WHERE id = $1`, [final.rowId]);
    await sentReply({ storedAt: new Date(Date.now() - 25 * HOUR) });
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status,
         provider_sent_ids)
       VALUES ('twilio', 'SM1', 'outbound', '+15005550006', $1, 'sent', ARRAY['SM1'])`,
      [PATIENT_E164],
    );
    fake.calls.length = 0;
    let built = 0;
    const debug = vi.spyOn(logger, 'debug');
    const info = vi.spyOn(logger, 'info');

    // Act
    const result = await pollVoipmsDelivery({
      db: testDb.db,
      client: () => {
        built += 1;
        return client;
      },
    });

    // Assess
    expect(result).toEqual({ pending: 0, requests: 0, matched: 0, delivered: 0, undelivered: 0 });
    expect(built).toBe(0);
    expect(fake.calls).toEqual([]);
    // The schedule runs every five minutes: an idle run says so at debug level only, no summary line.
    expect(debug).toHaveBeenCalledWith('VoIP.ms delivery poll: nothing waiting');
    expect(info).not.toHaveBeenCalled();
  });

  it('asks each sending DID once, over the days its waiting texts span', async () => {
    // Prepare
    const yesterday = new Date(Date.now() - 20 * HOUR);
    const older = await sentReply({ storedAt: yesterday });
    const other = await sentReply({ did: OTHER_DID });
    fake.setCarrierStatus(older.ids[0]!, 'Delivered');
    fake.setCarrierStatus(other.ids[0]!, 'Delivered');
    fake.bareObjects('getSMS', true); // one message per DID: VoIP.ms's bare-object quirk

    // Act
    const result = await poll();

    // Assess
    expect(result).toMatchObject({ pending: 2, requests: 2, delivered: 2 });
    expect(
      fake
        .callsTo('getSMS')
        .map((call) => [call.params.did, call.params.from, call.params.to])
        .sort(),
    ).toEqual(
      [
        [DID, day(new Date(yesterday.getTime() - 24 * HOUR)), day(new Date())],
        [OTHER_DID, day(new Date(Date.now() - 24 * HOUR)), day(new Date())],
      ].sort(),
    );
  });

  it('a full list that leaves a waiting text out is completed by asking for that contact', async () => {
    // Prepare: two texts to other people first, so a two-row answer leaves our reply out.
    fake.seedSent(
      { kind: 'sms', id: '880001', did: DID, dst: '5145550101', message: 'a', media: [] },
      { kind: 'sms', id: '880002', did: DID, dst: '5145550102', message: 'b', media: [] },
    );
    const reply = await sentReply();
    fake.setCarrierStatus(reply.ids[0]!, 'Delivered');

    // Act
    const result = await poll({ pageSize: 2 });

    // Assess
    expect(result).toMatchObject({ requests: 2, matched: 1, delivered: 1 });
    expect(fake.callsTo('getSMS').map((call) => call.params.contact)).toEqual([undefined, PATIENT]);
    expect(await statusOf(reply.rowId)).toMatchObject({ status: 'delivered' });
  });

  it('a full list: only the texts it shows no part of are asked for, one getSMS per contact', async () => {
    // Prepare: a three-part reply, then a reply to another patient; a two-row page holds the first two parts.
    const long = `${'alpha '.repeat(70).trim()}.`;
    const cut = await sentReply({ message: long });
    const left = await sentReply({ to: OTHER_PATIENT });
    expect(cut.ids.length).toBeGreaterThan(2);
    fake.setCarrierStatus(cut.ids[0]!, 'Delivered');
    fake.setCarrierStatus(left.ids[0]!, 'Delivered');

    // Act
    const result = await poll({ pageSize: 2 });

    // Assess: the page stands for the reply it shows a part of; only the other patient is asked for.
    expect(result).toEqual({ pending: 2, requests: 2, matched: 2, delivered: 2, undelivered: 0 });
    expect(fake.callsTo('getSMS').map((call) => call.params.contact)).toEqual([undefined, OTHER_PATIENT]);
  });

  it('asks for at most maxContactLookups contacts a run, warns when more are left out, and the next run asks the rest', async () => {
    // Prepare: two texts to others fill a two-row page; both replies are left out of it.
    fake.seedSent(
      { kind: 'sms', id: '880011', did: DID, dst: '5145550101', message: 'a', media: [] },
      { kind: 'sms', id: '880012', did: DID, dst: '5145550102', message: 'b', media: [] },
    );
    const toPatient = await sentReply();
    const toOther = await sentReply({ to: OTHER_PATIENT });
    fake.setCarrierStatus(toPatient.ids[0]!, 'Delivered');
    fake.setCarrierStatus(toOther.ids[0]!, 'Delivered');
    const warn = vi.spyOn(logger, 'warn');

    // Act
    const first = await poll({ pageSize: 2, maxContactLookups: 1 });
    const warnedFirst = [...warn.mock.calls];
    const second = await poll({ pageSize: 2, maxContactLookups: 1 });

    // Assess
    expect(first).toEqual({ pending: 2, requests: 2, matched: 1, delivered: 1, undelivered: 0 });
    expect(warnedFirst).toEqual([
      [
        'VoIP.ms delivery poll: more contacts to look up than one run allows',
        { did: `***${DID.slice(-4)}`, contacts: 2 },
      ],
    ]);
    // One contact left, as many as a run allows: asked without a warning.
    expect(second).toEqual({ pending: 1, requests: 2, matched: 1, delivered: 1, undelivered: 0 });
    expect(warn).toHaveBeenCalledTimes(1);
    const contacts = fake.callsTo('getSMS').map((call) => call.params.contact);
    expect([contacts[1], contacts[3]].sort()).toEqual([OTHER_PATIENT, PATIENT].sort());
    expect([contacts[0], contacts[2]]).toEqual([undefined, undefined]);
    expect(await statusOf(toPatient.rowId)).toMatchObject({ status: 'delivered' });
    expect(await statusOf(toOther.rowId)).toMatchObject({ status: 'delivered' });
  });

  it('checks at most maxPending texts a run, the newest first', async () => {
    // Prepare
    const older = await sentReply({ storedAt: new Date(Date.now() - 2 * HOUR) });
    const newer = await sentReply({ to: OTHER_PATIENT });
    fake.setCarrierStatus(older.ids[0]!, 'Delivered');
    fake.setCarrierStatus(newer.ids[0]!, 'Delivered');

    // Act
    const result = await poll({ maxPending: 1 });

    // Assess
    expect(result).toEqual({ pending: 1, requests: 1, matched: 1, delivered: 1, undelivered: 0 });
    expect(await statusOf(newer.rowId)).toMatchObject({ status: 'delivered' });
    expect(await statusOf(older.rowId)).toMatchObject({ status: 'sent' });
  });

  it('asks a DID from the day before its oldest waiting text, so every text it waits on is listed', async () => {
    // Prepare: two texts of one DID two days apart, within a three-day window.
    const oldest = new Date(Date.now() - 50 * HOUR);
    const older = await sentReply({ storedAt: oldest });
    const newer = await sentReply({ to: OTHER_PATIENT });
    fake.setCarrierStatus(older.ids[0]!, 'Delivered');
    fake.setCarrierStatus(newer.ids[0]!, 'Delivered');

    // Act
    const result = await poll({ windowMs: 72 * HOUR });

    // Assess
    expect(result).toEqual({ pending: 2, requests: 1, matched: 2, delivered: 2, undelivered: 0 });
    expect(fake.callsTo('getSMS').map((call) => [call.params.from, call.params.to])).toEqual([
      [day(new Date(oldest.getTime() - 24 * HOUR)), day(new Date())],
    ]);
  });

  it('takes a listed message without a type as sent, and a carrier status that is not text as no outcome', async () => {
    // Prepare: getSMS lists one message without its type (only sent texts were asked for), and the other with
    // its carrier status as a number (any value may come as one).
    const toPatient = await sentReply();
    const toOther = await sentReply({ to: OTHER_PATIENT });
    const listing = {
      callApi: async () => ({
        status: 'success',
        sms: [
          { id: toPatient.ids[0], did: DID, contact: PATIENT, carrier_status: 'Delivered' },
          { id: toOther.ids[0], type: 0, did: DID, contact: OTHER_PATIENT, carrier_status: 404 },
        ],
      }),
    } as unknown as VoipmsClient;

    // Act
    const result = await pollVoipmsDelivery({ db: testDb.db, client: listing });

    // Assess
    expect(result).toEqual({ pending: 2, requests: 1, matched: 2, delivered: 1, undelivered: 0 });
    expect(await statusOf(toPatient.rowId)).toMatchObject({ status: 'delivered' });
    expect(await statusOf(toOther.rowId)).toMatchObject({ status: 'sent' });
  });

  it('counts only what this run recorded: an outcome another run stored first is not counted or published again', async () => {
    // Prepare: while this run asks VoIP.ms, an overlapping run records the same outcome.
    const published = metricsPublished();
    const reply = await sentReply();
    fake.setCarrierStatus(reply.ids[0]!, 'Delivered');
    const overlapped = {
      callApi: async (...args: Parameters<VoipmsClient['callApi']>) => {
        await testDb.db.query(`UPDATE sms_messages SET status = 'delivered' WHERE id = $1`, [reply.rowId]);
        return client.callApi(...args);
      },
    } as unknown as VoipmsClient;

    // Act
    const result = await pollVoipmsDelivery({ db: testDb.db, client: overlapped });

    // Assess
    expect(result).toEqual({ pending: 1, requests: 1, matched: 1, delivered: 0, undelivered: 0 });
    expect(published().filter((m) => m.name === 'VoipmsDeliveryStatus')).toEqual([]);
    expect(await statusOf(reply.rowId)).toEqual({ status: 'delivered', error_code: null });
  });

  it('no_sms (VoIP.ms lists nothing) is an empty answer, not an error, nor a full list', async () => {
    // Prepare: a stored reply VoIP.ms does not list.
    await sentReply();
    fake.sent.length = 0;

    // Act & Assess: even with one row a page, an empty answer left nothing out to ask for per contact.
    await expect(poll({ pageSize: 1 })).resolves.toMatchObject({ pending: 1, requests: 1, matched: 0 });
    expect(fake.callsTo('getSMS')).toHaveLength(1);
  });

  it('a refused call fails the run after the other DIDs are done; nothing is lost, the next run records it', async () => {
    // Prepare
    const first = await sentReply();
    const second = await sentReply({ did: OTHER_DID });
    fake.setCarrierStatus(first.ids[0]!, 'Delivered');
    fake.setCarrierStatus(second.ids[0]!, 'Delivered');
    fake.failWith('getSMS', 'ip_not_enabled', 1);
    const error = vi.spyOn(logger, 'error');
    const info = vi.spyOn(logger, 'info');

    // Act
    const failed = poll();
    await expect(failed).rejects.toMatchObject({ name: 'VoipmsApiError', status: 'ip_not_enabled' });
    const statuses = [(await statusOf(first.rowId))?.status, (await statusOf(second.rowId))?.status];
    const failedDid = statuses[0] === 'sent' ? DID : OTHER_DID;
    const logged = { error: [...error.mock.calls], info: [...info.mock.calls] };
    const retried = await poll();

    // Assess: the DID asked second was recorded in the failed run, the other one in the next.
    expect(statuses.sort()).toEqual(['delivered', 'sent']);
    // The operator sees which DID failed (masked) and why, and the run's counts with the failures among them.
    expect(logged.error).toEqual([
      [
        'VoIP.ms delivery poll failed for a DID',
        { did: `***${failedDid.slice(-4)}`, error: expect.stringContaining('getSMS failed: ip_not_enabled') },
      ],
    ]);
    expect(logged.info).toEqual([
      [
        'VoIP.ms delivery poll',
        { pending: 2, requests: 2, matched: 1, delivered: 1, undelivered: 0, failed: 1 },
      ],
    ]);
    expect(retried).toMatchObject({ pending: 1, delivered: 1 });
    expect(await statusOf(first.rowId)).toMatchObject({ status: 'delivered' });
    expect(await statusOf(second.rowId)).toMatchObject({ status: 'delivered' });
  });

  it('retries a rate limit, and fails a run VoIP.ms does not answer in time without losing anything', async () => {
    // Prepare
    const reply = await sentReply();
    fake.setCarrierStatus(reply.ids[0]!, 'Delivered');
    fake.delay('getSMS', 1_000, 3); // the first try and both retries time out
    const impatient = createVoipmsClient({
      apiUrl: fake.url,
      username: fake.username,
      password: fake.password,
      retryDelayMs: 1,
      timeoutMs: 100,
    });

    // Act
    await expect(pollVoipmsDelivery({ db: testDb.db, client: impatient })).rejects.toMatchObject({
      status: 'timeout',
    });
    const askedBeforeFailing = fake.callsTo('getSMS').length;
    const afterTimeout = await statusOf(reply.rowId);
    fake.limitExceeded('getSMS', 1);
    const next = await poll();

    // Assess: getSMS only reads, so an unanswered call is asked again before the run gives up.
    expect(askedBeforeFailing).toBe(3);
    expect(afterTimeout).toMatchObject({ status: 'sent' });
    expect(next).toMatchObject({ delivered: 1 });
    expect(await statusOf(reply.rowId)).toMatchObject({ status: 'delivered' });
  });
});
