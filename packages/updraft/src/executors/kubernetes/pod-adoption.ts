// Adoption: the worker Pods of schedulers that are gone become this scheduler's. Their owner label
// is set to ours, so that our watch reports their ends (Airflow relabels `airflow-worker` the same
// way). Pods already reported and kept (labelled done) stay as they are. Token Secrets that no Pod
// owns, left by a gone scheduler that died between creating a Secret and its Pod, are deleted.
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { labelSafe } from "../../kube/index.js";
import type { ExecutorLogger } from "../executor.js";
import { kubeFailure, type KubeApi } from "./kube-api.js";
import { DONE_LABEL, OWNER_LABEL, WORKER_LABEL } from "./pod-identity.js";

export interface AdoptionInput {
  api: KubeApi;
  namespace: string;
  /** This scheduler's id. */
  owner: string;
  /** Of these owner ids, the ones whose scheduler is gone. */
  gone: (owners: string[]) => Promise<string[]>;
  logger: ExecutorLogger;
  /** Each Pod adopted, as the relabelling answered it. */
  onAdopted: (pod: V1Pod) => void;
}

const ownerOf = (o: V1Pod | V1Secret): string => o.metadata?.labels?.[OWNER_LABEL] ?? "";
const unowned = (s: V1Secret): boolean => (s.metadata?.ownerReferences?.length ?? 0) === 0;

/** Adopts the gone schedulers' Pods; resolves with how many it took. */
export async function adoptPods(input: AdoptionInput): Promise<number> {
  const { api, namespace, logger } = input;
  const mine = labelSafe(input.owner);
  const page = await api.listPods(namespace, `${WORKER_LABEL}=True`);
  const foreign = page.items.filter(
    (p) => ownerOf(p) !== mine && p.metadata?.labels?.[DONE_LABEL] !== "True",
  );
  const secrets = await api.listSecrets(namespace, `${WORKER_LABEL}=True`).catch(() => []);
  const orphans = secrets.filter((s) => unowned(s) && ownerOf(s) !== mine);
  if (foreign.length === 0 && orphans.length === 0) return 0;
  const gone = new Set(await input.gone([...new Set([...foreign, ...orphans].map(ownerOf))]));
  let adopted = 0;
  for (const p of foreign) {
    if (!gone.has(ownerOf(p))) continue;
    const name = p.metadata?.name ?? "";
    try {
      const patched = await api.patchPodLabels(namespace, name, { [OWNER_LABEL]: mine });
      adopted++;
      logger.info({ pod: name, from: ownerOf(p) }, "adopted a worker Pod");
      input.onAdopted(patched);
    } catch (err) {
      logger.warn({ pod: name, error: kubeFailure(err).message }, "could not adopt a worker Pod");
    }
  }
  for (const s of orphans) {
    if (!gone.has(ownerOf(s))) continue;
    const name = s.metadata?.name ?? "";
    await api.deleteSecret(namespace, name).then(
      () => logger.info({ secret: name }, "deleted a token Secret no Pod owns (its scheduler is gone)"),
      () => undefined,
    );
  }
  return adopted;
}
