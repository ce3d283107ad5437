import { describe, expect, it } from 'vitest';
import { INTENTS } from '../../../lib/autoreply/lexicon.js';
import {
  composeReply,
  fillTemplate,
  MAX_REPLY_LENGTH,
  type ReplyContext,
} from '../../../lib/autoreply/replies.js';
import { officeStatus } from '../../../lib/practice/hours.js';
import { intentRule, officeSettings } from './factories.js';

const TUESDAY_10AM = new Date('2025-06-10T14:00:00Z'); // 10:00 EDT, open until 17:00
const TUESDAY_9PM = new Date('2025-06-11T01:00:00Z'); // 21:00 EDT, closed, opens Wed 08:00

function replyContext(now: Date, overrides: Partial<ReplyContext> = {}): ReplyContext {
  const settings = officeSettings();
  return {
    practiceName: 'Bright Smiles Dental',
    officeLine: '(555) 010-2000',
    emergencyLine: '(555) 010-9111',
    address: '12 Main St, Suite 3, Springfield',
    timezone: settings.timezone,
    status: officeStatus(settings, now),
    ...overrides,
  };
}

describe('composeReply', () => {
  it('says in hours replies whether the office is open now and until when', () => {
    // Act
    const open = composeReply('hours', 'en', replyContext(TUESDAY_10AM));
    const closed = composeReply('hours', 'en', replyContext(TUESDAY_9PM));
    // Assess
    expect(open).toMatch(/open now until 5:00\s?PM/);
    expect(closed).toContain('We are closed right now.');
    expect(closed).toMatch(/We open again Wed,? 8:00\s?AM/);
  });

  it('answers in Spanish with Spanish times', () => {
    // Act
    const hours = composeReply('hours', 'es', replyContext(TUESDAY_9PM));
    const appointment = composeReply('appointment', 'es', replyContext(TUESDAY_10AM));
    // Assess
    expect(hours).toContain('Ahora estamos cerrados.');
    expect(hours).toMatch(/Abrimos de nuevo el mié,? 0?8:00/);
    expect(appointment).toContain('cita');
    expect(appointment).toContain('Bright Smiles Dental');
  });

  it('gives the emergency line outside hours and the office line during them', () => {
    // Act
    const night = composeReply('emergency', 'en', replyContext(TUESDAY_9PM));
    const day = composeReply('emergency', 'en', replyContext(TUESDAY_10AM));
    const nightEs = composeReply('emergency', 'es', replyContext(TUESDAY_9PM));
    // Assess
    expect(night).toContain('(555) 010-9111');
    expect(day).toContain('(555) 010-2000');
    expect(day).not.toContain('(555) 010-9111');
    expect(nightEs).toContain('(555) 010-9111');
  });

  it('falls back to the office line when there is no emergency line', () => {
    // Act
    const reply = composeReply('emergency', 'en', replyContext(TUESDAY_9PM, { emergencyLine: null }));
    // Assess
    expect(reply).toContain('(555) 010-2000');
  });

  it('gives practice name and phone line for help, and the confirmation for opt_out', () => {
    // Act
    const help = composeReply('help', 'en', replyContext(TUESDAY_10AM));
    const optOut = composeReply('opt_out', 'es', replyContext(TUESDAY_10AM));
    // Assess
    expect(help).toContain('Bright Smiles Dental');
    expect(help).toContain('(555) 010-2000');
    expect(optOut).toContain('Ya no recibirá mensajes');
  });

  it('mentions the address for location and the open status for default', () => {
    // Act
    const location = composeReply('location', 'en', replyContext(TUESDAY_10AM));
    const fallback = composeReply('default', 'en', replyContext(TUESDAY_9PM));
    // Assess
    expect(location).toContain('12 Main St, Suite 3, Springfield');
    expect(fallback).toContain('We are closed right now.');
    expect(fallback).toContain('We open again');
  });

  it('uses an enabled rule text for its intent and language only', () => {
    // Prepare
    const rules = [
      intentRule({
        intent: 'insurance',
        language: 'en',
        responseText: 'We take {practice_name} plans. {open_status}',
      }),
      intentRule({ intent: 'location', language: 'en', responseText: 'Disabled text', enabled: false }),
    ];
    const ctx = replyContext(TUESDAY_10AM, { rules });
    // Act
    const insurance = composeReply('insurance', 'en', ctx);
    const insuranceEs = composeReply('insurance', 'es', ctx);
    const location = composeReply('location', 'en', ctx);
    // Assess
    expect(insurance).toMatch(/^We take Bright Smiles Dental plans\. We are open now until/);
    expect(insuranceEs).toContain('seguros');
    expect(location).not.toContain('Disabled text');
  });

  it('keeps every reply within 320 characters, even with long values and rule texts', () => {
    // Prepare
    const long = replyContext(TUESDAY_9PM, {
      practiceName:
        'The Very Long Named Family and Cosmetic Dentistry and Orthodontics Center of Springfield',
      address: '12345 North Very Long Boulevard Name, Building C, Suite 400, Springfield, IL 62701',
      rules: [intentRule({ intent: 'help', responseText: 'word '.repeat(100) })],
    });
    // Act
    const replies = (['en', 'es'] as const).flatMap((lang) =>
      INTENTS.map((i) => composeReply(i, lang, long)),
    );
    // Assess
    for (const reply of replies) {
      expect(reply.length).toBeLessThanOrEqual(MAX_REPLY_LENGTH);
      expect(reply).not.toMatch(/\{[a-z_]+\}/);
      expect(reply).not.toMatch(/\s{2}/);
    }
  });

  it('reads naturally when the practice has no phone line or address on file', () => {
    // Act
    const reply = composeReply(
      'location',
      'en',
      replyContext(TUESDAY_10AM, { officeLine: null, address: '' }),
    );
    // Assess
    expect(reply).toBe(
      'Bright Smiles Dental: Our team will text you our address. Need directions? Reply here and we will help.',
    );
  });

  it.each([
    ['en', 'hours', /^We are open now until 5:00\s?PM\.$/],
    ['en', 'insurance', /^We work with most dental insurance plans and offer payment options\. Reply here/],
    ['en', 'help', /^For help, reply with your question/],
    ['en', 'default', /^Thanks for your message\. We are open now until 5:00\s?PM\.$/],
    ['en', 'opt_out', /^You are unsubscribed from our texts/],
    ['es', 'hours', /^Estamos abiertos ahora hasta las 17:00\.$/],
    ['es', 'insurance', /^Trabajamos con la mayoría de los seguros dentales/],
    ['es', 'appointment', /^¡Gracias por escribir! Para hacer, cambiar o cancelar una cita responda con/],
  ] as const)(
    'writes whole sentences in %s %s when the practice set neither name nor line',
    (lang, intent, expected) => {
      // Prepare: the column default of voip_settings.practice_name, no office line
      const ctx = replyContext(TUESDAY_10AM, {
        practiceName: 'our office',
        officeLine: null,
        emergencyLine: null,
      });
      // Act
      const reply = composeReply(intent, lang, ctx);
      // Assess
      expect(reply).toMatch(expected);
      expect(reply).not.toMatch(/our office[:.]|works with|Office line|Teléfono|\[|\|/);
    },
  );

  it('keeps the old fallbacks in a practice’s own rule text', () => {
    // Prepare
    const rules = [intentRule({ intent: 'hours', responseText: '{practice_name}: call {office_line}.' })];
    // Act
    const reply = composeReply(
      'hours',
      'en',
      replyContext(TUESDAY_10AM, { practiceName: '', officeLine: null, rules }),
    );
    // Assess
    expect(reply).toBe('our office: call our office.');
  });
});

describe('fillTemplate', () => {
  it('fills known placeholders and leaves unknown ones as written', () => {
    // Act
    const text = fillTemplate('Hi {name}, {unknown} {name}', { name: 'Ana' });
    // Assess
    expect(text).toBe('Hi Ana, {unknown} Ana');
  });

  it('reads [A|B] as A when A is configured, else B, and keeps brackets without placeholders', () => {
    // Act
    const withName = fillTemplate('Hi[ from {name}|]! [Call {line}.|Reply here.] [sic]', {
      name: 'Ana',
      line: '',
    });
    // Assess
    expect(withName).toBe('Hi from Ana! Reply here. [sic]');
  });

  it('leaves an unclosed placeholder or bracket as written, and an empty or unknown name too', () => {
    const values = { office_line: '555', practice_name: '' };
    expect(fillTemplate('Call {office_line', values)).toBe('Call {office_line');
    expect(fillTemplate('a {office_line} b {practice_name', values)).toBe('a 555 b {practice_name');
    expect(fillTemplate('see [this', values)).toBe('see [this');
    expect(fillTemplate('[A {office_line', values)).toBe('[A {office_line');
    expect(fillTemplate('a]b[c', values)).toBe('a]b[c');
    expect(fillTemplate('{} {x}', values)).toBe('{} {x}');
  });

  it('reads a bracket without a bar as the text or nothing, and an empty first choice as nothing', () => {
    const values = { office_line: '555', practice_name: '' };
    expect(fillTemplate('x [{office_line}] y', values)).toBe('x 555 y');
    expect(fillTemplate('x [{practice_name}] y', values)).toBe('x  y');
    expect(fillTemplate('[|B {office_line}]', values)).toBe('');
    expect(fillTemplate('a [b] c [{office_line}|z] d', values)).toBe('a [b] c 555 d');
    // An unclosed placeholder in the first choice does not make it unconfigured.
    expect(fillTemplate('[{office_line} {practice_name|none]', values)).toBe('555 {practice_name');
  });

  it('gives an empty value its fallback outside brackets only', () => {
    const values = { practice_name: '' };
    const fallbacks = { practice_name: 'our office' };
    expect(fillTemplate('Welcome to {practice_name}.', values, fallbacks)).toBe('Welcome to our office.');
    expect(fillTemplate('Hi[ from {practice_name}|].', values, fallbacks)).toBe('Hi.');
  });
});

describe('composeReply with what a practice typed', () => {
  const at10 = officeStatus(officeSettings({}), new Date('2025-06-10T10:00:00-04:00'));
  const typed = (overrides: Partial<ReplyContext>): ReplyContext => ({
    practiceName: 'Bright Smiles Dental',
    timezone: 'America/New_York',
    status: at10,
    ...overrides,
  });

  it('trims the name, lines and address as typed', () => {
    const ctx = typed({ practiceName: '  North Clinic ', officeLine: ' 555-0100  ', address: '  1 Elm St ' });
    expect(composeReply('location', 'en', ctx)).toBe(
      'North Clinic: We are at 1 Elm St. Need directions? Call 555-0100.',
    );
  });

  it("names a practice that set no name 'our office', or 'nuestra clínica', in its own rule texts", () => {
    const rules = (language: 'en' | 'es') => [
      intentRule({ intent: 'location', language, responseText: 'Welcome to {practice_name}.' }),
    ];
    expect(composeReply('location', 'en', typed({ practiceName: '', rules: rules('en') }))).toBe(
      'Welcome to our office.',
    );
    expect(composeReply('location', 'es', typed({ practiceName: '', rules: rules('es') }))).toBe(
      'Welcome to nuestra clínica.',
    );
  });

  it('uses the built-in text when a rule text is blank or not text', () => {
    const blank = [intentRule({ intent: 'location', responseText: '   ' })];
    const notText = [intentRule({ intent: 'location', responseText: 42 as unknown as string })];
    const builtIn = composeReply('location', 'en', typed({ address: '1 Elm St' }));
    expect(composeReply('location', 'en', typed({ address: '1 Elm St', rules: blank }))).toBe(builtIn);
    expect(composeReply('location', 'en', typed({ address: '1 Elm St', rules: notText }))).toBe(builtIn);
  });

  it('closes a space before punctuation, however many, and cuts a long text at a space only past its middle', () => {
    const spaced = [intentRule({ intent: 'location', responseText: 'Hello   there  , friend !' })];
    expect(composeReply('location', 'en', typed({ rules: spaced }))).toBe('Hello there, friend!');
    const middle = `${'a'.repeat(160)} ${'b'.repeat(200)}`;
    const cut = composeReply(
      'location',
      'en',
      typed({ rules: [intentRule({ intent: 'location', responseText: middle })] }),
    );
    expect(cut).toBe(`${middle.slice(0, 319)}…`);
  });
});
