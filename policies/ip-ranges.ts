import ipaddr from 'ipaddr.js';

// Address ranges are parsed once, when the policy loads. A range that does not parse is a
// policy error, never a silent "no match" (ip-range-check fails open on malformed input, which
// is why this module uses ipaddr.js directly).

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

export interface AddressRanges {
  readonly size: number;
  contains(address: string): boolean;
}

// Kiosks call from a few addresses, again and again; each request checks several lists.
const parsedAddresses = new Map<string, Parsed | null>();
const PARSED_ADDRESSES_MAX = 4096;

/** Parses an address, folding IPv4-mapped IPv6 (::ffff:10.0.0.1) to plain IPv4. */
export function parseAddress(address: string): Parsed | undefined {
  const cached = parsedAddresses.get(address);
  if (cached !== undefined) return cached ?? undefined;
  let parsed: Parsed | null = null;
  if (ipaddr.isValid(address)) {
    parsed = ipaddr.parse(address);
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsedAddresses.size >= PARSED_ADDRESSES_MAX) parsedAddresses.clear();
  parsedAddresses.set(address, parsed);
  return parsed ?? undefined;
}

/** The canonical text form of an address, or undefined when it is not one. */
export function normaliseAddress(address: string): string | undefined {
  return parseAddress(address)?.toString();
}

/** Returns the reason a range does not parse, or undefined when it does. */
export function rangeProblem(range: string): string | undefined {
  try {
    parseRange(range);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function parseRange(range: string): [Parsed, number] {
  if (range.includes('/')) {
    if (!ipaddr.isValidCIDR(range)) throw new Error(`"${range}" is not a valid CIDR range`);
    const [address, bits] = ipaddr.parseCIDR(range);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
    }
    return [address, bits];
  }
  const address = parseAddress(range);
  if (!address) throw new Error(`"${range}" is not a valid IP address or CIDR range`);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

export function compileRanges(ranges: readonly string[]): AddressRanges {
  const compiled = ranges.map(parseRange);
  return {
    size: compiled.length,
    contains(address: string): boolean {
      const parsed = parseAddress(address);
      if (!parsed) return false;
      const kind = parsed.kind();
      for (const [range, bits] of compiled) {
        if (range.kind() === kind && parsed.match(range as never, bits)) return true;
      }
      return false;
    },
  };
}
