import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A parsed list of IPs and CIDR ranges (IPv4 and IPv6); IPv4-mapped IPv6 callers match IPv4 entries. */
export class IpAllowList {
  private constructor(private readonly ranges: Range[]) {}

  /** Parses `1.2.3.4, 10.0.0.0/8, 2001:db8::/32`; throws with the offending entry named. */
  static parse(list: string): IpAllowList {
    const entries = list
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    return new IpAllowList(entries.map(parseEntry));
  }

  get size(): number {
    return this.ranges.length;
  }

  allows(ip: string | undefined): boolean {
    if (!ip || !ipaddr.isValid(ip)) return false;
    const address = ipaddr.process(ip); // unwraps ::ffff:1.2.3.4 to IPv4
    return this.ranges.some(
      ([network, bits]) => network.kind() === address.kind() && address.match(network, bits),
    );
  }
}

function parseEntry(entry: string): Range {
  try {
    if (entry.includes('/')) {
      const [network, bits] = ipaddr.parseCIDR(entry);
      return [network.kind() === 'ipv6' ? ipaddr.process(network.toString()) : network, bits] as Range;
    }
    const address = ipaddr.process(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    throw new Error(`"${entry}" is not an IP address or CIDR range`);
  }
}
