import { recordRecordingStatus } from '../lib/calls/index.js';
import { BadRequestError, noContent, twilioSignature, webhookRoute } from '../lib/http/index.js';
import { performOrDefer } from '../lib/ingest/action.js';
import { parseTwilio } from '../lib/twilio/params.js';
import { isTwilioApiUrl, recordingStatusSchema } from '../lib/twilio/recording.js';

/** Recording finished (or absent/failed): stored as such; a completed one is queued for archiving. */
export const handler = webhookRoute({
  provider: 'twilio',
  name: 'twilio/recording/status',
  methods: ['POST'],
  verify: twilioSignature,
  successStatus: 204,
  parse: (request) => parseTwilio(recordingStatusSchema, request.fields),
  handle: async (params, { config, pendingLog }) => {
    if (params.RecordingUrl && !isTwilioApiUrl(params.RecordingUrl, config.twilio.apiBaseUrl)) {
      throw new BadRequestError('RecordingUrl is not on the Twilio API host');
    }
    const errorCode = params.ErrorCode && params.ErrorCode !== '0' ? params.ErrorCode : null;
    await performOrDefer(
      recordRecordingStatus,
      {
        provider: 'twilio',
        providerRecordingId: params.RecordingSid,
        providerCallId: params.CallSid ?? null,
        status: params.RecordingStatus,
        durationSeconds: params.RecordingDuration === undefined ? null : Number(params.RecordingDuration),
        errorCode,
        source: params.RecordingSource ?? null,
        recordingUrl: params.RecordingUrl ?? null,
      },
      pendingLog,
    );
    return noContent();
  },
});
