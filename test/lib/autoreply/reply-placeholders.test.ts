// How a reply template reads stray braces, brackets with several placeholders or no bar, and settings that a
// practice filled with spaces only.
import { describe, expect, it } from 'vitest';
import { composeReply, fillTemplate, type ReplyContext } from '../../../lib/autoreply/replies.js';
import { officeStatus } from '../../../lib/practice/hours.js';
import { officeSettings } from './factories.js';

describe('fillTemplate with stray braces', () => {
  it('keeps a closing brace right before a placeholder as written and still fills the placeholder', () => {
    // Prepare
    const values = { office_line: '555-0100' };
    // Act
    const outside = fillTemplate('Call us}{office_line}', values);
    const inside = fillTemplate('[Call}{office_line}|Reply here]', values);
    const insideUnset = fillTemplate('[Call}{office_line}|Reply here]', { office_line: '' });
    // Assess
    expect(outside).toBe('Call us}555-0100');
    expect(inside).toBe('Call}555-0100');
    expect(insideUnset).toBe('Reply here');
  });

  it('reads empty braces in a bracket as text, not as a placeholder', () => {
    // Act
    const set = fillTemplate('[{} {office_line}|none]', { office_line: '555-0100' });
    const unset = fillTemplate('[{} {office_line}|none]', { office_line: '' });
    // Assess
    expect(set).toBe('{} 555-0100');
    expect(unset).toBe('none');
  });
});

describe('fillTemplate brackets', () => {
  it('reads the first choice only when every placeholder in it is set, the second one included', () => {
    // Prepare
    const template = '[{practice_name} at {address}.|Our office.]';
    // Act
    const both = fillTemplate(template, { practice_name: 'North Clinic', address: '1 Elm St' });
    const noAddress = fillTemplate(template, { practice_name: 'North Clinic', address: '' });
    // Assess
    expect(both).toBe('North Clinic at 1 Elm St.');
    expect(noAddress).toBe('Our office.');
  });

  it('drops a bracket without a bar whole when its placeholder is unset, fallback and all', () => {
    // Act
    const text = fillTemplate(
      'Hi[ from {practice_name}]!',
      { practice_name: '' },
      { practice_name: 'our office' },
    );
    // Assess
    expect(text).toBe('Hi!');
  });

  it('fills the text after the last bracket and keeps a closing bracket there as written', () => {
    // Act
    const text = fillTemplate('[Call {office_line}.|Reply.] Or {office_line}]', { office_line: '555-0100' });
    // Assess
    expect(text).toBe('Call 555-0100. Or 555-0100]');
  });
});

describe('composeReply with settings of spaces only', () => {
  const at10 = officeStatus(officeSettings({}), new Date('2025-06-10T10:00:00-04:00'));

  it('reads an office line or address of spaces only as not set', () => {
    // Prepare
    const ctx: ReplyContext = {
      practiceName: 'North Clinic',
      officeLine: '   ',
      address: '  ',
      timezone: 'America/New_York',
      status: at10,
    };
    // Act
    const reply = composeReply('location', 'en', ctx);
    // Assess
    expect(reply).toBe(
      'North Clinic: Our team will text you our address. Need directions? Reply here and we will help.',
    );
  });
});
