import { defineAction } from '../ingest/action.js';
import { handOnRecordings } from '../recordings/follow-up.js';

export interface RecordingStatusEvent {
  provider: 'twilio';
  providerRecordingId: string;
  providerCallId: string | null;
  /** in-progress, completed, absent or failed */
  status: string;
  durationSeconds: number | null;
  errorCode: string | null;
  source: string | null;
  /** Already checked to be on the Twilio API host. */
  recordingUrl: string | null;
}

/** The job the recordings worker takes: fetch from Twilio, archive, maybe transcribe. */
export interface TwilioRecordingJob {
  provider: 'twilio';
  recordingId: number;
  providerRecordingId: string;
  recordingUrl: string;
  callSid: string;
}

/**
 * One statement: the recording row is created, or moved once out of `in-progress` (the first final status
 * wins; what the worker writes later, e.g. `archived`, is never overwritten), with the audio's URL. A
 * `completed` row without a storage key is itself the archive job (the follow-up outbox): the delivery that made
 * it `completed` hands the job on at once, and the relay hands on any whose queueing failed or never happened
 * (a timeout after the commit). The worker claims the row, so a job handed on twice archives once.
 */
export const recordRecordingStatus = defineAction(
  'recordings.twilio-status',
  async (db, event: RecordingStatusEvent) => {
    const { rows } = await db.query<{ id: number; status: string }>(
      `INSERT INTO recordings (provider, provider_recording_id, provider_call_id, source, duration_seconds, status,
         error_code, media_url)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (provider, provider_recording_id) DO UPDATE SET
         status = EXCLUDED.status,
         provider_call_id = coalesce(recordings.provider_call_id, EXCLUDED.provider_call_id),
         source = coalesce(recordings.source, EXCLUDED.source),
         duration_seconds = coalesce(EXCLUDED.duration_seconds, recordings.duration_seconds),
         error_code = EXCLUDED.error_code,
         media_url = coalesce(recordings.media_url, EXCLUDED.media_url)
       WHERE recordings.status = 'in-progress' AND EXCLUDED.status <> 'in-progress'
       RETURNING id, status`,
      [
        event.provider,
        event.providerRecordingId,
        event.providerCallId,
        event.source,
        event.durationSeconds,
        event.status,
        event.errorCode,
        event.recordingUrl,
      ],
    );
    const row = rows[0];
    if (row?.status !== 'completed' || !event.recordingUrl || !event.providerCallId) return { queued: false };
    const job: TwilioRecordingJob = {
      provider: 'twilio',
      recordingId: Number(row.id),
      providerRecordingId: event.providerRecordingId,
      recordingUrl: event.recordingUrl,
      callSid: event.providerCallId,
    };
    await handOnRecordings([job]);
    return { queued: true };
  },
);
