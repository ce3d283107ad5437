export { sendTwilioMessage, TWILIO_OPTED_OUT, TwilioApiError, type TwilioSend } from './messages-api.js';
export { optionalInt, parseTwilio, sid } from './params.js';
export {
  isTwilioApiUrl,
  RECORDING_STATUSES,
  type RecordingStatusParams,
  recordingStatusSchema,
} from './recording.js';
export { mediaUrls, type SmsIncomingParams, smsIncomingSchema } from './sms-incoming.js';
export { MESSAGE_STATUSES, type SmsStatusParams, smsStatusSchema } from './sms-status.js';
export * from './twiml.js';
export * from './voice.js';
