// Creates one worker Pod and its token Secret, idempotently: the Pod's name is deterministic, so
// a repeated create (a retry after a timeout whose create did land, or a try queued again after
// its scheduler died) meets 409 AlreadyExists and takes the Pod that is there, never a second one.
import { randomBytes } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import { isTransient, kubeFailure, type KubeApi, type KubeFailure } from "./kube-api.js";
import type { WorkerPod } from "./worker-pod.js";

export type LaunchResult =
  | { kind: "created"; pod: V1Pod }
  /** The Pod was there already (409) and still holds the try: it is the one. */
  | { kind: "exists"; pod: V1Pod }
  | { kind: "failed"; reason: string };

export interface LaunchOptions {
  /** Attempts of a call that fails transiently (no answer, 429, 5xx). Default 5. */
  attempts?: number;
  /** First pause between attempts, doubled each time. Default 200 ms. */
  backoffMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Repeats `call` while it fails transiently; throws the last failure otherwise. */
async function withRetries<T>(call: () => Promise<T>, o: LaunchOptions): Promise<T> {
  const attempts = o.attempts ?? 5;
  let pause = o.backoffMs ?? 200;
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const f = kubeFailure(err);
      if (!isTransient(f) || i >= attempts)
        throw Object.assign(new Error(f.message), { failure: f, attempts: i });
      // The server's Retry-After (429, 503) wins over our own backoff, up to a minute.
      await sleep(f.retryAfterS === undefined ? pause : Math.min(f.retryAfterS * 1000, 60_000));
      pause = Math.min(pause * 2, 5000);
    }
  }
}

function failureOf(err: unknown): KubeFailure & { attempts: number } {
  const e = err as { failure?: KubeFailure; attempts?: number };
  return { ...(e.failure ?? kubeFailure(err)), attempts: e.attempts ?? 1 };
}

function describe(f: KubeFailure & { attempts: number }): string {
  const status = f.code === 0 ? "no answer" : `HTTP ${f.code}`;
  return `${f.message} (${status}${f.attempts > 1 ? ` after ${f.attempts} attempts` : ""})`;
}

function ended(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/**
 * Secret first (the Pod refers to it), then the Pod, then the Pod becomes the Secret's owner so
 * that the Secret is deleted with it. The Secret's name is new on each launch, so that a Pod
 * already there keeps the Secret it has (its token is for the same try) and ours is dropped.
 */
export async function launchPod(
  api: KubeApi,
  namespace: string,
  built: WorkerPod,
  o: LaunchOptions,
): Promise<LaunchResult> {
  const secretName = `${built.name}-token-${randomBytes(3).toString("hex")}`;
  const secret = { ...built.secret, metadata: { ...built.secret.metadata, name: secretName } };
  const pod = structuredClone(built.pod);
  for (const c of pod.spec?.containers ?? [])
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref !== undefined && ref.name === built.secret.metadata?.name) ref.name = secretName;
    }
  try {
    await withRetries(() => api.createSecret(namespace, secret), o);
  } catch (err) {
    const f = failureOf(err);
    return {
      kind: "failed",
      reason: `Could not create the worker Pod's token Secret ${secretName}: ${describe(f)}`,
    };
  }
  const dropSecret = () => api.deleteSecret(namespace, secretName).catch(() => undefined);
  for (let round = 0; ; round++) {
    try {
      const created = await withRetries(() => api.createPod(namespace, pod), o);
      const uid = created.metadata?.uid;
      if (uid !== undefined) {
        await withRetries(
          () =>
            api.setSecretOwner(namespace, secretName, {
              apiVersion: "v1",
              kind: "Pod",
              name: built.name,
              uid,
              blockOwnerDeletion: false,
            }),
          o,
        ).catch(() => undefined);
      }
      return { kind: "created", pod: created };
    } catch (err) {
      const f = failureOf(err);
      if (f.code !== 409) {
        await dropSecret();
        return {
          kind: "failed",
          reason: `The Kubernetes API did not create worker Pod ${built.name}: ${describe(f)}`,
        };
      }
    }
    // 409: a Pod of this name exists. Unless it is an ended leftover, it is this try's Pod.
    let existing: V1Pod;
    try {
      existing = await withRetries(() => api.readPod(namespace, built.name), o);
    } catch (err) {
      const f = failureOf(err);
      if (f.code === 404 && round < 10) continue; // deleted meanwhile: create again
      await dropSecret();
      return { kind: "failed", reason: `Worker Pod ${built.name} exists but cannot be read: ${describe(f)}` };
    }
    // An ended Pod of this name is from an earlier queuing of this same try (a try is queued
    // again under its number only when it never started): it never ran the try, or it did and
    // the execution API refuses our runner's start. Keeping it would leave the try without a Pod.
    if (!ended(existing)) {
      await dropSecret();
      return { kind: "exists", pod: existing };
    }
    if (round >= 10) {
      await dropSecret();
      return {
        kind: "failed",
        reason: `Worker Pod ${built.name} (ended, from an earlier queuing of this try) would not go away`,
      };
    }
    if (existing.metadata?.deletionTimestamp === undefined || existing.metadata.deletionTimestamp === null)
      await api.deletePod(namespace, built.name).catch(() => undefined);
    await sleep(Math.min(200 * 2 ** round, 3000));
  }
}
