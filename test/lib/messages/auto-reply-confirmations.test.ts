import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/twilio-sms-incoming.js';
import { clearAutoReplyRulesCache } from '../../../lib/autoreply/rules-store.js';
import { type AutoReplyInput, decideAutoReply } from '../../../lib/messages/auto-reply.js';
import {
  clearPracticeSettingsCache,
  DEFAULT_PRACTICE_SETTINGS,
  type TwilioKeywordHandling,
} from '../../../lib/practice/settings.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { parseXml, twilioSmsIncomingEvent } from '../../support/twilio.js';

const PATIENT = '+14155550142';
const PRACTICE = '+14155550100';

function input(
  provider: 'twilio' | 'voipms',
  text: string,
  handling: TwilioKeywordHandling,
  optOutType?: string,
): AutoReplyInput {
  return {
    provider,
    text,
    fromNumber: PATIENT,
    toNumber: PRACTICE,
    optOutType,
    settings: {
      ...DEFAULT_PRACTICE_SETTINGS,
      practiceName: 'Bright Smiles',
      officeLine: '(555) 010-2000',
      twilioKeywordHandling: handling,
    },
    now: new Date('2025-06-10T14:00:00Z'),
  };
}

const ENGLISH_CONFIRMATION = /unsubscribed from Bright Smiles/;
const SPANISH_CONFIRMATION = /Ya no recibirá mensajes de Bright Smiles/;

describe('opt-out and opt-in confirmations: exactly one, from whoever did not send it', () => {
  it.each([
    // Twilio's default handling confirms its own English keywords, and only those.
    ['twilio', 'default', 'STOP', undefined, null],
    ['twilio', 'default', ' unsubscribe ', undefined, null],
    ['twilio', 'default', 'STOP', 'STOP', null],
    ['twilio', 'default', 'please stop texting me', undefined, ENGLISH_CONFIRMATION],
    ['twilio', 'default', 'no me manden más mensajes', undefined, SPANISH_CONFIRMATION],
    ['twilio', 'default', 'PARAR', undefined, SPANISH_CONFIRMATION],
    // Advanced Opt-Out: OptOutType says what Twilio confirmed (its keyword list may hold Spanish words).
    ['twilio', 'advanced', 'STOP', 'STOP', null],
    ['twilio', 'advanced', 'PARAR', 'STOP', null],
    ['twilio', 'advanced', 'STOP', undefined, ENGLISH_CONFIRMATION],
    ['twilio', 'advanced', 'please stop texting me', undefined, ENGLISH_CONFIRMATION],
    ['twilio', 'advanced', 'dejen de mandarme mensajes', undefined, SPANISH_CONFIRMATION],
    // VoIP.ms confirms nothing: we always do, whatever the Twilio setting.
    ['voipms', 'default', 'STOP', undefined, ENGLISH_CONFIRMATION],
    ['voipms', 'advanced', 'please stop texting me', undefined, ENGLISH_CONFIRMATION],
    ['voipms', 'default', 'ya no quiero recibir mensajes', undefined, SPANISH_CONFIRMATION],
  ] as const)(
    '%s (%s handling) "%s" OptOutType=%s -> %s',
    (provider, handling, text, optOutType, expected) => {
      // Act
      const decision = decideAutoReply(input(provider, text, handling, optOutType));
      // Assess: both opt-out states record the stop; the confirmation is ours only where Twilio sent none
      for (const choice of [decision.subscribed, decision.optedOut]) {
        expect(choice.intent).toBe('opt_out');
        expect(choice.opt_out).toBe('out');
        if (expected === null) expect(choice.reply).toBeNull();
        else {
          expect(choice.reply).toMatch(expected);
          expect(choice.confirmation).toBe(true);
        }
      }
    },
  );

  it.each([
    ['twilio', 'default', 'START', undefined, null],
    ['twilio', 'default', 'unstop', undefined, null],
    [
      'twilio',
      'default',
      'I want to get your texts again',
      undefined,
      /subscribed to Bright Smiles texts again/,
    ],
    ['twilio', 'default', 'quiero recibir mensajes otra vez', undefined, /suscrito de nuevo/],
    ['twilio', 'advanced', 'START', 'START', null],
    ['twilio', 'advanced', 'START', undefined, /subscribed to Bright Smiles texts again/],
    ['voipms', 'default', 'START', undefined, /subscribed to Bright Smiles texts again/],
    ['voipms', 'default', 'COMENZAR', undefined, /suscrito de nuevo/],
  ] as const)(
    '%s (%s handling) "%s" OptOutType=%s opts in -> %s',
    (provider, handling, text, optOutType, expected) => {
      // Act: a sender who had opted out
      const choice = decideAutoReply(input(provider, text, handling, optOutType)).optedOut;
      // Assess
      expect(choice.intent).toBe('opt_in');
      expect(choice.opt_out).toBe('in');
      if (expected === null) expect(choice.reply).toBeNull();
      else expect(choice.reply).toMatch(expected);
    },
  );

  it('mirrors a bare YES after an opt-out as Twilio’s own opt-in under its default handling', () => {
    // Act
    const twilio = decideAutoReply(input('twilio', 'YES', 'default')).optedOut;
    const voipms = decideAutoReply(input('voipms', 'YES', 'default')).optedOut;
    // Assess
    expect(twilio).toMatchObject({ intent: 'opt_in', opt_out: 'in', reply: null });
    expect(voipms).toMatchObject({ intent: 'opt_in', opt_out: 'in', confirmation: true });
    expect(voipms.reply).toMatch(/subscribed/);
  });
});

describe('HELP and INFO: answered only when Twilio does not', () => {
  it.each([
    ['twilio', 'default', 'HELP', undefined, null],
    ['twilio', 'default', 'info', undefined, null],
    ['twilio', 'advanced', 'HELP', 'HELP', null],
    ['twilio', 'advanced', 'HELP', undefined, /Bright Smiles: for help call \(555\) 010-2000/],
    ['twilio', 'default', 'AYUDA', undefined, /Bright Smiles: para ayuda llame al \(555\) 010-2000/],
    ['twilio', 'default', 'who is this?', undefined, /for help call/],
    ['voipms', 'default', 'HELP', undefined, /for help call/],
    ['voipms', 'advanced', 'ayuda', undefined, /para ayuda/],
  ] as const)(
    '%s (%s handling) "%s" OptOutType=%s -> %s',
    (provider, handling, text, optOutType, expected) => {
      // Act
      const choice = decideAutoReply(input(provider, text, handling, optOutType)).subscribed;
      // Assess
      expect(choice.intent).toBe('help');
      expect(choice.opt_out).toBeNull();
      if (expected === null) expect(choice.reply).toBeNull();
      else expect(choice.reply).toMatch(expected);
    },
  );
});

describe('confirmations through the Twilio webhook', () => {
  const testDb = useTestDb();

  beforeEach(() => {
    useConfig();
    clearPracticeSettingsCache();
    clearAutoReplyRulesCache();
  });

  async function text(body: string, extra: Record<string, string> = {}): Promise<string | null> {
    const response = await invoke(handler, twilioSmsIncomingEvent({ Body: body, From: PATIENT, ...extra }));
    expect(response.statusCode).toBe(200);
    return parseXml(response.body).children.find((child) => child.name === 'Message')?.text ?? null;
  }

  it('confirms a Spanish plain-language stop once, and the English keyword not at all', async () => {
    // Act
    const first = await text('por favor no me manden más mensajes');
    const again = await text('no me manden más mensajes');
    const optOuts = await testDb.db.query('SELECT count(*)::int AS n FROM opt_outs');
    // Assess
    expect(first).toMatch(/Ya no recibirá mensajes/);
    expect(again).toBeNull();
    expect(optOuts.rows).toEqual([{ n: 1 }]);
    // Prepare / Act: back in by Twilio's keyword (Twilio confirms), out again by its keyword
    expect(await text('START')).toBeNull();
    expect(await text('STOP')).toBeNull();
  });

  it('answers HELP only on a number with Advanced Opt-Out that did not handle it', async () => {
    // Act / Assess: default handling, Twilio answers HELP
    expect(await text('HELP')).toBeNull();
    // Prepare
    await testDb.db.query(`UPDATE voip_settings SET twilio_keyword_handling = 'advanced'`);
    clearPracticeSettingsCache();
    // Act / Assess
    expect(await text('HELP', { OptOutType: 'HELP' })).toBeNull();
    expect(await text('INFO')).toMatch(/help/i);
  });
});
