// IP allowlists of keys: CIDRs (or single addresses), IPv4 and IPv6, checked with node:net's
// BlockList, which also matches an IPv4-mapped IPv6 address against IPv4 ranges.
import { BlockList, isIP } from "node:net";

export const MAX_ALLOWLIST_ENTRIES = 100;

interface Range {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** One entry as a range, or a message saying what is wrong with it. */
export function parseRange(entry: string): Range | string {
  const [address = "", prefixText, ...extra] = entry.split("/");
  if (extra.length) return "must be an address or a CIDR";
  const version = isIP(address);
  if (version === 0) return "must be an IPv4 or IPv6 address or CIDR";
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return "has a bad prefix length";
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return `has a prefix length above ${max}`;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** A matcher for a validated list: whether an address is inside any of its ranges. */
export function ipAllowlist(entries: string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const range = parseRange(entry);
    // Stored lists were validated on write; an entry that no longer parses allows nothing.
    if (typeof range === "string") continue;
    list.addSubnet(range.address, range.prefix, range.family);
  }
  return (ip) => {
    const version = isIP(ip);
    if (version === 0) return false;
    return list.check(ip, version === 4 ? "ipv4" : "ipv6");
  };
}
