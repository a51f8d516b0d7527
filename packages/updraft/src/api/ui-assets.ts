// Serves the web UI (packages/ui, built by Vite into packages/updraft/ui-dist) at `/`: hashed
// files under /assets/ with a year's immutable cache, and index.html, never cached, for every page
// path of the single-page app (public-routes.ts lists them). Every UI reply carries a strict
// Content-Security-Policy: the build has no inline scripts or styles, so none are allowed.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import { UI_PAGE_ROUTES } from "./auth/public-routes.js";

/** Where `npm run build -w @updraft/ui` writes the UI (from src/api or dist/api alike). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL("../../ui-dist/", import.meta.url));

export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const IMMUTABLE = "public, max-age=31536000, immutable";

function securityHeaders(reply: FastifyReply): void {
  void reply.header("content-security-policy", UI_CONTENT_SECURITY_POLICY);
  void reply.header("x-content-type-options", "nosniff");
  void reply.header("referrer-policy", "same-origin");
  void reply.header("x-frame-options", "DENY");
}

/** The page shown when the UI was not built: says how to build it (a 404, since there is none). */
function notBuiltPage(uiDir: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Updraft: the web UI is not built</title></head>
<body><h1>The web UI is not built</h1>
<p>This Updraft server found no UI in <code>${uiDir.replace(/[<>&"]/g, "")}</code>.
Build it with <code>npm run build -w @updraft/ui</code> (or start with <code>npm start</code>, which builds it),
then reload this page. The REST API works without it, under <code>/api/v1</code>.</p></body></html>`;
}

/**
 * Registers the UI's routes on the root instance.
 *
 * @example
 * ```ts
 * await app.register(uiAssets({ uiDir: DEFAULT_UI_DIR }));
 * ```
 */
export function uiAssets(options: { uiDir?: string } = {}) {
  const uiDir = options.uiDir ?? DEFAULT_UI_DIR;
  const indexFile = join(uiDir, "index.html");
  const assetsDir = join(uiDir, "assets");
  return async function plugin(app: FastifyInstance): Promise<void> {
    // Read per request, not once: a rebuild while the server runs is picked up on reload, and
    // index.html is a few hundred bytes.
    const sendIndex = async (_request: unknown, reply: FastifyReply) => {
      securityHeaders(reply);
      void reply.header("cache-control", "no-cache");
      let html: string;
      try {
        html = await readFile(indexFile, "utf8");
      } catch {
        return reply.code(404).type("text/html; charset=utf-8").send(notBuiltPage(uiDir));
      }
      return reply.type("text/html; charset=utf-8").send(html);
    };
    for (const url of UI_PAGE_ROUTES) app.get(url, sendIndex);

    if (existsSync(assetsDir)) {
      await app.register(fastifyStatic, {
        root: assetsDir,
        prefix: "/assets/",
        decorateReply: false,
        index: false,
        // Vite names every file under assets/ by its content's hash: it never changes.
        cacheControl: false,
        setHeaders(res) {
          res.setHeader("cache-control", IMMUTABLE);
          res.setHeader("content-security-policy", UI_CONTENT_SECURITY_POLICY);
          res.setHeader("x-content-type-options", "nosniff");
        },
      });
    } else {
      // Not built: the asset routes exist anyway (public-routes.ts lists them) and say why.
      app.get("/assets/*", async (_request, reply) =>
        reply.code(404).type("text/html; charset=utf-8").send(notBuiltPage(uiDir)),
      );
    }
  };
}
