import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for VoIP.ms `rest.php`, built from the reference response shapes
 * (voipms-api-responses.json) and status list (voipms-api-statuses.json). Every VoIP.ms answer is
 * HTTP 200 with a JSON `status`; errors are `{"status": "<code>"}`.
 *
 * As strict as the service where our code depends on it: a text is sent only from a DID of this account
 * (`invalid_did` otherwise) with SMS enabled (`sms_failed` otherwise), at most 160 characters for sendSMS
 * (code points; `sms_toolong` beyond), and the recording methods require `account` (`missing_account`),
 * as their documentation marks it required. Statuses per method, as each method documents its parameters:
 * - sendSMS / sendMMS: missing_did, invalid_did, sms_failed, invalid_dst, missing_sms, message_empty,
 *   sms_toolong.
 * - getCDR: missing_from_date, missing_to_date, missing_timezone, invalid_timezone, invalid_date,
 *   invalid_date_from, invalid_daterange, no_cdr.
 * - getCallRecordings: missing_account, missing_from_date, missing_to_date, invalid_date, invalid_date_from,
 *   invalid_daterange, no_recording.
 * - getCallRecording / delCallRecording: missing_account, missing_callrecording, invalid_callrecording.
 * - getDIDsInfo: invalid_did, no_did. setSMS: missing_did, missing_enable, invalid_did, flag statuses.
 * - getSMS: no_sms (nothing matched). Each sent text carries its `carrier_status`.
 * (Which status VoIP.ms picks for a DID without SMS is not documented; sms_failed is our reading.)
 */

/** Every status VoIP.ms documents (copied from voipms-api-statuses.json, version 1). */
export const VOIPMS_STATUSES: readonly string[] = `
account_with_dids api_limit_exceeded api_not_enabled cancel_failed
can_have_only_one_profile_without_pin conference_member_relation_not_found did_in_use
did_limit_reached duplicated_name duplicated_pin e911_disabled e911_pending error_deleting_msg
error_moving_msg exceeds_file_size existing_did forwards_exceeded invalid_account invalid_address
invalid_admin invalid_agent_ring_timeout invalid_allowedcodecs invalid_announce_join_leave
invalid_announce_only_user invalid_announce_position_frequency invalid_announce_round_seconds
invalid_announce_user_count invalid_area_code invalid_attachid invalid_attachmessage
invalid_attach_file invalid_authtype invalid_authtype_h323 invalid_authtype_iax2
invalid_balancemanagement invalid_base_recording invalid_billingtype invalid_callback
invalid_callback_enable invalid_callback_retry invalid_callerid invalid_calleridprefix
invalid_callerid_override invalid_callhunting invalid_callparking invalid_callrecording
invalid_call_type invalid_canada_routing invalid_carrier invalid_charge invalid_city invalid_client
invalid_cnam invalid_codec invalid_conference invalid_contact invalid_country invalid_countryid
invalid_credentials invalid_date invalid_daterange invalid_datetime invalid_date_from
invalid_dayrange invalid_delay_before invalid_deletemessage invalid_description invalid_destination
invalid_destination_folder invalid_devicetype invalid_dialtime invalid_did invalid_digits
invalid_digit_timeout invalid_disa invalid_diversion_header invalid_drop_silence invalid_dst
invalid_dtmfmode invalid_dtmf_digits invalid_email invalid_email_attachment_format
invalid_email_enable invalid_enable_ip_restriction invalid_enable_pop_restriction invalid_endhour
invalid_endminute invalid_extension invalid_extensions invalid_extension_length
invalid_extension_prefix invalid_failover_header invalid_fax_id invalid_file invalid_filter
invalid_firstname invalid_foc_enddate invalid_foc_startdate invalid_folder invalid_folder_id
invalid_forwarding invalid_forwarding_did invalid_forward_enable invalid_frequency_announcement
invalid_from_number invalid_fullname invalid_id invalid_if_announce_position_enabled_report_e
invalid_internaldialtime invalid_internalvoicemail invalid_internationalroute invalid_invoice_type
invalid_ip invalid_ip_auth invalid_ip_iax2 invalid_ivr invalid_jitter_buffer
invalid_join_announcement invalid_join_empty_type invalid_language invalid_lastname invalid_listened
invalid_location invalid_lockinternational invalid_mailbox invalid_maximum_callers
invalid_maximum_wait_time invalid_max_expiry invalid_member invalid_member_delay invalid_message_num
invalid_method invalid_minute invalid_mixed_numbers invalid_monthly invalid_musiconhold invalid_name
invalid_nat invalid_note invalid_number invalid_numbermembers invalid_number_canadian
invalid_number_exist invalid_number_fax invalid_number_porttype invalid_number_us invalid_order
invalid_package invalid_password invalid_password_auth invalid_password_ilegal_characters
invalid_password_lessthan_8characters_long invalid_password_missing_lowercase
invalid_password_missing_number invalid_password_missing_uppercase invalid_pause invalid_payment
invalid_phonebook invalid_phonenumber invalid_pin invalid_pin_number invalid_playinstructions
invalid_pop_restriction invalid_portingid invalid_porttype invalid_port_status invalid_priority
invalid_priority_weight invalid_protocol invalid_provider_account invalid_provider_name
invalid_province invalid_quantity invalid_query invalid_queue invalid_quiet invalid_recording
invalid_recording_sound_error_menu invalid_recording_sound_get_pin
invalid_recording_sound_has_joined invalid_recording_sound_has_left
invalid_recording_sound_invalid_pin invalid_recording_sound_join invalid_recording_sound_kicked
invalid_recording_sound_leave invalid_recording_sound_locked invalid_recording_sound_locked_now
invalid_recording_sound_muted invalid_recording_sound_only_one invalid_recording_sound_only_person
invalid_recording_sound_other_in_party invalid_recording_sound_participants_muted
invalid_recording_sound_participants_unmuted invalid_recording_sound_place_into_conference
invalid_recording_sound_there_are invalid_recording_sound_unlocked_now
invalid_recording_sound_unmuted invalid_record_calls invalid_report_hold_time_agent
invalid_resellerclient invalid_resellernextbilling invalid_resellerpackage invalid_response_timeout
invalid_retry_timer invalid_ringgroup invalid_ring_inuse invalid_route invalid_routing_header
invalid_rtp_hold_timeout invalid_rtp_timeout invalid_saycallerid invalid_saytime
invalid_security_code invalid_serverpop invalid_setup invalid_silence_threshold invalid_sipuri
invalid_sip_traffic invalid_skippassword invalid_smpp_password invalid_smpp_url
invalid_smpp_username invalid_sms invalid_sms_forward invalid_snn invalid_speed_dial
invalid_starthour invalid_startminute invalid_start_muted invalid_state invalid_statement_name
invalid_strategy invalid_street_name invalid_street_number invalid_talking_threshold
invalid_talk_detection invalid_tfnumber_porttype invalid_thankyou_for_your_patience
Invalid_threshold invalid_timecondition invalid_timeout invalid_timerange invalid_timezone
invalid_to_number invalid_transcription_email invalid_transcription_format
invalid_transcription_locale invalid_transcription_redaction invalid_transcription_sentiment
invalid_transcription_summary invalid_type invalid_urgent invalid_username invalid_voicemailsetup
invalid_voice_announcement invalid_weekdayend invalid_weekdaystart invalid_wrapup_time invalid_zip
ip_not_enabled limit_reached location_already_exists location_linked_to_subaccount
location_not_found max_phonebook members_exceeded member_already_included message_empty
message_not_found method_maintenance mismatch_email_confirm mismatch_password_confirm
missing_account missing_address missing_agent_ring_timeout missing_allowedcodecs
missing_attachmessage missing_authtype missing_balancemanagement missing_billingtype
missing_callback missing_callerid missing_callhunting missing_callparking missing_callrecording
missing_carrier missing_charge missing_choices missing_city missing_client missing_cnam
missing_codec missing_conference missing_country missing_countryid missing_credentials
missing_datetime missing_delay_before missing_deletemessage missing_description missing_devicetype
missing_dialtime missing_did missing_digits missing_digit_timeout missing_disa missing_dtmfmode
missing_email missing_email_confirm missing_enable missing_endhour missing_endminute
missing_failover_busy missing_failover_noanswer missing_failover_unreachable missing_file
missing_filter missing_firstname missing_folder missing_forwarding missing_from_date
missing_fullname missing_id missing_if_announce_position_enabled_report_e missing_internationalroute
missing_ip missing_ip_h323 missing_ip_restriction missing_ivr missing_join_when_empty
missing_language missing_lastname missing_leave_when_empty missing_length missing_listened
missing_location missing_location_name missing_lockinternational missing_mailbox missing_member
missing_members missing_message_num missing_method missing_minute missing_monthly
missing_musiconhold missing_name missing_nat missing_number missing_numbers missing_package
missing_params missing_password missing_password_confirm missing_payment missing_phonebook
missing_phonenumber missing_pin missing_playinstructions missing_pop_restriction missing_priority
missing_priority_weight missing_protocol missing_province missing_query missing_recording
missing_report_hold_time_agent missing_resellerclient missing_resellerpackage
missing_response_timeout missing_ringgroup missing_ring_inuse missing_ring_strategy missing_route
missing_routing missing_saycallerid missing_saytime missing_serverpop missing_setup missing_sipuri
missing_skippassword missing_sms missing_speed_dial missing_start missing_starthour
missing_startminute missing_state missing_street_name missing_street_number
missing_thankyou_for_your_patience missing_timecondition missing_timeout missing_timezone
missing_to_date missing_transcription_email missing_transcription_locale missing_type missing_urgent
missing_uri missing_username missing_voicemailsetup missing_weekdayend missing_weekdaystart
missing_zip moving_fail name_toolong non_sufficient_funds note_toolong no_account no_attachments
no_base64file no_callback no_callhunting no_callparking no_callstatus no_cdr no_change_billingtype
no_client no_conference no_did no_disa no_emailtofax no_filter no_folder no_forwarding no_ivr
no_mailbox no_member no_message no_messages no_numbers no_package no_phonebook no_phonebook_group
no_provision no_provision_update no_queue no_rate no_recording no_ringgroup no_sequences no_sipuri
no_sms no_timecondition no_transactions no_vpri order_failed problem_sending_mail
provider_outofservice recording_in_use_caller_id_filtering recording_in_use_caller_timecondition
recording_in_use_did recording_in_use_ivr recording_in_use_queue repeated_ip reserved_ip
rtp_timeout_greater_than_rtp_hold_timeout same_did_billingtype sent_fail sipuri_in_phonebook
sms_apply_regulations sms_failed sms_toolong sms_wait_message tls_error Unable_to_purchase
unavailable_info unsifficient_stock used_description used_email used_extension
used_extension_in_location used_filter used_ip used_name used_number used_password used_speed_dial
used_username weak_password
`
  .trim()
  .split(/\s+/);

export interface FakeVoipmsCall {
  method: string;
  /** Request parameters without the credentials. */
  params: Record<string, string>;
  httpMethod: 'GET' | 'POST';
  /** Whether the password was carried in the URL (GET) rather than the body. */
  passwordInUrl: boolean;
}

/** A call record to seed; `startedAt` is the UTC instant, rendered at the requested `timezone`. */
export interface FakeCdrSeed {
  startedAt: Date;
  callerid: string;
  destination: string;
  description: string;
  disposition: 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED';
  seconds: number;
  uniqueid: string;
  account?: string;
  rate?: string;
  total?: string;
}

export interface FakeRecordingSeed {
  id: string;
  /** Wall-clock text as VoIP.ms writes it, `YYYY-MM-DD HH:MM:SS`. */
  datetime: string;
  mp3: Buffer;
  account?: string;
  destination?: string;
  type?: 'Incoming' | 'Outgoing';
  duration?: string;
}

export interface FakeSentMessage {
  kind: 'sms' | 'mms';
  id: string;
  did: string;
  dst: string;
  message: string;
  media: string[];
  /** When VoIP.ms took it (getSMS lists it with this date, UTC when asked with timezone 0). */
  at?: Date;
  /** What getSMS reports as `carrier_status`; VoIP.ms's "Information not available" until set. */
  carrierStatus?: string;
}

type Behaviour =
  | { kind: 'pass' }
  | { kind: 'status'; status: string }
  | { kind: 'drop' }
  | { kind: 'lose' }
  | { kind: 'http'; code: number }
  | { kind: 'delay'; ms: number };

export interface FakeVoipms {
  /** The `rest.php` URL to give the client. */
  url: string;
  username: string;
  password: string;
  calls: FakeVoipmsCall[];
  sent: FakeSentMessage[];
  callsTo(method: string): FakeVoipmsCall[];
  /** Answer `status` (a documented VoIP.ms code) to `times` calls of `method`, after `after` normal ones. */
  failWith(method: string, status: string, times?: number, after?: number): void;
  /** `api_limit_exceeded` `times` times, then normal answers. */
  limitExceeded(method: string, times: number): void;
  /** Destroy the socket without an answer. */
  dropConnection(method: string, times?: number): void;
  /** Act on the request (a text is really sent), then destroy the socket: the caller never learns it went. */
  loseAnswer(method: string, times?: number): void;
  httpError(method: string, code: number, times?: number): void;
  /** Wait before answering (for client timeouts). */
  delay(method: string, ms: number, times?: number): void;
  /** Answer one-row lists of `method` as a bare object, as VoIP.ms sometimes does. */
  bareObjects(method: string, on?: boolean): void;
  /** Return base64 recordings the way VoIP.ms's samples show them (quoted, `\/`-escaped, spaced). */
  quirkyBase64(on?: boolean): void;
  seedCdr(...records: FakeCdrSeed[]): void;
  seedRecording(...recordings: FakeRecordingSeed[]): void;
  /** Texts VoIP.ms lists as sent (type 0) without our having sent them: another DID's, another tool's. */
  seedSent(...messages: FakeSentMessage[]): void;
  /** The `carrier_status` getSMS reports from now on for the sent message `id` (throws if there is none). */
  setCarrierStatus(id: string, carrierStatus: string): void;
  /** Add or replace a DID (fields as getDIDsInfo reports them). */
  seedDid(did: string, fields?: Record<string, string>): void;
  did(did: string): Record<string, string> | undefined;
  close(): Promise<void>;
}

export interface FakeVoipmsOptions {
  username?: string;
  password?: string;
  /** The DIDs on the account (SMS enabled); default the documentation's sample DID 5551234567. */
  dids?: string[];
  /** The main account number; sub-accounts are `<account>_<name>`. Default 100000. */
  account?: string;
}

/** getDIDsInfo's documented fields with their sample values (SMS settings filled in). */
export function fakeDidRecord(did: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    did,
    description: 'MIAMI, FL',
    routing: 'account:100001_VoIP',
    failover_busy: 'none:',
    failover_unreachable: 'fwd:1521',
    failover_noanswer: 'none:',
    voicemail: '1001',
    pop: '16',
    dialtime: '60',
    cnam: '1',
    e911: '0',
    callerid_prefix: 'MIA [555]',
    note: 'MIA [555]',
    port_out_pin: '1234',
    billing_type: '2',
    next_billing: '2014-08-30',
    order_date: '2014-07-30 15:09:04',
    reseller_account: '',
    reseller_next_billing: '',
    reseller_monthly: '0.00000000',
    reseller_minute: '0.00000000',
    reseller_setup: '0.00000000',
    sms_available: '1',
    sms_enabled: '1',
    sms_email: 'front-desk@example.com',
    sms_email_enabled: '1',
    sms_forward: '5559876543',
    sms_forward_enabled: '1',
    sms_url_callback: '',
    sms_url_callback_enabled: '0',
    sms_url_callback_retry: '0',
    smpp_enabled: '0',
    smpp_url: '',
    smpp_user: '',
    smpp_pass: '',
    transcribe: '0',
    transcription_locale: 'en-US',
    transcription_redaction: 'no',
    transcription_summary: 'no',
    transcription_sentiment: 'no',
    transcription_email: '',
    ...overrides,
  };
}

/** setSMS parameter → getDIDsInfo field. Parameters left out are cleared, as VoIP.ms does. */
const SET_SMS_FIELDS: Record<string, string> = {
  enable: 'sms_enabled',
  email_enabled: 'sms_email_enabled',
  email_address: 'sms_email',
  sms_forward_enable: 'sms_forward_enabled',
  sms_forward: 'sms_forward',
  url_callback_enable: 'sms_url_callback_enabled',
  url_callback: 'sms_url_callback',
  url_callback_retry: 'sms_url_callback_retry',
  smpp_enabled: 'smpp_enabled',
  smpp_url: 'smpp_url',
  smpp_user: 'smpp_user',
  smpp_pass: 'smpp_pass',
};
const FLAG_STATUSES: Record<string, string> = {
  enable: 'invalid_sms',
  email_enabled: 'invalid_email_enable',
  sms_forward_enable: 'invalid_forward_enable',
  url_callback_enable: 'invalid_callback_enable',
  url_callback_retry: 'invalid_callback_retry',
  smpp_enabled: 'invalid_sms',
};
const FLAG_FIELDS = new Set(Object.keys(FLAG_STATUSES));

/** List fields per method, for the bare-object quirk. */
const LIST_FIELDS: Record<string, string> = {
  getCDR: 'cdr',
  getCallRecordings: 'recordings',
  getDIDsInfo: 'dids',
  getSMS: 'sms',
};

/** Thrown inside a handler to answer `{"status": code}`; only documented codes are allowed. */
class StatusAnswer extends Error {
  constructor(readonly status: string) {
    super(status);
    if (!VOIPMS_STATUSES.includes(status)) throw new Error(`fake answered undocumented status "${status}"`);
  }
}

export async function startFakeVoipms(options: FakeVoipmsOptions = {}): Promise<FakeVoipms> {
  const username = options.username ?? 'api-user@example.com';
  const password = options.password ?? 'S3cr3t&Pass=word+1';
  const calls: FakeVoipmsCall[] = [];
  const sent: FakeSentMessage[] = [];
  const behaviours = new Map<string, Behaviour[]>();
  const bare = new Set<string>();
  let quirky = false;
  const cdrs: FakeCdrSeed[] = [];
  const recordings: FakeRecordingSeed[] = [];
  const mainAccount = options.account ?? '100000';
  const dids = new Map<string, Record<string, string>>(
    (options.dids ?? ['5551234567']).map((did) => [did, fakeDidRecord(did)]),
  );
  /** The sending DID must be this account's and able to text. */
  const senderDid = (did: string): void => {
    if (!/^\d{10}$/.test(did)) throw new StatusAnswer('invalid_did');
    const info = dids.get(did);
    if (!info) throw new StatusAnswer('invalid_did');
    if (info.sms_available === '0' || info.sms_enabled !== '1') throw new StatusAnswer('sms_failed');
  };
  /** An account parameter names the main account or one of its sub-accounts. */
  const ownAccount = (account: string): boolean =>
    account === mainAccount || account.startsWith(`${mainAccount}_`);
  /** A recording is reachable through its own (sub-)account or the main account. */
  const recordingFor = (account: string, id: string): FakeRecordingSeed | undefined =>
    recordings.find(
      (r) => r.id === id && ((r.account ?? mainAccount) === account || account === mainAccount),
    );
  let nextId = 23434;

  const queue = (method: string, behaviour: Behaviour, times: number): void => {
    const list = behaviours.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(behaviour);
    behaviours.set(method, list);
  };
  const knownStatus = (status: string): void => {
    if (!VOIPMS_STATUSES.includes(status)) throw new Error(`"${status}" is not a documented VoIP.ms status`);
  };

  const handlers: Record<string, (p: Record<string, string>) => Record<string, unknown>> = {
    sendSMS: (p) => {
      const { did, dst, message } = requireParams(p, {
        did: 'missing_did',
        dst: 'invalid_dst',
        message: 'missing_sms',
      });
      senderDid(did);
      if (!/^\d{10}$/.test(dst)) throw new StatusAnswer('invalid_dst');
      // "max chars: 160": characters (code points), whatever their UTF-8 size.
      if ([...message].length > 160) throw new StatusAnswer('sms_toolong');
      const id = String(nextId++);
      sent.push({ kind: 'sms', id, did, dst, message, media: [], at: new Date() });
      return { status: 'success', sms: id };
    },
    sendMMS: (p) => {
      const { did, dst } = requireParams(p, { did: 'missing_did', dst: 'invalid_dst' });
      const message = p.message ?? '';
      senderDid(did);
      if (!/^\d{10}$/.test(dst)) throw new StatusAnswer('invalid_dst');
      if ([...message].length > 2048) throw new StatusAnswer('sms_toolong');
      const media = ['media1', 'media2', 'media3'].map((k) => p[k]).filter((v): v is string => Boolean(v));
      if (!message && media.length === 0) throw new StatusAnswer('message_empty');
      const id = String(nextId++);
      sent.push({ kind: 'mms', id, did, dst, message, media, at: new Date() });
      return { status: 'success', mms: id };
    },
    getSMS: (p) => {
      // Sent texts (type 0) between two days, by DID and contact, dates in UTC (timezone 0); at most `limit`
      // rows (documented default 50), as VoIP.ms has no paging for this method.
      const day = (date: Date) => date.toISOString().slice(0, 10);
      const limit = p.limit === undefined ? 50 : Number(p.limit);
      const listed = sent
        .filter((m) => m.kind === 'sms' && p.type === '0')
        .filter((m) => (!p.did || m.did === p.did) && (!p.contact || m.dst === p.contact))
        .filter((m) => (!p.from || day(m.at!) >= p.from) && (!p.to || day(m.at!) <= p.to))
        .map((m) => ({
          id: m.id,
          date: m.at!.toISOString().slice(0, 19).replace('T', ' '),
          type: '0',
          did: m.did,
          contact: m.dst,
          message: m.message,
          carrier_status: m.carrierStatus ?? 'Information not available',
        }))
        .slice(0, limit);
      if (listed.length === 0) throw new StatusAnswer('no_sms');
      return { status: 'success', sms: listed };
    },
    getCDR: (p) => {
      const { date_from: from, date_to: to } = requireParams(p, {
        date_from: 'missing_from_date',
        date_to: 'missing_to_date',
        timezone: 'missing_timezone',
      });
      const tz = Number(p.timezone);
      if (!Number.isFinite(tz) || tz < -12 || tz > 13) throw new StatusAnswer('invalid_timezone');
      checkRange(from, to);
      const wanted: Record<string, string | undefined> = {
        ANSWERED: p.answered,
        'NO ANSWER': p.noanswer,
        BUSY: p.busy,
        FAILED: p.failed,
      };
      const rows = cdrs
        .map((seed) => ({ seed, local: new Date(seed.startedAt.getTime() + tz * 3_600_000).toISOString() }))
        .filter(
          ({ seed, local }) =>
            wanted[seed.disposition] === '1' && local.slice(0, 10) >= from && local.slice(0, 10) <= to,
        )
        .filter(({ seed }) => !p.account || seed.account === p.account)
        .map(({ seed, local }) => ({
          date: `${local.slice(0, 10)} ${local.slice(11, 19)}`,
          callerid: seed.callerid,
          destination: seed.destination,
          description: seed.description,
          account: seed.account ?? '100000_VoIP',
          disposition: seed.disposition,
          duration: clock(seed.seconds),
          seconds: String(seed.seconds),
          rate: seed.rate ?? '0.00000000',
          total: seed.total ?? '0.00000000',
          uniqueid: seed.uniqueid,
          destination_type: 'IN:USA',
          call_logs: `Call logs for UniqueID: ${seed.uniqueid}`,
        }));
      if (rows.length === 0) throw new StatusAnswer('no_cdr');
      return { status: 'success', cdr: rows };
    },
    getCallRecordings: (p) => {
      const {
        account,
        date_from: from,
        date_to: to,
      } = requireParams(p, {
        account: 'missing_account',
        date_from: 'missing_from_date',
        date_to: 'missing_to_date',
      });
      if (!ownAccount(account)) throw new StatusAnswer('invalid_account');
      checkRange(from, to);
      const start = Number(p.start ?? 0);
      const length = Number(p.length ?? 1000);
      const rows = recordings
        .filter((r) => r.datetime.slice(0, 10) >= from && r.datetime.slice(0, 10) <= to)
        .filter((r) => account === mainAccount || (r.account ?? mainAccount) === account)
        .slice(start, start + length)
        .map((r) => ({
          callrecording: r.id,
          datetime: r.datetime,
          destination: r.destination ?? '5551234567',
          type: r.type ?? 'Incoming',
          subaccount: r.account ?? mainAccount,
          duration: r.duration ?? '00:26',
        }));
      if (rows.length === 0) throw new StatusAnswer('no_recording');
      return { status: 'success', recordings: rows };
    },
    getCallRecording: (p) => {
      const { account, callrecording } = requireParams(p, {
        account: 'missing_account',
        callrecording: 'missing_callrecording',
      });
      const r = recordingFor(account, callrecording);
      if (!r) throw new StatusAnswer('invalid_callrecording');
      const b64 = r.mp3.toString('base64');
      const base64file = quirky ? `"${b64.replace(/\//g, '\\/').replace(/(.{60})/g, '$1 ')}"` : b64;
      return {
        status: 'success',
        callrecording: r.id,
        datetime: r.datetime,
        destination: r.destination ?? '5551234567',
        type: r.type ?? 'Incoming',
        subaccount: r.account ?? mainAccount,
        duration: r.duration ?? '00:26',
        base64file,
      };
    },
    delCallRecording: (p) => {
      const { account, callrecording } = requireParams(p, {
        account: 'missing_account',
        callrecording: 'missing_callrecording',
      });
      const r = recordingFor(account, callrecording);
      if (!r) throw new StatusAnswer('invalid_callrecording');
      recordings.splice(recordings.indexOf(r), 1);
      return { status: 'success' };
    },
    getDIDsInfo: (p) => {
      if (p.did) {
        const info = dids.get(p.did);
        if (!info) throw new StatusAnswer('invalid_did');
        return { status: 'success', dids: [{ ...info }] };
      }
      if (dids.size === 0) throw new StatusAnswer('no_did');
      return { status: 'success', dids: [...dids.values()].map((d) => ({ ...d })) };
    },
    setSMS: (p) => {
      const { did } = requireParams(p, { did: 'missing_did', enable: 'missing_enable' });
      const info = dids.get(did);
      if (!info) throw new StatusAnswer('invalid_did');
      for (const name of FLAG_FIELDS) {
        if (p[name] !== undefined && p[name] !== '0' && p[name] !== '1') {
          throw new StatusAnswer(FLAG_STATUSES[name] ?? 'invalid_sms');
        }
      }
      // VoIP.ms replaces the whole SMS configuration: whatever is not sent is cleared.
      for (const [param, fieldName] of Object.entries(SET_SMS_FIELDS)) {
        info[fieldName] = p[param] ?? (FLAG_FIELDS.has(param) ? '0' : '');
      }
      return { status: 'success' };
    },
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let params = Object.fromEntries(url.searchParams);
    let httpMethod: 'GET' | 'POST' = 'GET';
    if (req.method === 'POST') {
      httpMethod = 'POST';
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      params = {
        ...params,
        ...Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      };
    }
    if (url.pathname !== '/api/v1/rest.php' || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404).end();
      return;
    }
    const { api_username: user, api_password: pass, method = '', ...rest } = params;
    calls.push({ method, params: rest, httpMethod, passwordInUrl: url.searchParams.has('api_password') });

    const behaviour = behaviours.get(method)?.shift();
    if (behaviour?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (behaviour?.kind === 'http') {
      res.writeHead(behaviour.code, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>');
      return;
    }
    if (behaviour?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, behaviour.ms));

    let body: Record<string, unknown>;
    if (!user || !pass) body = { status: 'missing_credentials' };
    else if (user !== username || pass !== password) body = { status: 'invalid_credentials' };
    else if (!method) body = { status: 'missing_method' };
    else if (behaviour?.kind === 'status') body = { status: behaviour.status };
    else {
      const handler = handlers[method];
      if (!handler) body = { status: 'invalid_method' };
      else {
        try {
          body = handler(rest);
        } catch (error) {
          if (!(error instanceof StatusAnswer)) throw error;
          body = { status: error.status };
        }
        const listField = LIST_FIELDS[method];
        const list = listField ? body[listField] : undefined;
        if (listField && bare.has(method) && Array.isArray(list) && list.length === 1)
          body[listField] = list[0];
      }
    }
    if (res.destroyed) return;
    if (behaviour?.kind === 'lose') {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    answer(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/v1/rest.php`,
    username,
    password,
    calls,
    sent,
    callsTo: (method) => calls.filter((call) => call.method === method),
    failWith: (method, status, times = 1, after = 0) => {
      knownStatus(status);
      queue(method, { kind: 'pass' }, after);
      queue(method, { kind: 'status', status }, times);
    },
    limitExceeded: (method, times) => queue(method, { kind: 'status', status: 'api_limit_exceeded' }, times),
    dropConnection: (method, times = 1) => queue(method, { kind: 'drop' }, times),
    loseAnswer: (method, times = 1) => queue(method, { kind: 'lose' }, times),
    httpError: (method, code, times = 1) => queue(method, { kind: 'http', code }, times),
    delay: (method, ms, times = 1) => queue(method, { kind: 'delay', ms }, times),
    bareObjects: (method, on = true) => {
      if (on) bare.add(method);
      else bare.delete(method);
    },
    quirkyBase64: (on = true) => {
      quirky = on;
    },
    seedCdr: (...records) => {
      cdrs.push(...records);
    },
    seedRecording: (...items) => {
      recordings.push(...items);
    },
    seedSent: (...messages) => {
      sent.push(...messages.map((m) => ({ ...m, at: m.at ?? new Date() })));
    },
    setCarrierStatus: (id, carrierStatus) => {
      const message = sent.find((m) => m.id === id);
      if (!message) throw new Error(`fake has no sent message ${id}`);
      message.carrierStatus = carrierStatus;
    },
    seedDid: (did, fields = {}) => {
      dids.set(did, fakeDidRecord(did, fields));
    },
    did: (did) => dids.get(did),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function requireParams<K extends string>(
  params: Record<string, string>,
  required: Record<K, string>,
): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const [name, status] of Object.entries(required) as [K, string][]) {
    const value = params[name];
    if (value === undefined || value === '') throw new StatusAnswer(status);
    out[name] = value;
  }
  return out;
}

function checkRange(from: string, to: string): void {
  const a = Date.parse(from);
  const b = Date.parse(to);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || Number.isNaN(a)) throw new StatusAnswer('invalid_date');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(to) || Number.isNaN(b)) throw new StatusAnswer('invalid_date');
  if (b < a) throw new StatusAnswer('invalid_date_from');
  if ((b - a) / 86_400_000 > 92) throw new StatusAnswer('invalid_daterange');
}

function clock(seconds: number): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}
