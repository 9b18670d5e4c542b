/**
 * The bucket failed authentications are counted in for a client address: an IPv4 address, or
 * the /64 network of an IPv6 one. A single IPv6 subscriber is handed a /64 (or more) and can pick
 * a new address in it for every request, so counting whole addresses would count nothing.
 * An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) counts as itself; anything unreadable
 * counts as it is written.
 */
export function addressBucket(ip: string): string {
  if (!ip.includes(":")) return ip;
  const groups = ipv6Groups(ip.toLowerCase());
  if (!groups) return ip;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 as two groups), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  const halves = ip.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const piece of part.split(":")) {
      if (/^\d{1,3}(\.\d{1,3}){3}$/.test(piece)) {
        const [a, b, c, d] = piece.split(".").map(Number) as [number, number, number, number];
        if ([a, b, c, d].some((octet) => octet > 255)) return undefined;
        groups.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-f]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...tail];
}
