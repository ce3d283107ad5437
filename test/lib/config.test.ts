import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';
import { testEnv } from '../support/config.js';

describe('loadConfig', () => {
  it('reads every contract variable with defaults', () => {
    const config = loadConfig({ ...testEnv(), WEBHOOK_BASE_URL: 'https://abc.example.com/' });
    expect(config.webhookBaseUrl).toBe('https://abc.example.com');
    expect(config.voipms.allowedIps.allows('203.0.113.5')).toBe(true);
    expect(loadConfig({}).twilio.apiBaseUrl).toBe('https://api.twilio.com');
    expect(loadConfig({}).voipms.apiUrl).toBe('https://voip.ms/api/v1/rest.php');
    expect(loadConfig({}).webhookBaseUrl).toBe('http://localhost:3000');
  });

  it('names every malformed variable in one error', () => {
    const bad = {
      ...testEnv(),
      VOIPMS_ALLOWED_IPS: '10.0.0.0/8, 300.1.1.1',
      WEBHOOK_BASE_URL: 'not a url',
      PORT: '70000',
      ENABLE_TRANSCRIPTION: 'yes',
      TWILIO_PHONE_NUMBER: '555-1234',
    };
    try {
      loadConfig(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const name of [
        'VOIPMS_ALLOWED_IPS',
        '300.1.1.1',
        'WEBHOOK_BASE_URL',
        'PORT',
        'ENABLE_TRANSCRIPTION',
        'TWILIO_PHONE_NUMBER',
      ]) {
        expect(message).toContain(name);
      }
    }
  });

  it('requires a database and a base URL on Lambda', () => {
    expect(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f' })).toThrow(
      /DATABASE_URL is required[\s\S]*WEBHOOK_BASE_URL is required/,
    );
  });
});
