import { defineAction } from '../ingest/action.js';
import { sendMessage } from '../queue/index.js';

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
 * wins; what the worker writes later, e.g. `archived`, is never overwritten). Only the delivery that made it
 * `completed` queues the archive job, so duplicates, even concurrent ones, queue nothing twice.
 */
export const recordRecordingStatus = defineAction(
  'recordings.twilio-status',
  async (db, event: RecordingStatusEvent) => {
    const { rows } = await db.query<{ id: number; status: string }>(
      `INSERT INTO recordings (provider, provider_recording_id, provider_call_id, source, duration_seconds, status,
         error_code)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (provider, provider_recording_id) DO UPDATE SET
         status = EXCLUDED.status,
         provider_call_id = coalesce(recordings.provider_call_id, EXCLUDED.provider_call_id),
         source = coalesce(recordings.source, EXCLUDED.source),
         duration_seconds = coalesce(EXCLUDED.duration_seconds, recordings.duration_seconds),
         error_code = EXCLUDED.error_code
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
    await sendMessage('recordings', job);
    return { queued: true };
  },
);
