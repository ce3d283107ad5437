export { isQuietHours, officeDay, officeStatus } from './hours.js';
export {
  clearPracticeSettingsCache,
  DEFAULT_PRACTICE_SETTINGS,
  loadPracticeSettings,
  type PracticeSettings,
  type WeeklyHours,
} from './settings.js';
