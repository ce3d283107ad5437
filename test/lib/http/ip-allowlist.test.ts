import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.js';
import { IpAllowList } from '../../../lib/http/ip-allowlist.js';
import { testEnv } from '../../support/config.js';

/** Entries that would switch the VoIP.ms source check off, or mean something other than they seem. */
describe('the VoIP.ms IP allow-list', () => {
  it.each([
    ['0.0.0.0/0', /broader than \/16/],
    ['::/0', /broader than/],
    ['1.2.3.4/0', /broader than \/16/],
    ['10.0.0.0/8', /broader than \/16: .*\(list each address or a narrow range\)$/],
    ['2001:db8::/31', /broader than \/32/],
    ['::ffff:0:0/96', /broader than \/112/],
    ['0:0:0:0:0:ffff:0:0/96', /broader than \/112/],
    ['::ffff:0.0.0.0/96', /broader than \/112/],
    ['::/80', /broader than \/112/],
    ['fe80::1%eth0', /zone id/],
    ['fe80::%25eth0/64', /zone id/],
    ['010.0.0.1', /leading zero/],
    ['1.2.3.04', /leading zero/],
    ['1.2.3.4/024', /no leading zeros/],
    ['1.2.3.4/33', /longer than \/32/],
    ['1.2.3.4/', /plain number/],
    ['1.2.3.4/16/2', /not an IP address/],
    ['example.com', /not an IP address/],
  ])('refuses %s with a clear configuration error', (entry, why) => {
    expect(() => IpAllowList.parse(entry)).toThrow(why);
    expect(() => loadConfig({ ...testEnv(), VOIPMS_ALLOWED_IPS: `198.51.100.7, ${entry}` })).toThrow(
      /VOIPMS_ALLOWED_IPS/,
    );
  });

  it.each([
    '203.0.113.7',
    '203.0.113.0/24',
    '10.1.0.0/16',
    '2001:db8::/32',
    '2001:db8::1',
    // IPv6 groups are hexadecimal, so a leading 0 is unambiguous there (unlike an IPv4 octet).
    '0123:4567::1',
    '::ffff:198.51.100.7',
    '::ffff:198.51.0.0/112',
  ])('accepts %s', (entry) => {
    expect(IpAllowList.parse(entry).size).toBe(1);
  });

  it('never accepts a prefix broader than /16 (IPv4) or /32 (IPv6), however written (property)', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.'));
    const v6 = fc
      .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
      .map((groups) => groups.map((g) => g.toString(16)).join(':'));
    fc.assert(
      fc.property(
        fc.oneof(
          v4.map((a) => [a, 16] as const),
          v6.map((a) => [a, 32] as const),
        ),
        fc.nat(128),
        ([address, broadest], prefix) => {
          let parsed: IpAllowList | undefined;
          try {
            parsed = IpAllowList.parse(`${address}/${prefix}`);
          } catch {
            return;
          }
          expect(prefix).toBeGreaterThanOrEqual(broadest);
          expect(parsed.size).toBe(1);
        },
      ),
    );
  });

  it('matches IPv4 callers written as mapped IPv6, and nothing outside the ranges', () => {
    const list = IpAllowList.parse('203.0.113.0/24, 2001:db8::/32');
    expect(list.allows('203.0.113.99')).toBe(true);
    expect(list.allows('::ffff:203.0.113.99')).toBe(true);
    expect(list.allows('203.0.114.1')).toBe(false);
    expect(list.allows('2001:db8:ffff::1')).toBe(true);
    expect(list.allows('2001:db9::1')).toBe(false);
    expect(list.allows('')).toBe(false);
    expect(list.allows(undefined)).toBe(false);
  });
});
