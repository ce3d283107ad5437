export { type ArchiveDeps, type ArchiveOutcome, archiveRecording } from './archive.js';
export {
  type Download,
  downloadTwilioRecording,
  downloadVoipmsRecording,
  failureForStatus,
  twilioRecordingResource,
} from './download.js';
export {
  type PermanentFailureReason,
  PermanentRecordingError,
  RecordingTooLargeError,
  TransientRecordingError,
} from './errors.js';
export {
  InvalidRecordingJobError,
  parseRecordingJob,
  type RecordingJob,
  recordingJobSchema,
  type TwilioRecordingJob,
  type VoipmsRecordingJob,
} from './job.js';
export { type RecordingProvider, recordingKey, transcriptKey } from './keys.js';
export { type PurgeResult, purgeExpired } from './purge.js';
export { resetS3Client, s3Client } from './s3.js';
export { DEFAULT_MAX_RECORDING_BYTES, type RecordingSettings, recordingSettings } from './settings.js';
export {
  createLocalStore,
  createS3Store,
  type PutOptions,
  type RecordingStore,
  recordingStore,
} from './store.js';
