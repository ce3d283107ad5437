export { type AlertContent, composeAlert } from './compose.js';
export { type EscalationResult, escalateDueAlerts } from './escalate.js';
export { localTime, quietUntil } from './settings.js';
export {
  type AlertSettings,
  type AlertDetail,
  type AlertRecipient,
  loadAlertSettings,
} from './settings.js';
export { type AlertOptions, type AlertResult, alertForEvent, alertTargets, isUrgent } from './subscriber.js';
