import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskPayload, maskPhone } from '../../../lib/http/mask.js';

/** Masking is by allow-list: a field is clear only when its name is known safe and its value has that name's shape. */
describe('PHI masking', () => {
  it('keeps only the last two digits of a phone number', () => {
    expect(maskPhone('+14155550123')).toBe('+*********23');
    expect(maskPhone('5145551234')).toBe('********34');
  });

  it('replaces message text by its length and masks numbers anywhere in a payload', () => {
    const masked = maskPayload({
      fields: {
        Body: ['my tooth hurts, call 4155550199'],
        From: ['+14155550123'],
        MessageSid: ['SM0123456789abcdef0123456789abcdef'],
      },
      query: { token: ['hunter2token'], to: ['5145550000'] },
      json: {
        cdr: [
          { callerid: '"Jane Roe" <5145551234>', destination: '5145550000', note: 'reach me at 4155550101' },
        ],
      },
    });
    const text = JSON.stringify(masked);
    for (const leak of [
      'tooth',
      '4155550199',
      '4155550123',
      'hunter2token',
      'Jane',
      '5145551234',
      '5145550000',
      '4155550101',
    ]) {
      expect(text).not.toContain(leak);
    }
    expect(masked).toEqual({
      fields: {
        Body: ['[31 chars]'],
        From: ['+*********23'],
        MessageSid: ['SM0123456789abcdef0123456789abcdef'],
      },
      query: { token: ['[secret]'], to: ['********00'] },
      json: { cdr: [{ callerid: '[23 chars]', destination: '********00', note: '[22 chars]' }] },
    });
  });

  it('masks caller names, locations and media URLs (fields no list names)', () => {
    const masked = maskPayload({
      CallerName: 'JANE ROE',
      FromCity: 'SAN FRANCISCO',
      FromState: 'CA',
      FromZip: '94103',
      CallerZip: '94103',
      CalledCity: 'MONTREAL',
      FromCountry: 'US',
      MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
      media: 'https://voip.ms/media/abc.jpg',
      MediaContentType0: 'image/jpeg',
    });
    expect(masked).toEqual({
      CallerName: '[8 chars]',
      FromCity: '[13 chars]',
      FromState: '[2 chars]',
      FromZip: '[5 chars]',
      CallerZip: '[5 chars]',
      CalledCity: '[8 chars]',
      FromCountry: '[2 chars]',
      MediaUrl0: '[69 chars]',
      media: '[29 chars]',
      MediaContentType0: 'image/jpeg',
    });
  });

  it('masks every kind of secret key (VoIP.ms api_password, tokens, auth)', () => {
    expect(
      maskPayload({
        api_password: 'p4ss',
        password: 'x',
        token: 't',
        AuthToken: 'a',
        VOIPMS_WEBHOOK_TOKEN: 'w',
        client_secret: 's',
      }),
    ).toEqual({
      api_password: '[secret]',
      password: '[secret]',
      token: '[secret]',
      AuthToken: '[secret]',
      VOIPMS_WEBHOOK_TOKEN: '[secret]',
      client_secret: '[secret]',
    });
  });

  it('masks JSON numbers and formatted numbers in any field, and digits in field names', () => {
    expect(
      maskPayload({
        src: 4155550123,
        destination: 5145550000,
        seconds: 62,
        note: '(415) 555-0123',
        '4155550123': 'x',
      }),
    ).toEqual({
      src: '[number]',
      destination: '[number]',
      seconds: 62,
      note: '********23',
      '**********': '[1 chars]',
    });
  });

  it('keeps the fields an operator needs in clear: ids, statuses, counts, dates', () => {
    const clear = {
      AccountSid: 'AC00000000000000000000000000000001',
      CallSid: 'CAffffffffffffffffffffffffffffffff',
      MessageStatus: 'delivered',
      CallStatus: 'no-answer',
      Direction: 'outbound-api',
      ErrorCode: '30003',
      NumMedia: '0',
      SequenceNumber: '3',
      ApiVersion: '2010-04-01',
      Timestamp: 'Tue, 10 Mar 2026 14:02:24 +0000',
      date: '2024-05-06 10:15:00',
      id: '23000001',
      uniqueid: '1715000000.42',
      disposition: 'ANSWERED',
      step: 'dial-result',
      reply: 'SM0123456789abcdef0123456789abcdef',
    };
    expect(maskPayload(clear)).toEqual(clear);
  });

  it('never keeps a safe-named field in clear when its value does not have the shape its name promises', () => {
    expect(
      maskPayload({
        MessageStatus: '+14155550123',
        CallSid: 'tooth ache',
        id: '4155550123456',
        date: 'x'.repeat(50),
      }),
    ).toEqual({
      MessageStatus: '+*********23',
      CallSid: '[10 chars]',
      id: '***********56',
      date: '[50 chars]',
    });
  });

  it('no phone number of any format survives in any field (property)', async () => {
    const digits = fc.stringMatching(/^[2-9]\d{9}$/);
    const formats = (d: string) => [
      d,
      `+1${d}`,
      `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`,
      `${d.slice(0, 3)}.${d.slice(3, 6)}.${d.slice(6)}`,
      `call ${d} now`,
    ];
    fc.assert(
      fc.property(
        digits,
        fc.nat(4),
        fc.constantFrom(
          'Body',
          'From',
          'MessageStatus',
          'CallSid',
          'date',
          'id',
          'Extra',
          'note',
          'src',
          'uniqueid',
          'x',
        ),
        fc.boolean(),
        (number, format, key, asJsonNumber) => {
          const value = asJsonNumber ? Number(number) : formats(number)[format]!;
          const text = JSON.stringify(
            maskPayload({ query: { [key]: [value] }, json: { cdr: [{ [key]: value }] } }),
          );
          expect(text).not.toContain(number);
          expect(text).not.toContain(number.slice(0, 8));
        },
      ),
    );
  });
});
