import { describe, expect, it } from "vitest";
import { cidrContains, formatIpv6, isStrictSubset, parseCidr, parseIp } from "./ip.js";
import { ipBlockContains, parseIpBlock } from "./ipblock.js";

const ip = (s: string) => {
  const v = parseIp(s);
  if (!v) throw new Error(`bad ip ${s}`);
  return v;
};
const cidr = (s: string) => {
  const v = parseCidr(s);
  if (!v) throw new Error(`bad cidr ${s}`);
  return v;
};

describe("IP addresses and CIDR blocks", () => {
  it.each([
    ["10.0.0.0/8", "10.255.1.2", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["0.0.0.0/0", "192.0.2.1", true],
    ["192.168.1.7/32", "192.168.1.7", true],
    ["192.168.1.7/32", "192.168.1.8", false],
    ["10.0.0.1/8", "10.9.9.9", true],
    ["fd00::/8", "fd12:3456::1", true],
    ["fd00::/8", "fe80::1", false],
    ["::/0", "2001:db8::1", true],
    ["2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db8::1/128", "2001:db8:0:0:0:0:0:1", true],
    ["::ffff:0:0/96", "::ffff:10.1.2.3", true],
    ["0.0.0.0/0", "::1", false],
    ["::/0", "10.0.0.1", false],
  ] as const)("%s contains %s: %s", (block, addr, want) => {
    expect(cidrContains(cidr(block), ip(addr))).toBe(want);
  });

  it.each([
    "10.0.0.0",
    "10.0.0.0/33",
    "10.0.0/8",
    "256.0.0.0/8",
    "fd00::/129",
    "1::2::3/64",
    "10.0.0.0/-1",
    "10.0.0.0/ 8",
    "a.b.c.d/8",
    "fe80::1%eth0/64",
  ])("rejects the malformed CIDR %s", (s) => {
    expect(parseCidr(s)).toBeUndefined();
  });

  it("accepts leading zeros in IPv4 octets as decimal, as Go's sloppy parser does", () => {
    expect(parseIp("010.001.000.001")?.text).toBe("010.001.000.001");
    expect(cidrContains(cidr("10.1.0.0/16"), ip("010.001.000.001"))).toBe(true);
  });

  it("an except block must be a strict subset of the cidr", () => {
    expect(isStrictSubset(cidr("10.1.0.0/16"), cidr("10.0.0.0/8"))).toBe(true);
    expect(isStrictSubset(cidr("10.0.0.0/8"), cidr("10.0.0.0/8"))).toBe(false);
    expect(isStrictSubset(cidr("11.0.0.0/16"), cidr("10.0.0.0/8"))).toBe(false);
    expect(parseIpBlock({ cidr: "10.0.0.0/8", except: ["10.0.0.0/8"] }, "ipBlock")).toEqual({
      ok: false,
      errors: ["ipBlock.except[0]: must be a strict subset of `cidr`"],
    });
    expect(parseIpBlock({ cidr: "10.0.0.0/8", except: ["nope"] }, "ipBlock").ok).toBe(false);
    expect(parseIpBlock({}, "ipBlock")).toEqual({ ok: false, errors: ["ipBlock.cidr: Required value"] });
  });

  it("an ipBlock matches inside the cidr and outside every except", () => {
    const res = parseIpBlock({ cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.2.3.0/24"] }, "b");
    if (!res.ok) throw new Error("invalid");
    expect(ipBlockContains(res.block, ip("10.9.0.1"))).toBe(true);
    expect(ipBlockContains(res.block, ip("10.1.2.3"))).toBe(false);
    expect(ipBlockContains(res.block, ip("10.2.3.4"))).toBe(false);
    expect(ipBlockContains(res.block, ip("10.2.4.4"))).toBe(true);
    expect(ipBlockContains(res.block, undefined)).toBe(false);
    expect(res.block.text).toBe("10.0.0.0/8 except 10.1.0.0/16, 10.2.3.0/24");
  });

  it("prints IPv6 addresses compressed", () => {
    expect(formatIpv6(ip("2001:db8:0:0:0:0:0:1").value as bigint)).toBe("2001:db8::1");
    expect(formatIpv6(0n)).toBe("::");
  });
});
