export { resetTranscribeClient, transcribeClient } from './client.js';
export { parseTranscriptionJobName, transcriptionJobName } from './job-name.js';
export type { TranscriptionStatus } from './repository.js';
export { parseS3Uri } from './s3-uri.js';
export {
  type ArchivedRecording,
  startTranscription,
  type TranscriptionStart,
  TranscriptionStartError,
} from './start.js';
export {
  type TranscribeJobStateChange,
  transcriptText,
  type WriterResult,
  writeTranscriptionOutcome,
} from './writer.js';
