import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, parseAllowHosts } from "../../src/webhooks/webhook-url-policy";

// Every spelling of an address gets the verdict of the address it carries. The URL parser in
// workerd normalizes IPv4 spellings; the policy classifies the IPv6 forms that carry an IPv4.

const none: string[] = [];
const refused = (url: string, allow = none) => {
  try {
    checkWebhookUrl(url, allow);
    return false;
  } catch (error) {
    expect((error as { code?: string }).code).toBe("INVALID_PARAMETER_VALUE");
    return true;
  }
};

describe("webhook URL hosts in every spelling of loopback and other internal addresses", () => {
  it.each([
    ["http://[::127.0.0.1]/", /IPv4-compatible .*127\.0\.0\.1, a loopback/],
    ["http://[::ffff:127.0.0.1]/", /IPv4-mapped .*127\.0\.0\.1, a loopback/],
    ["http://[::ffff:7f00:1]/", /IPv4-mapped .*loopback/],
    ["http://[0:0:0:0:0:ffff:7f00:0001]/", /IPv4-mapped .*loopback/],
    ["http://[::ffff:0:7f00:1]/", /IPv4-translated .*loopback/],
    ["http://[::10.1.2.3]/", /IPv4-compatible .*10\.1\.2\.3, a private/],
    ["http://[::a9fe:a9fe]/", /IPv4-compatible .*169\.254\.169\.254, a linkLocal/],
    ["http://[64:ff9b::127.0.0.1]/", /NAT64 .*loopback/],
    ["http://[64:ff9b::a9fe:a9fe]/", /NAT64 .*linkLocal/],
    ["http://[64:ff9b::10.0.0.1]/", /NAT64 .*private/],
    ["http://[64:ff9b:1::7f00:1]/", /rfc6052/],
    ["http://[2002:7f00:1::]/", /6to4 .*127\.0\.0\.1, a loopback/],
    ["http://[2002:c0a8:101::1]/", /6to4 .*192\.168\.1\.1, a private/],
    ["http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", /teredo/],
    ["http://2130706433/", /127\.0\.0\.1' is a loopback/],
    ["http://0x7f.1/", /loopback/],
    ["http://0x7f000001/", /loopback/],
    ["http://017700000001/", /loopback/],
    ["http://0177.0.0.1/", /loopback/],
    ["http://127.1/", /loopback/],
    ["http://%31%32%37.0.0.1/", /loopback/],
    ["http://１２７.０.０.１/", /loopback/],
    ["http://127.0.0.1./", /loopback/],
    ["http://127.0.0.1../", /loopback/],
    ["http://0x7f.1../", /loopback/],
    ["http://0.0.0.0/", /unspecified/],
    ["http://0/", /unspecified/],
    ["http://[::]/", /unspecified/],
    ["http://[::1]/", /loopback/],
    ["http://[0:0::1]/", /loopback/],
    ["http://169.254.169.254/latest/meta-data/", /linkLocal/],
    ["http://[fe80::1]/", /linkLocal/],
    ["http://[fd00:ec2::254]/", /uniqueLocal/],
    ["http://[fc00::1]/", /uniqueLocal/],
    ["http://[fec0::1]/", /deprecatedSiteLocal|not a global unicast/],
    ["http://[100::1]/", /discard|not a global unicast/],
    ["http://[4000::1]/", /not a global unicast/],
    ["http://255.255.255.255/", /broadcast/],
    ["http://localhost./", /internal host name/],
    ["http://localhost../", /internal host name/],
    ["http://LOCALHOST/", /internal host name/],
    ["http://a.b.localhost./", /internal host name/],
    ["http://printer.LOCAL./", /internal host name/],
    ["http://jenkins./", /single-label/],
  ])("refuses %s", (url, reason) => {
    expect(() => checkWebhookUrl(url, none)).toThrow(reason);
  });

  it.each([
    "https://hooks.example.com/x",
    "http://203.0.114.9/x",
    "http://[::ffff:203.0.114.9]/x", // mapped public: the address it carries is public
    "http://[64:ff9b::cb00:7209]/x", // NAT64 of 203.0.114.9
    "http://[2002:cb00:7209::1]/x", // 6to4 relay 203.0.114.9
    "https://[2606:4700::1111]/x",
  ])("accepts %s (it carries a public unicast address)", (url) => {
    expect(refused(url)).toBe(false);
  });

  it("compares the allow-list in canonical form, and allows only what it names", () => {
    const allow = parseAllowHosts("127.0.0.1, 0:0::1, LOCALHOST., *.corp.internal");
    expect(allow).toEqual(["127.0.0.1", "::1", "localhost", "*.corp.internal"]);
    for (const url of [
      "http://127.0.0.1:8080/",
      "http://2130706433/",
      "http://[::1]/",
      "http://localhost./",
      "http://ci.corp.internal/",
    ]) {
      expect(refused(url, allow), url).toBe(false);
    }
    // A mapped or NAT64 spelling of an allowed address is another host: allow it by name if wanted.
    for (const url of [
      "http://127.0.0.2/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::127.0.0.1]/",
      "http://corp.internal/",
    ]) {
      expect(refused(url, allow), url).toBe(true);
    }
  });
});

/** Every way this suite spells one IPv4 address in a URL. */
function spellings(octets: [number, number, number, number]): string[] {
  const [a, b, c, d] = octets;
  const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  const h = (x: number, y: number) => ((x << 8) | y).toString(16);
  return [
    `http://${octets.join(".")}/`,
    `http://${n}/`,
    `http://0x${n.toString(16)}/`,
    `http://0${n.toString(8)}/`,
    `http://${octets.map((o) => `0${o.toString(8)}`).join(".")}/`,
    `http://0x${a.toString(16)}.${(n & 0xffffff) >>> 0}/`,
    `http://${octets.join(".")}./`,
    `http://[::ffff:${octets.join(".")}]/`,
    `http://[::ffff:${h(a, b)}:${h(c, d)}]/`,
    `http://[0:0:0:0:0:ffff:${octets.join(".")}]/`,
    `http://[::ffff:0:${octets.join(".")}]/`,
    `http://[64:ff9b::${octets.join(".")}]/`,
    `http://[2002:${h(a, b)}:${h(c, d)}::1]/`,
    `http://[::${octets.join(".")}]/`,
  ];
}

const octet = fc.integer({ min: 0, max: 255 });
const anyIPv4 = fc.tuple(octet, octet, octet, octet);
// Internal ranges drawn on purpose, so the property sees plenty of them, not only by chance.
const internalIPv4 = fc.oneof(
  fc.tuple(fc.constant(127), octet, octet, octet),
  fc.tuple(fc.constant(10), octet, octet, octet),
  fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
  fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
  fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
  fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
  fc.tuple(fc.constant(0), octet, octet, octet),
  fc.tuple(fc.integer({ min: 224, max: 255 }), octet, octet, octet),
);

describe("properties", () => {
  it("judges every spelling of an IPv4 address as the address: refused exactly when ipaddr.js says it is not public unicast", () => {
    fc.assert(
      fc.property(fc.oneof(anyIPv4, internalIPv4), (octets) => {
        const internal = ipaddr.fromByteArray(octets).range() !== "unicast";
        for (const url of spellings(octets)) expect(refused(url), url).toBe(internal);
      }),
      { numRuns: 400 },
    );
  });

  it("refuses every IPv6 literal outside 2000::/3 that carries no IPv4, and accepts global unicast", () => {
    const word = fc.integer({ min: 0, max: 0xffff });
    const carriesIPv4 = (p: number[]) =>
      p.slice(0, 6).every((x) => x === 0) || // IPv4-compatible (and :: and ::1)
      (p.slice(0, 5).every((x) => x === 0) && p[5] === 0xffff) || // IPv4-mapped
      (p.slice(0, 4).every((x) => x === 0) && p[4] === 0xffff && p[5] === 0) || // IPv4-translated
      (p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0)); // NAT64
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 7 }), (parts, top) => {
        parts[0] = (parts[0]! & 0x1fff) | (top << 13);
        const address = new ipaddr.IPv6(parts);
        const url = `http://[${address.toString()}]/`;
        if (top !== 1 && !carriesIPv4(parts)) expect(refused(url), url).toBe(true);
        if (top === 1 && address.range() === "unicast") expect(refused(url), url).toBe(false);
        if (address.range() !== "unicast" && !["ipv4Mapped", "rfc6145", "rfc6052", "6to4"].includes(address.range()))
          expect(refused(url), url).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("refuses names that are localhost or internal by convention in any case, with any trailing dots", () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    const suffix = fc.constantFrom(
      "localhost",
      "local",
      "internal",
      "lan",
      "home.arpa",
      "localdomain",
      "corp",
      "intranet",
    );
    fc.assert(
      fc.property(
        fc.array(label, { maxLength: 3 }),
        suffix,
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        (labels, s, dots, upper) => {
          let host = [...labels, s].join(".") + ".".repeat(dots);
          if (upper) host = host.toUpperCase();
          expect(refused(`https://${host}/hook`), host).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
