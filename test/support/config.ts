import { type Config, loadConfig, setConfig } from '../../lib/config.js';

export const TEST_AUTH_TOKEN = '12345abcdef67890fedcba0987654321';
export const TEST_ACCOUNT_SID = `AC${'0'.repeat(31)}1`;
export const TEST_BASE_URL = 'https://hooks.example.test';
export const TEST_VOIPMS_TOKEN = 'voipms-secret-token-0123456789';
export const PRACTICE_TWILIO_NUMBER = '+15005550006';
export const PRACTICE_VOIPMS_DID = '5145550000';

export const testEnv = (): Record<string, string> => ({
  WEBHOOK_BASE_URL: TEST_BASE_URL,
  TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
  TWILIO_PHONE_NUMBER: PRACTICE_TWILIO_NUMBER,
  TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
  VOIPMS_USERNAME: 'practice@example.test',
  VOIPMS_PASSWORD: 'api-password-not-for-logs',
  VOIPMS_DID: PRACTICE_VOIPMS_DID,
  VOIPMS_API_URL: 'http://127.0.0.1:9/api/v1/rest.php',
  VOIPMS_ALLOWED_IPS: '203.0.113.0/24, 198.51.100.7, 2001:db8::/32',
  VOIPMS_WEBHOOK_TOKEN: TEST_VOIPMS_TOKEN,
  DB_TIMEOUT_MS: '1500',
});

/** Sets the configuration the code under test reads; overrides replace or (with undefined) remove variables. */
export function useConfig(overrides: Record<string, string | undefined> = {}): Config {
  const config = loadConfig({ ...testEnv(), ...overrides });
  setConfig(config);
  return config;
}
