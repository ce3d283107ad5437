import * as z from 'zod/mini';

/** What the Twilio recording-status route and the VoIP.ms recording poller put on the recordings queue. */
export const recordingJobSchema = z.discriminatedUnion('provider', [
  z.object({
    provider: z.literal('twilio'),
    recordingId: z.number().check(z.int(), z.positive()),
    providerRecordingId: z.string().check(z.minLength(1)),
    recordingUrl: z.url(),
    callSid: z.string().check(z.minLength(1)),
  }),
  z.object({
    provider: z.literal('voipms'),
    recordingId: z.number().check(z.int(), z.positive()),
    /** getCallRecordings' `callrecording` id. */
    providerRecordingId: z.string().check(z.minLength(1)),
    /** Account or sub-account, when the poller knows it (getCallRecording may need it). */
    account: z.optional(z.string().check(z.minLength(1))),
  }),
]);

export type RecordingJob = z.infer<typeof recordingJobSchema>;
export type TwilioRecordingJob = Extract<RecordingJob, { provider: 'twilio' }>;
export type VoipmsRecordingJob = Extract<RecordingJob, { provider: 'voipms' }>;

export class InvalidRecordingJobError extends Error {
  constructor(detail: string) {
    super(`invalid recording job: ${detail}`);
    this.name = 'InvalidRecordingJobError';
  }
}

export function parseRecordingJob(body: string): RecordingJob {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidRecordingJobError('body is not JSON');
  }
  const parsed = recordingJobSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidRecordingJobError(
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}
