export { type AlertContent, composeAlert } from './compose.js';
export { type EscalationResult, escalateDueAlerts } from './escalate.js';
export {
  type AlertDetail,
  type AlertRecipient,
  type AlertSettings,
  loadAlertSettings,
  localTime,
  quietUntil,
} from './settings.js';
export { type AlertOptions, type AlertResult, alertForEvent, alertTargets, isUrgent } from './subscriber.js';
