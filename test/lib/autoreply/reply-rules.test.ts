// What a reply says at the edges of office hours, and how a reply is kept whole and short.
import { describe, expect, it } from 'vitest';
import { composeReply } from '../../../lib/autoreply/replies.js';
import { intentRule, replyContext } from './factories.js';

// Tuesday 10 June 2025 in New York (EDT, UTC-4): open 08:00-17:00.
const at = (local: string) => new Date(`2025-06-10T${local}:00-04:00`);

const context = replyContext;

describe('office hours in a reply', () => {
  it('is open from the opening minute: 08:00 says open until 5 PM, 07:59 says closed and opens at 8', () => {
    expect(composeReply('hours', 'en', context(at('08:00')))).toMatch(/We are open now until 5:00\s?PM\./);
    const before = composeReply('hours', 'en', context(at('07:59')));
    expect(before).toContain('We are closed right now.');
    expect(before).toMatch(/We open again .*8:00\s?AM\./);
  });

  it('is closed from the closing minute: 16:59 says open, 17:00 says closed and opens tomorrow', () => {
    expect(composeReply('hours', 'en', context(at('16:59')))).toMatch(/We are open now until 5:00\s?PM\./);
    const closing = composeReply('hours', 'en', context(at('17:00')));
    expect(closing).toContain('We are closed right now.');
    expect(closing).toMatch(/We open again Wed,? 8:00\s?AM\./);
    expect(closing).not.toContain('open now');
  });

  it('never says when the office opens again while it is open', () => {
    const open = composeReply('default', 'en', context(at('12:00')));
    expect(open).not.toContain('open again');
    expect(composeReply('default', 'es', context(at('12:00')))).not.toContain('Abrimos de nuevo');
  });

  it('names a holiday as the reason the office is closed, in both languages', () => {
    const holiday = context(at('12:00'), {
      status: { open: false, closesAt: null, nextOpenAt: null, isHoliday: true },
    });
    expect(composeReply('hours', 'en', holiday)).toContain('We are closed today for a holiday.');
    expect(composeReply('hours', 'es', holiday)).toContain('Hoy estamos cerrados por día festivo.');
    expect(composeReply('hours', 'en', holiday)).not.toContain('open again');
  });

  it('says closed, not open, when the status is open but has no closing time', () => {
    const odd = context(at('12:00'), {
      status: { open: true, closesAt: null, nextOpenAt: null, isHoliday: false },
    });
    expect(composeReply('hours', 'en', odd)).toContain('We are closed right now.');
    expect(composeReply('hours', 'es', odd)).toContain('Ahora estamos cerrados.');
  });

  it('gives the Spanish open sentence with the closing time', () => {
    expect(composeReply('hours', 'es', context(at('10:00')))).toMatch(
      /Estamos abiertos ahora hasta las 17:00\./,
    );
  });

  it('gives the emergency line at 17:00 and the office line at 16:59', () => {
    expect(composeReply('emergency', 'en', context(at('17:00')))).toContain('call (555) 010-9111 now.');
    expect(composeReply('emergency', 'en', context(at('16:59')))).toContain('call (555) 010-2000 now.');
    const noEmergencyLine = context(at('17:00'), { emergencyLine: '  ' });
    expect(composeReply('emergency', 'en', noEmergencyLine)).toContain('call (555) 010-2000 now.');
  });
});

describe('a reply kept whole and short', () => {
  it('cuts a long rule text at the last space before 320 characters and marks the cut', () => {
    const words = Array.from({ length: 150 }, (_, i) => `w${i}`).join(' ');
    const reply = composeReply(
      'help',
      'en',
      context(at('12:00'), { rules: [intentRule({ intent: 'help', responseText: words })] }),
    );
    expect(reply.length).toBeLessThanOrEqual(320);
    expect(reply.endsWith('…')).toBe(true);
    const kept = reply.slice(0, -1);
    expect(words.startsWith(kept)).toBe(true);
    expect(words[kept.length]).toBe(' ');
  });

  it('cuts a long text with no usable space at 319 characters plus the mark', () => {
    const text = `${'x'.repeat(100)} ${'y'.repeat(300)}`;
    const reply = composeReply(
      'help',
      'en',
      context(at('12:00'), { rules: [intentRule({ intent: 'help', responseText: text })] }),
    );
    expect(reply).toBe(`${text.slice(0, 319)}…`);
  });

  it('keeps a text of exactly 320 characters as it is', () => {
    const text = 'z'.repeat(320);
    const reply = composeReply(
      'help',
      'en',
      context(at('12:00'), { rules: [intentRule({ intent: 'help', responseText: text })] }),
    );
    expect(reply).toBe(text);
  });

  it('closes gaps left by empty sentences and spaces before punctuation', () => {
    const text = 'Hello  there ,  friend !   {next_open}  Bye .';
    const reply = composeReply(
      'help',
      'en',
      context(at('12:00'), { rules: [intentRule({ intent: 'help', responseText: text })] }),
    );
    expect(reply).toBe('Hello there, friend! Bye.');
  });

  it('uses a rule only when it is enabled, for that intent and language, and has some text', () => {
    const rules = [
      intentRule({ intent: 'help', responseText: '   ' }),
      intentRule({ intent: 'help', language: 'es', responseText: 'Spanish rule.' }),
      intentRule({ intent: 'help', enabled: false, responseText: 'Disabled rule.' }),
      intentRule({ intent: 'help', responseText: 'Second rule.' }),
    ];
    expect(composeReply('help', 'en', context(at('12:00'), { rules }))).toBe('Second rule.');
    expect(composeReply('help', 'es', context(at('12:00'), { rules }))).toBe('Spanish rule.');
  });

  it('treats the default practice names as no name at all', () => {
    for (const practiceName of ['our office', 'Nuestra Clínica', 'nuestra oficina', '  ']) {
      const reply = composeReply('opt_out', 'en', context(at('12:00'), { practiceName }));
      expect(reply).toBe(
        'You are unsubscribed from our texts and will receive no more messages. Reply START to resubscribe.',
      );
    }
  });
});
