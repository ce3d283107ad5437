import { beforeEach, describe, expect, it } from 'vitest';
import { missedCallText, recordRecordingStatus } from '../../../lib/calls/index.js';
import { localQueues } from '../../../lib/queue/index.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';

const testDb = useTestDb();

describe('missed-call text wording', () => {
  it('names the practice and the emergency line, and says how to opt out', () => {
    expect(missedCallText({ practiceName: 'Smile Dental', emergencyLine: '+15085550199' })).toBe(
      'Sorry we missed your call at Smile Dental. Reply to this text and we will get back to you, or call us ' +
        'again during office hours. If this is an emergency, please call +15085550199 or 911. Reply STOP to opt out.',
    );
  });

  it('without an emergency line, points to 911 alone', () => {
    expect(missedCallText({ practiceName: 'Smile Dental', emergencyLine: null })).toBe(
      'Sorry we missed your call at Smile Dental. Reply to this text and we will get back to you, or call us ' +
        'again during office hours. If this is an emergency, please call 911. Reply STOP to opt out.',
    );
  });
});

describe('recording status: queued once, when it completes', () => {
  beforeEach(() => {
    useConfig();
    localQueues.reset();
  });
  const status = (status: string) =>
    recordRecordingStatus.run(testDb.db, {
      provider: 'twilio',
      providerRecordingId: 'RE00000000000000000000000000000001',
      providerCallId: 'CA00000000000000000000000000000001',
      status,
      durationSeconds: 30,
      errorCode: null,
      source: 'RecordVerb',
      recordingUrl:
        'https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE00000000000000000000000000000001',
    });

  it('in-progress queues nothing; completed queues the job; a repeat of completed queues nothing', async () => {
    expect(await status('in-progress')).toEqual({ queued: false });
    expect(await status('completed')).toEqual({ queued: true });
    expect(await status('completed')).toEqual({ queued: false });
    expect(localQueues.messages('recordings')).toHaveLength(1);
  });
});
