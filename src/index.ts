import { createApp } from "./app";

export { ModelCoordinator } from "./coordinator/model-coordinator";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
