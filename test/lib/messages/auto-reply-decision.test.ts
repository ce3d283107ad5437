import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AutoReplyInput, decideAutoReply } from '../../../lib/messages/auto-reply.js';
import { DEFAULT_PRACTICE_SETTINGS, type PracticeSettings } from '../../../lib/practice/settings.js';

// The auto-reply decision in memory, rule by rule: what Twilio has already answered (OptOutType, or its own
// keywords under its default handling) is mirrored and never answered again; who is never answered at all;
// what an opted-out sender gets; and the office status the reply reads, even from settings it cannot read.
const PATIENT = '+14155550142';
const PRACTICE = '+14155550100';
const TUESDAY_OPEN = new Date('2025-06-10T14:00:00Z'); // 10:00 in New York
const SUNDAY = new Date('2025-06-08T14:00:00Z');

const settings = (overrides: Partial<PracticeSettings> = {}): PracticeSettings => ({
  ...DEFAULT_PRACTICE_SETTINGS,
  practiceName: 'Bright Smiles',
  emergencyLine: '(555) 010-9999',
  ...overrides,
});
const input = (overrides: Partial<AutoReplyInput> = {}): AutoReplyInput => ({
  provider: 'twilio',
  text: 'what time do you open?',
  fromNumber: PATIENT,
  toNumber: PRACTICE,
  settings: settings(),
  now: TUESDAY_OPEN,
  ...overrides,
});
const subscribed = (overrides: Partial<AutoReplyInput> = {}) => decideAutoReply(input(overrides)).subscribed;

describe('what Twilio has already answered is mirrored, never answered again', () => {
  it.each(['STOP', ' stop ', 'Stop'])('OptOutType %j: an opt-out, recorded, unanswered', (optOutType) => {
    expect(subscribed({ text: 'alto por favor', optOutType })).toMatchObject({
      intent: 'opt_out',
      opt_out: 'out',
      reply: null,
      keyword: 'STOP',
      confirmation: false,
    });
  });

  it('OptOutType START: an opt-in, recorded, unanswered; the single word sent is the keyword', () => {
    expect(subscribed({ text: 'Unstop', optOutType: 'START' })).toMatchObject({
      intent: 'opt_in',
      opt_out: 'in',
      reply: null,
      keyword: 'UNSTOP',
    });
  });

  it('OptOutType HELP on a text we would read otherwise (a keyword of the number’s own): still help, unanswered', () => {
    expect(subscribed({ text: 'what time do you open?', optOutType: 'help' })).toMatchObject({
      intent: 'help',
      reply: null,
      opt_out: null,
    });
  });

  it('OptOutType HELP: Twilio answered it, so we do not', () => {
    expect(subscribed({ text: 'help me please', optOutType: 'HELP' })).toMatchObject({
      intent: 'help',
      reply: null,
      opt_out: null,
    });
  });

  it('an OptOutType we do not know: Twilio dealt with it somehow, so no answer and no change', () => {
    expect(subscribed({ optOutType: 'RESUBSCRIBE' })).toMatchObject({
      intent: 'hours',
      reply: null,
      opt_out: null,
    });
  });

  it('a blank OptOutType is no OptOutType: the text is answered', () => {
    expect(subscribed({ optOutType: '  ' }).reply).toMatch(/open now/);
  });

  it.each([
    [' quit ', 'QUIT', 'out'],
    ['yes', 'YES', 'in'],
  ])('under Twilio’s default handling, its keyword %j is Twilio’s to confirm', (text, keyword, optOut) => {
    expect(subscribed({ text })).toMatchObject({ reply: null, opt_out: optOut, keyword });
  });

  it('settings that say nothing of the keyword handling mean Twilio’s default', () => {
    const choice = subscribed({ text: 'STOP', settings: settings({ twilioKeywordHandling: undefined }) });
    expect(choice).toMatchObject({ opt_out: 'out', reply: null });
  });

  it('with Advanced Opt-Out and no OptOutType, the keyword reached us unanswered: we confirm it', () => {
    const choice = subscribed({ text: 'STOP', settings: settings({ twilioKeywordHandling: 'advanced' }) });
    expect(choice).toMatchObject({
      opt_out: 'out',
      confirmation: true,
      reply: expect.stringMatching(/Bright Smiles/),
    });
  });

  it('an opt-out we confirm records the single word sent, in capitals, as its keyword', () => {
    expect(subscribed({ provider: 'voipms', text: ' alto ' })).toMatchObject({
      opt_out: 'out',
      keyword: 'ALTO',
    });
    expect(subscribed({ provider: 'voipms', text: 'please stop texting me' })).toMatchObject({
      opt_out: 'out',
      keyword: 'opt_out',
    });
  });

  it('VoIP.ms handles nothing itself: even a keyword Twilio would have confirmed, we confirm', () => {
    const choice = subscribed({ provider: 'voipms', text: 'STOP' });
    expect(choice).toMatchObject({ opt_out: 'out', confirmation: true, reply: expect.stringMatching(/\S/) });
  });
});

describe('who is never answered', () => {
  it.each([
    ['a short code', '72345'],
    ['an alphanumeric sender', 'BRIGHTSMILE'],
    ['the number it was sent to', PRACTICE],
  ])('%s', (_, fromNumber) => {
    expect(subscribed({ fromNumber }).reply).toBeNull();
    expect(subscribed({ fromNumber, text: 'please stop texting me' })).toMatchObject({
      opt_out: 'out',
      reply: null,
    });
  });

  it('one of the practice’s own lines', () => {
    const ownNumbers = [undefined, '+15145550000'];
    expect(subscribed({ fromNumber: '+15145550000', ownNumbers }).reply).toBeNull();
    expect(subscribed({ ownNumbers }).reply).toMatch(/open now/);
  });

  it('a patient who opted out gets no answer to a question, but an opt-in is still confirmed', () => {
    const { optedOut } = decideAutoReply(input());
    expect(optedOut.reply).toBeNull();
    expect(decideAutoReply(input({ provider: 'voipms', text: 'START' })).optedOut).toMatchObject({
      opt_out: 'in',
      reply: expect.stringMatching(/\S/),
    });
  });

  it('with auto-replies switched off, questions go unanswered but an opt-out is still confirmed', () => {
    const off = settings({ autoReplyEnabled: false });
    expect(subscribed({ settings: off }).reply).toBeNull();
    expect(subscribed({ settings: off, provider: 'voipms', text: 'STOP' }).reply).toMatch(/\S/);
  });
});

describe('the office status the reply reads', () => {
  afterEach(() => vi.useRealTimers());

  it('open or closed at the time given', () => {
    expect(subscribed({ now: TUESDAY_OPEN }).reply).toContain('We are open now until 5:00 PM.');
    expect(subscribed({ now: SUNDAY }).reply).toContain(
      'We are closed right now. We open again Mon 8:00 AM.',
    );
  });

  it('without a time given, the present one', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(SUNDAY);
    expect(subscribed({ now: undefined }).reply).toContain(
      'We are closed right now. We open again Mon 8:00 AM.',
    );
  });

  it('settings it cannot read count as closed, so an emergency gets the emergency line', () => {
    const reply = subscribed({
      text: 'my tooth is bleeding badly',
      settings: settings({ timezone: 'Not/AZone' }),
    }).reply;
    expect(reply).toContain('call (555) 010-9999 now');
    expect(reply).toContain('We are closed right now.');
  });
});
