import { normaliseAddress, type AddressRanges } from '../policies/ip-ranges.js';

export interface ClientAddress {
  address: string;
  /** Why a trusted proxy's X-Forwarded-For was not usable; the IP stage refuses on it. */
  problem?: string;
}

/**
 * The caller's address. X-Forwarded-For is honoured only when the peer is a trusted proxy, and
 * then read right to left: each hop that is itself a trusted proxy is skipped, the first one that
 * is not is the caller. An untrusted peer's header is ignored, so it cannot spoof its address.
 */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: AddressRanges,
): ClientAddress {
  const peerAddress = normaliseAddress(peer ?? '') ?? '0.0.0.0';
  if (forwardedFor === undefined || trustedProxies.size === 0 || !trustedProxies.contains(peerAddress)) {
    return { address: peerAddress };
  }
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normaliseAddress(hops[i]!);
    if (!hop) return { address: peerAddress, problem: 'X-Forwarded-For holds something that is not an IP address' };
    if (!trustedProxies.contains(hop) || i === 0) return { address: hop };
  }
  return { address: peerAddress };
}
