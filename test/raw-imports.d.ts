// Vite's `?raw` imports: the file's text (used to load the recorded MLflow client fixtures).
declare module "*?raw" {
  const text: string;
  export default text;
}
