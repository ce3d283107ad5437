export {
  formatOfficeTime,
  isQuietHours,
  type OfficeSettings,
  OfficeSettingsError,
  type OfficeStatus,
  officeDay,
  officeStatus,
  type Weekday,
} from './hours.js';
export {
  clearPracticeSettingsCache,
  DEFAULT_PRACTICE_SETTINGS,
  loadPracticeSettings,
  type PracticeSettings,
  type TwilioKeywordHandling,
  type WeeklyHours,
} from './settings.js';
