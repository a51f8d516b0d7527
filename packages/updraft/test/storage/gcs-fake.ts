// A small fake of Google Cloud Storage's JSON API over real HTTP, for the GCS hook and
// S3ToGCSOperator tests: no GCS emulator is published on npm (fake-gcs-server is a Go binary,
// the gcloud emulator needs Java), so this serves the endpoints @google-cloud/storage 7 calls —
// buckets (insert, get), objects (list with prefix/delimiter/pages, get, alt=media download,
// delete), simple multipart uploads and resumable uploads (single request or chunks) — with the
// answers' real shapes: metadata JSON, `x-goog-hash` with real CRC32C and MD5 (the client
// checks both ways), 308 with `Range` for incomplete uploads, JSON errors. Objects are written to
// files, so that a large upload streams through without being held in memory here either.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, statSync, type WriteStream } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli), updated chunk by chunk. */
class Crc32c {
  private crc = 0xffffffff;
  update(buf: Buffer): void {
    let c = this.crc;
    for (const b of buf) c = (CRC32C_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
    this.crc = c >>> 0;
  }
  /** Base64 of the big-endian value, as GCS writes it. */
  base64(): string {
    const out = Buffer.alloc(4);
    out.writeUInt32BE((this.crc ^ 0xffffffff) >>> 0);
    return out.toString("base64");
  }
}

interface StoredObject {
  bucket: string;
  name: string;
  path: string;
  size: number;
  md5: string;
  crc32c: string;
  contentType: string;
  contentEncoding?: string;
  generation: string;
  updated: string;
}

/** An object being written: hashes and size follow the bytes as they arrive. */
class Sink {
  readonly md5 = createHash("md5");
  readonly crc = new Crc32c();
  size = 0;
  readonly file: WriteStream;
  constructor(readonly path: string) {
    this.file = createWriteStream(path);
  }
  /** Writes one request body's bytes (with backpressure); resolves when the body has ended. */
  take(req: IncomingMessage | AsyncIterable<Buffer>): Promise<void> {
    return (async () => {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        this.md5.update(chunk);
        this.crc.update(chunk);
        this.size += chunk.length;
        if (!this.file.write(chunk)) await new Promise<void>((r) => this.file.once("drain", () => r()));
      }
    })();
  }
  end(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.file.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
}

interface Upload {
  bucket: string;
  name: string;
  contentType: string;
  contentEncoding?: string;
  sink: Sink;
  done?: StoredObject;
}

export interface GcsFake {
  url: string;
  /** Objects stored: `bucket/name` → metadata (and the file that holds the bytes). */
  objects: Map<string, StoredObject>;
  /** Every request's method and path, for assertions on what the client did. */
  requests: string[];
  close(): Promise<void>;
}

export async function startGcsFake(dir: string): Promise<GcsFake> {
  mkdirSync(dir, { recursive: true });
  const buckets = new Set<string>();
  const objects = new Map<string, StoredObject>();
  const uploads = new Map<string, Upload>();
  const requests: string[] = [];
  let counter = 0;
  let base = "";

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader("content-type", "application/json; charset=UTF-8");
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, message: string) =>
    json(res, status, {
      error: {
        code: status,
        message,
        errors: [{ message, reason: status === 404 ? "notFound" : "invalid" }],
      },
    });
  const resource = (o: StoredObject) => ({
    kind: "storage#object",
    id: `${o.bucket}/${o.name}/${o.generation}`,
    selfLink: `${base}/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}`,
    name: o.name,
    bucket: o.bucket,
    generation: o.generation,
    metageneration: "1",
    contentType: o.contentType,
    ...(o.contentEncoding === undefined ? {} : { contentEncoding: o.contentEncoding }),
    size: String(o.size),
    md5Hash: o.md5,
    crc32c: o.crc32c,
    timeCreated: o.updated,
    updated: o.updated,
    storageClass: "STANDARD",
  });
  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) parts.push(c);
    return Buffer.concat(parts);
  };
  const finish = async (u: Omit<Upload, "done">): Promise<StoredObject> => {
    await u.sink.end();
    const o: StoredObject = {
      bucket: u.bucket,
      name: u.name,
      path: u.sink.path,
      size: u.sink.size,
      md5: u.sink.md5.digest("base64"),
      crc32c: u.sink.crc.base64(),
      contentType: u.contentType,
      ...(u.contentEncoding === undefined ? {} : { contentEncoding: u.contentEncoding }),
      generation: String(Date.now() * 1000 + ++counter),
      updated: new Date().toISOString(),
    };
    objects.set(`${o.bucket}/${o.name}`, o);
    return o;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", base);
    const method = req.method ?? "GET";
    requests.push(
      `${method} ${url.pathname}${url.searchParams.has("uploadType") ? `?uploadType=${url.searchParams.get("uploadType")}` : ""}`,
    );
    const path = url.pathname.split("/").map((s) => decodeURIComponent(s));
    // ["", "storage", "v1", "b", bucket?, "o"?, name?] or ["", "upload", "storage", "v1", "b", bucket, "o"]
    if (path[1] === "storage" && path[2] === "v1" && path[3] === "b") {
      const bucket = path[4];
      if (bucket === undefined || bucket === "") {
        if (method !== "POST") return error(res, 405, "method");
        const body = JSON.parse((await readBody(req)).toString() || "{}") as { name?: string };
        if (body.name === undefined) return error(res, 400, "Required: name");
        if (buckets.has(body.name))
          return error(
            res,
            409,
            "Your previous request to create the named bucket succeeded and you already own it.",
          );
        buckets.add(body.name);
        return json(res, 200, { kind: "storage#bucket", name: body.name, id: body.name });
      }
      if (!buckets.has(bucket)) return error(res, 404, "The specified bucket does not exist.");
      if (path[5] === undefined) return json(res, 200, { kind: "storage#bucket", name: bucket, id: bucket });
      if (path[5] !== "o") return error(res, 404, "Not Found");
      const name = path.slice(6).join("/");
      if (name === "") {
        if (method !== "GET") return error(res, 405, "method");
        if (url.searchParams.has("matchGlob")) return error(res, 400, "matchGlob is not served by this fake");
        const prefix = url.searchParams.get("prefix") ?? "";
        const delimiter = url.searchParams.get("delimiter") ?? "";
        const max = Number(url.searchParams.get("maxResults") ?? 1000);
        const after = url.searchParams.get("pageToken") ?? "";
        const items: StoredObject[] = [];
        const prefixes = new Set<string>();
        const names = [...objects.values()]
          .filter((o) => o.bucket === bucket && o.name.startsWith(prefix) && o.name > after)
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        let next: string | undefined;
        for (const o of names) {
          if (items.length + prefixes.size >= max) {
            next = items.at(-1)?.name ?? [...prefixes].at(-1);
            break;
          }
          const rest = o.name.slice(prefix.length);
          const cut = delimiter === "" ? -1 : rest.indexOf(delimiter);
          if (cut >= 0) prefixes.add(prefix + rest.slice(0, cut + delimiter.length));
          else items.push(o);
        }
        return json(res, 200, {
          kind: "storage#objects",
          items: items.map(resource),
          ...(prefixes.size > 0 ? { prefixes: [...prefixes] } : {}),
          ...(next === undefined ? {} : { nextPageToken: next }),
        });
      }
      const o = objects.get(`${bucket}/${name}`);
      if (o === undefined) return error(res, 404, `No such object: ${bucket}/${name}`);
      if (method === "DELETE") {
        objects.delete(`${bucket}/${name}`);
        res.statusCode = 204;
        return void res.end();
      }
      if (method !== "GET") return error(res, 405, "method");
      if (url.searchParams.get("alt") !== "media") return json(res, 200, resource(o));
      res.statusCode = 200;
      res.setHeader("content-type", o.contentType);
      res.setHeader("content-length", String(o.size));
      res.setHeader("x-goog-hash", `crc32c=${o.crc32c},md5=${o.md5}`);
      res.setHeader("x-goog-generation", o.generation);
      res.setHeader("x-goog-stored-content-length", String(o.size));
      if (o.contentEncoding !== undefined) res.setHeader("x-goog-stored-content-encoding", o.contentEncoding);
      createReadStream(o.path).pipe(res);
      return;
    }
    if (path[1] === "upload" && path[2] === "storage" && path[4] === "b" && path[6] === "o") {
      const bucket = path[5] ?? "";
      const uploadType = url.searchParams.get("uploadType");
      const uploadId = url.searchParams.get("upload_id");
      if (uploadId !== null) return resumableChunk(req, res, uploadId);
      if (!buckets.has(bucket)) return error(res, 404, "The specified bucket does not exist.");
      if (uploadType === "resumable" && method === "POST") {
        const meta = JSON.parse((await readBody(req)).toString() || "{}") as {
          name?: string;
          contentType?: string;
          contentEncoding?: string;
        };
        const name = url.searchParams.get("name") ?? meta.name;
        if (name === undefined) return error(res, 400, "Required: name");
        const id = `u${++counter}`;
        const contentType =
          meta.contentType ?? String(req.headers["x-upload-content-type"] ?? "application/octet-stream");
        uploads.set(id, {
          bucket,
          name,
          contentType,
          ...(meta.contentEncoding === undefined ? {} : { contentEncoding: meta.contentEncoding }),
          sink: new Sink(join(dir, `${id}.bin`)),
        });
        res.statusCode = 200;
        res.setHeader(
          "location",
          `${base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`,
        );
        return void res.end();
      }
      if (uploadType === "multipart" && method === "POST") return multipart(req, res, bucket, url);
      return error(res, 400, `uploadType ${uploadType ?? "(none)"} is not served by this fake`);
    }
    return error(res, 404, "Not Found");
  }

  async function resumableChunk(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const u = uploads.get(id);
    if (u === undefined) return error(res, 404, "No such upload");
    if (u.done !== undefined) return json(res, 200, resource(u.done));
    const range = String(req.headers["content-range"] ?? "");
    // "bytes */*" (or */total): a status query, no bytes.
    const m = /^bytes (\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(range);
    if (m === null) return error(res, 400, `Content-Range "${range}" is not understood`);
    if (m[1] !== "*") {
      const start = Number(m[2]);
      if (start !== u.sink.size)
        return error(res, 400, `chunk starts at ${start}, ${u.sink.size} bytes were received`);
      await u.sink.take(req);
    } else await readBody(req);
    const total = m[4] === "*" ? null : Number(m[4]);
    // A request whose end is "*" carries the rest of the object; a known total that is reached ends it too.
    const complete = (m[1] !== "*" && m[3] === "*") || (total !== null && u.sink.size === total);
    if (!complete) {
      res.statusCode = 308;
      if (u.sink.size > 0) res.setHeader("range", `bytes=0-${u.sink.size - 1}`);
      return void res.end();
    }
    u.done = await finish(u);
    return json(res, 200, resource(u.done));
  }

  async function multipart(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    url: URL,
  ): Promise<void> {
    const type = String(req.headers["content-type"] ?? "");
    const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
    if (boundary === undefined) return error(res, 400, "multipart upload without a boundary");
    const body = await readBody(req);
    const parts: { headers: string; data: Buffer }[] = [];
    const sep = Buffer.from(`--${boundary}`);
    let at = body.indexOf(sep);
    while (at !== -1) {
      const next = body.indexOf(sep, at + sep.length);
      if (next === -1) break;
      const part = body.subarray(at + sep.length + 2, next - 2); // after CRLF, before CRLF
      const split = part.indexOf("\r\n\r\n");
      parts.push({ headers: part.subarray(0, split).toString(), data: part.subarray(split + 4) });
      at = next;
    }
    const [metaPart, dataPart] = parts;
    if (metaPart === undefined || dataPart === undefined)
      return error(res, 400, "multipart upload needs metadata and media parts");
    const meta = JSON.parse(metaPart.data.toString() || "{}") as {
      name?: string;
      contentType?: string;
      contentEncoding?: string;
    };
    const name = url.searchParams.get("name") ?? meta.name;
    if (name === undefined) return error(res, 400, "Required: name");
    const id = `m${++counter}`;
    const sink = new Sink(join(dir, `${id}.bin`));
    await sink.take(
      (async function* () {
        yield dataPart.data;
      })(),
    );
    const contentType =
      meta.contentType ??
      /content-type:\s*([^\r\n]+)/i.exec(dataPart.headers)?.[1] ??
      "application/octet-stream";
    const o = await finish({
      bucket,
      name,
      contentType,
      ...(meta.contentEncoding === undefined ? {} : { contentEncoding: meta.contentEncoding }),
      sink,
    });
    return json(res, 200, resource(o));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) error(res, 500, err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    objects,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The size of a stored object's file (what the fake received). */
export function storedSize(o: { path: string }): number {
  return statSync(o.path).size;
}
