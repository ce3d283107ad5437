import { clockToSeconds } from './cdr.js';
import type { VoipmsRecordingRecord } from './client.js';
import { wallClockToInstant } from './time.js';

/** A `getCallRecordings` entry in our recording shape. */
export interface NormalizedRecording {
  providerRecordingId: string;
  /** Needed again to fetch the file with getCallRecording. */
  account: string | null;
  direction: 'inbound' | 'outbound';
  destination: string;
  startedAt: Date | null;
  durationSeconds: number;
}

export function normalizeRecording(
  record: VoipmsRecordingRecord,
  options: { timeZone: string },
): NormalizedRecording {
  return {
    providerRecordingId: String(record.callrecording),
    account: record.subaccount ? String(record.subaccount) : null,
    direction: /^in/i.test(String(record.type ?? '')) ? 'inbound' : 'outbound',
    destination: String(record.destination ?? ''),
    startedAt: wallClockToInstant(String(record.datetime ?? ''), options.timeZone) ?? null,
    durationSeconds: clockToSeconds(String(record.duration ?? '')),
  };
}
