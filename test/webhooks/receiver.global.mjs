// Vitest global setup: one webhook receiver for the workerd suites, its URL provided to the tests.
import { startReceiver } from "./receiver.mjs";

export default async function setup(project) {
  const receiver = await startReceiver();
  project.provide("webhookReceiver", receiver.url);
  return () => receiver.close();
}
