import { afterAll, beforeAll } from 'vitest';
import { createVoipmsClient, type VoipmsClient } from '../../lib/voipms/index.js';
import { type FakeVoipms, type FakeVoipmsOptions, startFakeVoipms } from '../fakes/voipms-api.js';

/**
 * A fake VoIP.ms API for a test file, started before its tests and closed after them, and a client of it
 * (retrying 1 ms apart unless `retryDelayMs` says otherwise), handed to `started`.
 */
export function useFakeVoipms(
  started: (voipms: { fake: FakeVoipms; client: VoipmsClient }) => void,
  options: FakeVoipmsOptions & { retryDelayMs?: number } = {},
): void {
  let fake: FakeVoipms | undefined;
  beforeAll(async () => {
    const { retryDelayMs = 1, ...fakeOptions } = options;
    fake = await startFakeVoipms(fakeOptions);
    const client = createVoipmsClient({
      apiUrl: fake.url,
      username: fake.username,
      password: fake.password,
      retryDelayMs,
    });
    started({ fake, client });
  });
  afterAll(async () => fake?.close());
}
