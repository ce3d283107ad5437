export {
  formatOfficeTime,
  isQuietHours,
  type OfficeSettings,
  OfficeSettingsError,
  type OfficeStatus,
  officeStatus,
  type Weekday,
} from '../practice/hours.js';
export { BUILTIN_RULES } from './builtin-rules.js';
export {
  type Classification,
  type ClassifyOptions,
  classify,
  type IntentRule,
} from './classifier.js';
export { BUILTIN_PRIORITY, INTENTS, type Intent, type Language } from './lexicon.js';
export { normalize, tokenize } from './normalize.js';
export {
  BUILTIN_REPLIES,
  composeReply,
  fillTemplate,
  MAX_REPLY_LENGTH,
  type ReplyContext,
} from './replies.js';
