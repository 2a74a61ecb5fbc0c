// The baseline: the least a module Worker can do. Every registry number in docs/benchmarks.md is a
// ratio to this Worker, served the same way and measured in the same run.
export default {
  fetch() {
    return Response.json({ hello: "world" });
  },
};
