export {};

declare module "vitest" {
  export interface ProvidedContext {
    /** The base URL of the webhook receiver started by test/webhooks/receiver.global.mjs. */
    webhookReceiver: string;
  }
}
