import ipaddr from "ipaddr.js";
import { InvalidParameterError } from "../errors";

// Webhook URLs must not reach into the registry's own network. A Worker cannot resolve DNS, so
// this judges the URL's host as written: IP literals by range (ipaddr.js), names by what is
// internal by convention (localhost, *.localhost, *.local, *.internal, single-label names). A
// public name that resolves to a private address is not caught here; on Cloudflare, fetch()
// from a Worker cannot reach private networks anyway.

const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".localdomain", ".corp"];

/** Host names or IP literals (IPv6 without brackets); `*.example.com` allows subdomains. */
export function parseAllowHosts(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((h) => normalizeHost(h.trim()))
    .filter(Boolean);
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

function allowed(host: string, allowHosts: string[]): boolean {
  return allowHosts.some((entry) => entry === host || (entry.startsWith("*.") && host.endsWith(entry.slice(1))));
}

/** Why `host` is internal, or null when it looks public. */
function internalReason(host: string): string | null {
  if (ipaddr.isValid(host)) {
    const address = ipaddr.process(host); // IPv4-mapped IPv6 becomes the IPv4 address it carries
    const range = address.range();
    return range === "unicast" ? null : `a ${range} address`;
  }
  if (host === "localhost" || INTERNAL_SUFFIXES.some((s) => host.endsWith(s))) return "an internal host name";
  if (!host.includes(".")) return "a single-label (intranet) host name";
  return null;
}

/**
 * Refuses a webhook URL that is not http(s), carries credentials, or points at a private,
 * loopback, link-local or otherwise internal host, unless the host is in `allowHosts`.
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
    throw new InvalidParameterError(`Invalid webhook URL '${raw}': credentials in the URL are not allowed; use the webhook secret.`);
  }
  const host = normalizeHost(url.hostname);
  const reason = internalReason(host);
  if (reason && !allowed(host, allowHosts)) {
    throw new InvalidParameterError(
      `Invalid webhook URL '${raw}': '${host}' is ${reason}. Add it to MODELGATE_WEBHOOK_ALLOW_HOSTS to allow it.`,
    );
  }
  return url;
}
