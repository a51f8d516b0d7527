import { dag, KubernetesPodOperator, takeRegisteredDags } from "../../src/sdk/index.js";

/** Declares a KubernetesPodOperator "t" with `options` in a throwaway DAG (its checks run in the constructor). */
export function checkPodOptionsForTest(options: Record<string, unknown>): void {
  try {
    dag({ dagId: `check_${Math.random().toString(36).slice(2)}` }, () => {
      new KubernetesPodOperator({ taskId: "t", ...options } as never);
    });
  } finally {
    takeRegisteredDags();
  }
}
