import type { Config } from '../config.js';
import { createVoipmsClient, type VoipmsClient } from './client.js';

/** The client the outbound worker and pollers use, from the container's configuration. */
export function voipmsClientFromConfig(config: Pick<Config, 'voipms'>): VoipmsClient {
  return createVoipmsClient({
    apiUrl: config.voipms.apiUrl,
    username: config.voipms.username,
    password: config.voipms.password,
    ...(config.voipms.account ? { account: config.voipms.account } : {}),
  });
}
