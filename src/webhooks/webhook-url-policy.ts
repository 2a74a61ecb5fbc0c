import ipaddr from "ipaddr.js";
import { InvalidParameterError } from "../errors";

// Webhook URLs must not reach into the registry's own network. A Worker cannot resolve DNS, so
// this judges the URL's host as written, after the URL parser's own normalization (which turns
// `2130706433`, `0x7f.1`, `017700000001`, `%31%32%37.0.0.1` and full-width digits into
// 127.0.0.1, and compresses IPv6 literals): IP literals by range (ipaddr.js), IPv6 forms that
// carry an IPv4 address (mapped, translated, compatible, NAT64, 6to4) as the IPv4 address they
// carry, names by what is internal by convention. A public name that resolves to a private
// address is not caught here; on Cloudflare, fetch() from a Worker cannot reach private networks.

const INTERNAL_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".intranet",
  ".lan",
  ".home.arpa",
  ".localdomain",
  ".corp",
];

/** What a URL's host is, as far as the policy cares. */
export type HostClass =
  | { kind: "ip"; address: string; reason: string | null }
  | { kind: "name"; name: string; reason: string | null };

/** Host names or IP literals (IPv6 without brackets); `*.example.com` allows subdomains. */
export function parseAllowHosts(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((h) => allowEntry(h.trim()))
    .filter(Boolean);
}

/** An allow-list entry in the form hosts are compared in: IP literals canonical, names lower case. */
function allowEntry(entry: string): string {
  const bare = entry
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.+$/, "");
  return ipaddr.isValid(bare) ? ipaddr.parse(bare).toString() : bare;
}

/**
 * The URL parser's host, lower case, without brackets or trailing dots. A name that ends in dots
 * goes through the parser again without them, so `127.0.0.1..` or `0x7f.1.` become the address
 * they spell rather than a name.
 */
function canonicalHost(hostname: string): string {
  const host = hostname.toLowerCase();
  if (host.startsWith("[")) return ipaddr.parse(host.slice(1, -1)).toString();
  const trimmed = host.replace(/\.+$/, "");
  if (trimmed === host || trimmed === "") return trimmed;
  try {
    return canonicalHost(new URL(`http://${trimmed}/`).hostname);
  } catch {
    return trimmed;
  }
}

const hex4 = (n: number) => [n >> 8, n & 0xff];

/**
 * The IPv4 address an IPv6 address carries, and the form that carries it (with its article): IPv4-mapped
 * (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96, deprecated), NAT64
 * (64:ff9b::/96) and 6to4 (2002::/16, the relay's IPv4 in bits 16-47).
 */
function carriedIPv4(v6: ipaddr.IPv6): { form: string; v4: ipaddr.IPv4 } | null {
  const p = v6.parts; // always eight 16-bit parts
  const last32 = () => new ipaddr.IPv4([...hex4(p[6]!), ...hex4(p[7]!)]);
  switch (v6.range()) {
    case "ipv4Mapped":
      return { form: "an IPv4-mapped", v4: last32() };
    case "rfc6145":
      return { form: "an IPv4-translated", v4: last32() };
    case "6to4":
      return { form: "a 6to4", v4: new ipaddr.IPv4([...hex4(p[1]!), ...hex4(p[2]!)]) };
    case "rfc6052":
      // 64:ff9b::/96 carries the IPv4 in its last 32 bits; the local-use prefix 64:ff9b:1::/48
      // (RFC 8215) places it where the operator chose, so it is judged as internal as a whole.
      return v6.match(ipaddr.IPv6.parse("64:ff9b::"), 96) ? { form: "a NAT64", v4: last32() } : null;
    default:
      // ::/96 except :: and ::1 (their own ranges): the deprecated IPv4-compatible form.
      return p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7]! > 1)
        ? { form: "an IPv4-compatible", v4: last32() }
        : null;
  }
}

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parse("2000::");

/** Why an IP address is internal, or null when it is public unicast. */
function addressReason(address: ipaddr.IPv4 | ipaddr.IPv6): string | null {
  if (address.kind() === "ipv4") {
    const range = (address as ipaddr.IPv4).range();
    return range === "unicast" ? null : `a ${range} address`;
  }
  const v6 = address as ipaddr.IPv6;
  const carried = carriedIPv4(v6);
  if (carried) {
    const inner = addressReason(carried.v4);
    return inner === null ? null : `${carried.form} IPv6 address carrying ${carried.v4.toString()}, ${inner}`;
  }
  const range = v6.range();
  if (range !== "unicast") return `a ${range} address`;
  // Outside 2000::/3 nothing is allocated as global unicast.
  return v6.match(GLOBAL_UNICAST_V6, 3) ? null : "not a global unicast address";
}

/** How the policy sees a URL's host (already parsed by `new URL`). */
export function classifyHost(hostname: string): HostClass {
  const host = canonicalHost(hostname);
  if (ipaddr.isValid(host)) {
    const address = ipaddr.parse(host);
    return { kind: "ip", address: address.toString(), reason: addressReason(address) };
  }
  if (host === "") return { kind: "name", name: host, reason: "an empty host name" };
  if (host === "localhost") return { kind: "name", name: host, reason: "an internal host name" };
  if (!host.includes(".")) return { kind: "name", name: host, reason: "a single-label (intranet) host name" };
  if (INTERNAL_SUFFIXES.some((s) => host === s.slice(1) || host.endsWith(s)))
    return { kind: "name", name: host, reason: "an internal host name" };
  return { kind: "name", name: host, reason: null };
}

function allowed(host: string, allowHosts: string[]): boolean {
  return allowHosts.some((entry) => entry === host || (entry.startsWith("*.") && host.endsWith(entry.slice(1))));
}

/**
 * Refuses a webhook URL that is not http(s), carries credentials, or points at a private,
 * loopback, link-local or otherwise internal host (in any spelling), unless the host is in
 * `allowHosts` (compared in canonical form: `::1` and `0:0::1` are one entry).
 */
export function checkWebhookUrl(raw: string, allowHosts: string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidParameterError(`Invalid webhook URL '${raw}': not an absolute URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidParameterError(`Invalid webhook URL '${raw}': the scheme must be http or https.`);
  }
  if (url.username || url.password) {
    throw new InvalidParameterError(
      `Invalid webhook URL '${raw}': credentials in the URL are not allowed; use the webhook secret.`,
    );
  }
  const host = classifyHost(url.hostname);
  const shown = host.kind === "ip" ? host.address : host.name;
  if (host.reason && !allowed(shown, allowHosts)) {
    throw new InvalidParameterError(
      `Invalid webhook URL '${raw}': '${shown}' is ${host.reason}. Add it to MODELGATE_WEBHOOK_ALLOW_HOSTS to allow it.`,
    );
  }
  return url;
}
