import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { localQueues } from '../../../lib/queue/index.js';
import { createVoipmsClient, type VoipmsClient } from '../../../lib/voipms/index.js';
import {
  CDR_CURSOR,
  pollVoipmsCdr,
  pollVoipmsRecordings,
  readCursor,
  voipmsOffsetHours,
} from '../../../lib/voipms/pollers.js';
import { type FakeCdrSeed, type FakeVoipms, startFakeVoipms } from '../../fakes/voipms-api.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';

const testDb = useTestDb();
let fake: FakeVoipms;
let client: VoipmsClient;

beforeAll(async () => {
  fake = await startFakeVoipms();
  client = createVoipmsClient({
    apiUrl: fake.url,
    username: fake.username,
    password: fake.password,
    retryDelayMs: 1,
  });
});
afterAll(async () => fake.close());

let counter = 0;
function cdrSeed(overrides: Partial<FakeCdrSeed> = {}): FakeCdrSeed {
  counter += 1;
  return {
    startedAt: new Date('2024-05-06T14:00:00Z'),
    callerid: '"Jane Roe" <5145550123>',
    destination: '5145550000',
    description: 'Inbound DID',
    disposition: 'ANSWERED',
    seconds: 65,
    uniqueid: `1714990000.${counter}`,
    total: '0.01950000',
    ...overrides,
  };
}

const calls = async () =>
  (
    await testDb.db.query<{ provider_call_id: string; started_at: Date; status: string }>(
      'SELECT provider_call_id, started_at, status FROM calls ORDER BY provider_call_id',
    )
  ).rows;

describe('VoIP.ms pollers', () => {
  beforeEach(() => {
    useConfig();
    clearPracticeSettingsCache();
    localQueues.reset();
    fake.calls.length = 0;
    fake.bareObjects('getCDR', false);
    fake.bareObjects('getCallRecordings', false);
  });

  it('CDR: overlapping windows upsert each call once, cursor advancing with each poll', async () => {
    // Prepare: the first poll sees one call; the second (overlapping) sees it again plus a new one.
    const first = cdrSeed({ startedAt: new Date('2024-05-06T14:00:00Z') });
    fake.seedCdr(first);
    const t1 = new Date('2024-05-06T15:00:00Z');

    // Act
    const poll1 = await pollVoipmsCdr({ db: testDb.db, client, now: t1 });
    const second = cdrSeed({
      startedAt: new Date('2024-05-06T15:02:00Z'),
      disposition: 'NO ANSWER',
      seconds: 0,
    });
    fake.seedCdr(second);
    const t2 = new Date('2024-05-06T15:05:00Z');
    const poll2 = await pollVoipmsCdr({ db: testDb.db, client, now: t2 });

    // Assess
    expect(poll1).toMatchObject({ fetched: 1, stored: 1 });
    expect(poll2.from.toISOString()).toBe('2024-05-06T14:00:00.000Z');
    expect(poll2.fetched).toBe(2);
    const rows = await calls();
    expect(rows.map((row) => row.provider_call_id)).toEqual([first.uniqueid, second.uniqueid].sort());
    expect(new Date(rows.find((r) => r.provider_call_id === first.uniqueid)!.started_at).toISOString()).toBe(
      '2024-05-06T14:00:00.000Z',
    );
    expect((await readCursor(testDb.db, CDR_CURSOR))?.toISOString()).toBe(t2.toISOString());
  });

  it('CDR: asks VoIP.ms at the practice offset and reads dates back exactly', async () => {
    fake.seedCdr(cdrSeed({ startedAt: new Date('2024-01-15T03:30:00Z') }));
    await pollVoipmsCdr({ db: testDb.db, client, now: new Date('2024-01-15T04:00:00Z') });
    expect(fake.callsTo('getCDR')[0]?.params).toMatchObject({ timezone: '-5', date_from: '2024-01-13' });
    // 03:30Z is the previous evening in New York: still the right instant.
    expect(new Date((await calls())[0]!.started_at).toISOString()).toBe('2024-01-15T03:30:00.000Z');
  });

  it('CDR: a one-row answer as a bare object is still stored', async () => {
    fake.bareObjects('getCDR', true);
    const seed = cdrSeed({ startedAt: new Date('2024-06-01T12:00:00Z') });
    fake.seedCdr(seed);
    const result = await pollVoipmsCdr({ db: testDb.db, client, now: new Date('2024-06-01T12:30:00Z') });
    expect(result.fetched).toBe(1);
    expect((await calls()).map((row) => row.provider_call_id)).toContain(seed.uniqueid);
  });

  it('CDR: a failed poll leaves the cursor where it was', async () => {
    const now = new Date('2024-07-01T12:00:00Z');
    await pollVoipmsCdr({ db: testDb.db, client, now });
    fake.failWith('getCDR', 'ip_not_enabled', 1);
    await expect(
      pollVoipmsCdr({ db: testDb.db, client, now: new Date('2024-07-01T12:05:00Z') }),
    ).rejects.toMatchObject({ status: 'ip_not_enabled' });
    expect((await readCursor(testDb.db, CDR_CURSOR))?.toISOString()).toBe(now.toISOString());
  });

  it('offset for VoIP.ms follows daylight saving of the practice zone', () => {
    expect(voipmsOffsetHours('America/New_York', new Date('2024-01-15T12:00:00Z'))).toBe(-5);
    expect(voipmsOffsetHours('America/New_York', new Date('2024-07-15T12:00:00Z'))).toBe(-4);
    expect(voipmsOffsetHours('UTC', new Date())).toBe(0);
  });

  it('recordings: queues only new ones across overlapping polls, bare object included', async () => {
    // Prepare
    fake.bareObjects('getCallRecordings', true);
    fake.seedRecording({
      id: 'REC-ONE',
      datetime: '2024-08-01 10:00:00',
      mp3: Buffer.from('a'),
      account: '100000',
    });

    // Act
    await pollVoipmsRecordings({ db: testDb.db, client, now: new Date('2024-08-01T15:00:00Z') });
    fake.bareObjects('getCallRecordings', false);
    fake.seedRecording({ id: 'REC-TWO', datetime: '2024-08-01 11:00:00', mp3: Buffer.from('b') });
    await pollVoipmsRecordings({ db: testDb.db, client, now: new Date('2024-08-01T15:10:00Z') });

    // Assess
    const jobs = localQueues.messages('recordings') as { providerRecordingId: string; recordingId: number }[];
    expect(jobs.map((job) => job.providerRecordingId)).toEqual(['REC-ONE', 'REC-TWO']);
    expect(jobs[0]).toMatchObject({ provider: 'voipms', account: '100000' });
    const rows = await testDb.db.query('SELECT provider_recording_id, status FROM recordings ORDER BY id');
    expect(rows.rows).toEqual([
      { provider_recording_id: 'REC-ONE', status: 'completed' },
      { provider_recording_id: 'REC-TWO', status: 'completed' },
    ]);
  });
});
