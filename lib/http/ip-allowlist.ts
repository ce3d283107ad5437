import { BlockList, isIP } from 'node:net';

/**
 * A parsed list of IPs and CIDR ranges (IPv4 and IPv6), matched by Node's own BlockList: no library in the
 * webhook bundles, and IPv4-mapped IPv6 callers (::ffff:1.2.3.4) match IPv4 entries.
 */
export class IpAllowList {
  private constructor(
    private readonly list: BlockList,
    readonly size: number,
  ) {}

  /** Parses `1.2.3.4, 10.0.0.0/8, 2001:db8::/32`; throws with the offending entry named. */
  static parse(text: string): IpAllowList {
    const list = new BlockList();
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    // Every bad entry is named at once, so one deploy fixes them all.
    const problems: string[] = [];
    for (const entry of entries) {
      try {
        addEntry(list, entry);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
    return new IpAllowList(list, entries.length);
  }

  allows(ip: string | undefined): boolean {
    const version = ip ? isIP(ip) : 0;
    return version !== 0 && this.list.check(ip!, version === 4 ? 'ipv4' : 'ipv6');
  }
}

/** The broadest ranges a provider could need; anything wider is a typo or switches the check off. */
export const BROADEST_PREFIX = { ipv4: 16, ipv6: 32 } as const;

/** The eight 16-bit groups of an IPv6 address, however it was written (`::ffff:1.2.3.4`, `0:0::ffff:0:0`). */
export function ipv6Groups(address: string): number[] {
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const part = (text: string) => (text ? text.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}

/** Inside ::/80, where IPv4-mapped (::ffff:0:0/96) and IPv4-compatible addresses live. */
const inIpv4Space = (address: string) =>
  ipv6Groups(address)
    .slice(0, 5)
    .every((group) => group === 0);

function addEntry(list: BlockList, entry: string): void {
  const refuse = (why: string): never => {
    throw new Error(`"${entry}" ${why}`);
  };
  const [address = '', prefixText, extra] = entry.split('/');
  if (address.includes('%')) refuse('has a zone id (%...), which a source address never carries');
  if (/^[\d.]+$/.test(address) && /(?:^|\.)0\d/.test(address)) {
    refuse('has a leading zero (is it octal or decimal?): write each part without one');
  }
  const version = isIP(address);
  if (version === 0 || extra !== undefined) refuse('is not an IP address or CIDR range');
  if (prefixText !== undefined && !/^(?:0|[1-9]\d{0,2})$/.test(prefixText)) {
    refuse('has a prefix length that is not a plain number (no leading zeros)');
  }
  const maxPrefix = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (prefix > maxPrefix) refuse(`has a prefix longer than /${maxPrefix}`);
  // A mapped IPv4 entry counts as IPv4: ::ffff:0:0/96 would allow every IPv4 caller.
  const mapped = version === 6 && inIpv4Space(address);
  const broadest = mapped
    ? 96 + BROADEST_PREFIX.ipv4
    : version === 4
      ? BROADEST_PREFIX.ipv4
      : BROADEST_PREFIX.ipv6;
  if (prefix < broadest) {
    refuse(
      `is broader than /${broadest}: the allow-list would admit far more than a provider's servers ` +
        '(list each address or a narrow range)',
    );
  }
  list.addSubnet(address, prefix, version === 4 ? 'ipv4' : 'ipv6');
}
