/**
 * Whether an image URL names a host a provider must never be sent to fetch for a hostile page:
 * link-local addresses (169.254.0.0/16, fe80::/10, the cloud metadata service) and the metadata
 * services' names, however the address is spelled. The URL parser already reads an IPv4 address
 * written as one number, in hex or in octal (`2852039166`, `0xa9fea9fe`) as dotted decimal;
 * IPv4-mapped IPv6 (`[::ffff:169.254.169.254]`, which it writes as `[::ffff:a9fe:a9fe]`) is read
 * here.
 */
export function isForbiddenImageHost(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, "");
  } catch {
    return true;
  }
  if (host === "metadata" || host === "metadata.google.internal" || host.endsWith(".metadata.google.internal")) return true;
  if (/^169\.254\.\d+\.\d+$/.test(host)) return true;
  if (!host.startsWith("[")) return false;
  const v6 = host.slice(1, -1);
  if (/^fe[89ab][0-9a-f]?:/.test(v6) || v6 === "fd00:ec2::254") return true;
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  return mapped !== null && Number.parseInt(mapped[1]!, 16) >> 8 === 169 && (Number.parseInt(mapped[1]!, 16) & 0xff) === 254;
}
