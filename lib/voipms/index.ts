export { asArray } from './as-array.js';
export {
  type CallDirection,
  type CallStatus,
  clockToSeconds,
  dispositionToStatus,
  type NormalizedCall,
  normalizeCdrRecord,
  parseCallerId,
  VoipmsCdrError,
  type VoipmsCdrInput,
  voipmsCdrPayloadSchema,
  voipmsCdrRecordSchema,
} from './cdr.js';
export {
  type CallApiOptions,
  type ConfigureSmsCallbackInput,
  type ConfigureSmsCallbackResult,
  createVoipmsClient,
  DEFAULT_VOIPMS_API_URL,
  decodeBase64File,
  type GetCallRecordingsInput,
  type GetCdrInput,
  type SendSmsInput,
  type SendSmsResult,
  VoipmsAccountMissingError,
  VoipmsClient,
  type VoipmsClientOptions,
  type VoipmsParams,
  type VoipmsRecordingRecord,
  type VoipmsResponse,
} from './client.js';
export {
  isRetryableStatus,
  RETRYABLE_STATUSES,
  TRANSPORT_STATUSES,
  VoipmsApiError,
  VoipmsInputError,
} from './errors.js';
export { maskNumber, toE164, toVoipmsNumber } from './phone.js';
export { type NormalizedRecording, normalizeRecording } from './recordings.js';
export {
  type NormalizedVoipmsSms,
  type NormalizeSmsOptions,
  normalizeVoipmsSms,
  parseMedia,
  type VoipmsSmsCallbackInput,
  VoipmsSmsPayloadError,
  voipmsSmsCallbackSchema,
} from './sms.js';
export {
  buildSmsCallbackUrl,
  DID_INFO_TO_SET_SMS,
  type SmsCallbackChange,
  setSmsParamsFromDidInfo,
  withSmsCallback,
} from './sms-settings.js';
export { MAX_SMS_PARTS, MMS_MAX_CHARS, SMS_MAX_CHARS, splitSms, splitText } from './split.js';
export { fixedOffsetZone, wallClockToInstant } from './time.js';
