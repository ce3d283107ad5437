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
    for (const entry of entries) addEntry(list, entry);
    return new IpAllowList(list, entries.length);
  }

  allows(ip: string | undefined): boolean {
    const version = ip ? isIP(ip) : 0;
    return version !== 0 && this.list.check(ip!, version === 4 ? 'ipv4' : 'ipv6');
  }
}

function addEntry(list: BlockList, entry: string): void {
  const [address = '', prefixText, extra] = entry.split('/');
  const version = isIP(address);
  const maxPrefix = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (version === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefixText ?? '0') || prefix > maxPrefix) {
    throw new Error(`"${entry}" is not an IP address or CIDR range`);
  }
  list.addSubnet(address, prefix, version === 4 ? 'ipv4' : 'ipv6');
}
