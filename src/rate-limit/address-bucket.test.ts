import { describe, expect, it } from "vitest";
import { addressBucket } from "./address-bucket";

describe("addressBucket", () => {
  it.each([
    ["an IPv4 address is its own bucket", "192.0.2.7", "192.0.2.7"],
    ["an IPv6 address counts in its /64", "2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3:8d3::/64"],
    ["two addresses of one /64 share a bucket", "2001:0DB8:85a3:08d3::1", "2001:db8:85a3:8d3::/64"],
    ["a compressed prefix", "2001:db8::1", "2001:db8:0:0::/64"],
    ["loopback", "::1", "0:0:0:0::/64"],
    ["an IPv4 address written as IPv6 counts as itself", "::ffff:198.51.100.4", "198.51.100.4"],
    ["an embedded IPv4 tail elsewhere is part of the address", "64:ff9b::198.51.100.4", "64:ff9b:0:0::/64"],
    ["something unreadable counts as written", "2001:db8::1::2", "2001:db8::1::2"],
    ["too many groups counts as written", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"],
  ])("%s", (_, ip, bucket) => {
    expect(addressBucket(ip)).toBe(bucket);
  });
});
