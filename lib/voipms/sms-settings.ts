/**
 * `getDIDsInfo` reports a DID's SMS settings under one set of names, `setSMS` takes them under
 * another, and `setSMS` clears every setting it is not given. This maps one onto the other so a
 * change can send back everything that was there.
 */

/** getDIDsInfo field → setSMS parameter (from VoIP.ms's WSDL and parameter docs). */
export const DID_INFO_TO_SET_SMS: Readonly<Record<string, string>> = {
  sms_enabled: 'enable',
  sms_email_enabled: 'email_enabled',
  sms_email: 'email_address',
  sms_forward_enabled: 'sms_forward_enable',
  sms_forward: 'sms_forward',
  sms_url_callback_enabled: 'url_callback_enable',
  sms_url_callback: 'url_callback',
  sms_url_callback_retry: 'url_callback_retry',
  smpp_enabled: 'smpp_enabled',
  smpp_url: 'smpp_url',
  smpp_user: 'smpp_user',
  smpp_pass: 'smpp_pass',
  // Not in the documented getDIDsInfo shape, but carried over when an account reports them.
  sms_sipaccount_enabled: 'sms_sipaccount_enabled',
  sms_sipaccount: 'sms_sipaccount',
  webhook_enable: 'webhook_enable',
  webhook_enabled: 'webhook_enable',
  webhook: 'webhook',
  dialmode: 'dialmode',
};

/** setSMS parameters whose values are secrets: never printed back. */
export const SECRET_SMS_PARAMS: ReadonlySet<string> = new Set(['smpp_pass']);

export type SetSmsParams = Record<string, string>;

/** The setSMS parameters that reproduce a DID's current SMS settings exactly. */
export function setSmsParamsFromDidInfo(info: Record<string, unknown>): SetSmsParams {
  const params: SetSmsParams = {};
  for (const [field, param] of Object.entries(DID_INFO_TO_SET_SMS)) {
    const value = info[field];
    if (value === undefined || value === null) continue;
    params[param] = String(value);
  }
  return params;
}

export interface SmsCallbackChange {
  /** Absolute http(s) URL VoIP.ms will call, placeholders such as `{FROM}` left unencoded. */
  url: string;
  /** Ask VoIP.ms to re-send every 30 minutes until we answer `ok` (default true). */
  retry?: boolean;
  /** Turn the URL callback on (default true) or off. */
  enabled?: boolean;
}

/** Current settings with only the callback fields (and SMS itself) switched on. */
export function withSmsCallback(current: SetSmsParams, change: SmsCallbackChange): SetSmsParams {
  const enabled = change.enabled ?? true;
  return {
    ...current,
    enable: enabled ? '1' : (current.enable ?? '0'),
    url_callback_enable: enabled ? '1' : '0',
    url_callback: change.url,
    url_callback_retry: (change.retry ?? true) ? '1' : '0',
  };
}

/** Per changed parameter, old and new value; secrets masked. */
export function describeChanges(
  before: SetSmsParams,
  after: SetSmsParams,
): Record<string, { from: string | undefined; to: string }> {
  const changes: Record<string, { from: string | undefined; to: string }> = {};
  for (const [param, value] of Object.entries(after)) {
    if (before[param] === value) continue;
    const secret = SECRET_SMS_PARAMS.has(param);
    changes[param] = { from: secret ? '[secret]' : before[param], to: secret ? '[secret]' : value };
  }
  return changes;
}

/**
 * The callback URL to give VoIP.ms: our route, the shared `token`, and every placeholder VoIP.ms fills in.
 * Braces must stay literal or VoIP.ms will not substitute them.
 */
export function buildSmsCallbackUrl(webhookBaseUrl: string, token: string): string {
  const base = webhookBaseUrl.replace(/\/+$/, '');
  const placeholders = 'to={TO}&from={FROM}&message={MESSAGE}&id={ID}&date={TIMESTAMP}&media={MEDIA}';
  return `${base}/webhooks/voipms/sms/incoming?token=${encodeURIComponent(token)}&${placeholders}`;
}
