import type { Child } from "hono/jsx";

const TITLES: Record<number, string> = {
  400: "That request could not be handled",
  401: "Sign-in required",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  429: "Too many requests",
  500: "Something went wrong",
  503: "Unavailable",
};

export function errorTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? TITLES[500]! : TITLES[400]!);
}

export function ErrorPage(props: { status: number; message: string; hint?: Child }) {
  return (
    <>
      <h1>{errorTitle(props.status)}</h1>
      <p>{props.message}</p>
      {props.hint}
      <p>
        <a href="/">All models</a>
      </p>
      <p class="muted">HTTP {props.status}</p>
    </>
  );
}
