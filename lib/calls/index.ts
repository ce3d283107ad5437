export {
  type CallRoute,
  type DialResultEvent,
  type IncomingCallEvent,
  recordDialResult,
  recordIncomingCall,
} from './incoming.js';
export { type RecordingStatusEvent, recordRecordingStatus, type TwilioRecordingJob } from './recording.js';
export { type CallStatusEvent, recordCallStatus } from './status.js';
export { missedCallText } from './text-back.js';
