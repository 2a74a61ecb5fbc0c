/// <reference types="vite/client" />
// The corpus (test/fixtures/pickles/generate.py, run once): each file inlined as a data: URL.
const files = import.meta.glob<string>("../fixtures/pickles/*", {
  query: "?url&inline",
  import: "default",
  eager: true,
});

export function fixtureBytes(name: string): Uint8Array {
  const url = files[`../fixtures/pickles/${name}`];
  if (!url) throw new Error(`fixture ${name} missing`);
  return Uint8Array.from(atob(url.slice(url.indexOf(",") + 1)), (c) => c.charCodeAt(0));
}
