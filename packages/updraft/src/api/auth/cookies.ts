// The two cookies of a login session: the session itself (HttpOnly, so page scripts cannot read
// it) and the CSRF token (readable, so that a page can copy it into X-CSRF-Token: double submit).
export const SESSION_COOKIE = "updraft_session";
export const CSRF_COOKIE = "updraft_csrf";
export const CSRF_HEADER = "x-csrf-token";

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export interface CookieOptions {
  httpOnly: boolean;
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAgeS: number;
}

/** A Set-Cookie value; SameSite=Lax keeps the cookie off cross-site POSTs. */
export function cookie(name: string, value: string, o: CookieOptions): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    "Path=/",
    `Max-Age=${Math.max(0, Math.floor(o.maxAgeS))}`,
    "SameSite=Lax",
    ...(o.httpOnly ? ["HttpOnly"] : []),
    ...(o.secure ? ["Secure"] : []),
  ].join("; ");
}
