import { CsrfField } from "../components";

/** The sign-in form: an API token in a password field, kept afterwards in an HttpOnly cookie. */
export function SignInPage(props: { csrf: string; next: string; problem?: string }) {
  return (
    <section class="panel" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Sign in</h1>
      {props.problem && (
        <div class="flash error" role="alert">
          {props.problem}
        </div>
      )}
      <p>
        Access control is on. Sign in with an API token: the same token the MLflow client uses as{" "}
        <code>MLFLOW_TRACKING_TOKEN</code>. The page offers only what the token may do.
      </p>
      <form method="post" action="/ui/sign-in">
        <CsrfField token={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <p>
          <label for="token">API token</label>
          <br />
          <input
            id="token"
            type="password"
            name="token"
            autocomplete="current-password"
            required
            maxlength={512}
            size={48}
            autofocus
          />
        </p>
        <p>
          <button type="submit" class="primary">
            Sign in
          </button>
        </p>
      </form>
      <p class="muted">The token is kept in an HttpOnly cookie for this site until you sign out or it expires.</p>
    </section>
  );
}
