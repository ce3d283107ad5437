import { describe, expect, it } from 'vitest';
import { type RecordingStore, recordingKey, transcriptKey } from '../../../lib/recordings/index.js';
import { purgeExpired } from '../../../lib/recordings/purge.js';
import { useTestDb } from '../../support/db.js';
import { insertRecording } from './factories.js';

const testDb = useTestDb();
const DAY = 86_400_000;

/** A store that only remembers what it was asked to delete. */
function recordingStore(): RecordingStore & { deletedKeys: string[] } {
  const deletedKeys: string[] = [];
  return {
    kind: 's3',
    bucket: 'pedro-test',
    deletedKeys,
    put: async () => ({ sizeBytes: 0 }),
    getText: async () => '',
    async delete(keys) {
      deletedKeys.push(...keys);
      return { deleted: keys, failed: [] };
    },
  };
}

describe('retention purge: guard tables and transcript files', () => {
  it('removes missed-call claims and reply budgets of days before yesterday, and counts them', async () => {
    // Prepare
    const now = new Date('2026-03-10T15:00:00Z');
    await testDb.db.query(
      `INSERT INTO outbound_guards (kind, phone_number, day) VALUES
         ('missed-call', '+14155550100', '2026-03-01'), ('missed-call', '+14155550100', '2026-03-09'),
         ('missed-call', '+14155550101', '2026-03-10')`,
    );
    await testDb.db.query(
      `INSERT INTO auto_reply_budget (phone_number, day, replies) VALUES
         ('+14155550100', '2026-02-01', 3), ('+14155550101', '2026-03-10', 1)`,
    );

    // Act
    const result = await purgeExpired(testDb.db, recordingStore(), { retentionDays: 90, now });

    // Assess
    expect(result).toMatchObject({ outboundGuards: 1, autoReplyBudget: 1 });
    const guards = await testDb.db.query<{ day: string }>(
      "SELECT to_char(day, 'YYYY-MM-DD') AS day FROM outbound_guards ORDER BY day",
    );
    expect(guards.rows.map((row) => row.day)).toEqual(['2026-03-09', '2026-03-10']);
    const budget = await testDb.db.query('SELECT phone_number FROM auto_reply_budget');
    expect(budget.rows).toEqual([{ phone_number: '+14155550101' }]);
    const log = await testDb.db.query('SELECT outbound_guards, auto_reply_budget FROM purge_log');
    expect(log.rows).toEqual([{ outbound_guards: 1, auto_reply_budget: 1 }]);
  });

  it('deletes the transcript file of a transcription that kept no output_key', async () => {
    // Prepare
    const createdAt = new Date(Date.now() - 200 * DAY);
    const audioKey = recordingKey('twilio', 'RE-old', createdAt);
    const id = await insertRecording(testDb.db, {
      providerRecordingId: 'RE-old',
      storageKey: audioKey,
      createdAt,
      status: 'archived',
    });
    await testDb.db.query(
      "INSERT INTO transcriptions (recording_id, status, job_name, text) VALUES ($1, 'completed', 'job-old', 'words')",
      [id],
    );
    const store = recordingStore();

    // Act
    const result = await purgeExpired(testDb.db, store, { retentionDays: 90 });

    // Assess
    expect(store.deletedKeys).toEqual([audioKey, transcriptKey('twilio', 'RE-old', createdAt)]);
    expect(result).toMatchObject({ recordings: 1, transcriptions: 1, objects: 2 });
  });
});
