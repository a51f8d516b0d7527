// Login with a session cookie (POST /api/v1/auth/login), then back to the page that sent here.
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../lib/api";
import { ME_KEY } from "../lib/auth";
import { navigate, useLocation } from "../lib/router";
import { useTheme } from "../lib/theme";

/** Only a path of this site: `next=https://evil` must not send the user away. */
function safeNext(next: string | null): string {
  return next !== null && next.startsWith("/") && !next.startsWith("//") ? next : "/dags";
}

export function LoginPage() {
  useTheme();
  const { search } = useLocation();
  const client = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST("/api/v1/auth/login", { body: { username, password } }));
      await client.invalidateQueries({ queryKey: ME_KEY });
      navigate(safeNext(search.get("next")), { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="login-page">
      <form className="login-card" onSubmit={(e) => void submit(e)}>
        <h1>
          <span className="brand-mark" aria-hidden="true">
            ▲
          </span>{" "}
          Updraft
        </h1>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            autoFocus
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error !== null && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
        <p className="muted small">
          `npm start` prints the admin&apos;s password the first time; it is also in the file it names.
        </p>
      </form>
    </div>
  );
}
