// A stand-in for the Spark operator in the operator tests, until the simulator has its own: it
// watches SparkApplications through the official client (polling), runs each one's driver as a
// Pod `<name>-driver` (container spark-kubernetes-driver: `python <mainApplicationFile> <arguments>`,
// the driver's env and labels, owned by the application so that deleting it removes the driver),
// and moves status.applicationState SUBMITTED → RUNNING → COMPLETED or FAILED as the Spark
// operator does, with its errorMessage for a failed driver.
import { CoreV1Api, CustomObjectsApi, KubeConfig, setHeaderOptions } from "@kubernetes/client-node";

const G = { group: "sparkoperator.k8s.io", version: "v1beta2", plural: "sparkapplications" };

interface App {
  metadata: { name: string; namespace: string; uid: string };
  spec: {
    image?: string;
    mainApplicationFile?: string;
    arguments?: string[];
    driver?: { labels?: Record<string, string>; env?: { name: string; value: string }[] };
  };
  status?: { applicationState?: { state?: string } };
}

export class FakeSparkOperator {
  private stopped = false;
  private readonly loop: Promise<void>;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    kubeconfigPath: string,
    private readonly namespace: string,
  ) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async setState(app: App, state: string, errorMessage?: string): Promise<void> {
    const body = {
      status: {
        applicationState: { state, ...(errorMessage === undefined ? {} : { errorMessage }) },
        driverInfo: { podName: `${app.metadata.name}-driver` },
      },
    };
    await this.custom.patchNamespacedCustomObjectStatus(
      { ...G, namespace: this.namespace, name: app.metadata.name, body },
      setHeaderOptions("Content-Type", "application/merge-patch+json"),
    );
  }

  private async step(app: App): Promise<void> {
    const state = app.status?.applicationState?.state ?? "";
    const driver = `${app.metadata.name}-driver`;
    if (state === "") {
      await this.core.createNamespacedPod({
        namespace: this.namespace,
        body: {
          metadata: {
            name: driver,
            labels: {
              ...app.spec.driver?.labels,
              "spark-role": "driver",
              "sparkoperator.k8s.io/app-name": app.metadata.name,
            },
            ownerReferences: [
              {
                apiVersion: `${G.group}/${G.version}`,
                kind: "SparkApplication",
                name: app.metadata.name,
                uid: app.metadata.uid,
                controller: true,
              },
            ],
          },
          spec: {
            restartPolicy: "Never",
            containers: [
              {
                name: "spark-kubernetes-driver",
                image: app.spec.image ?? "spark",
                command: ["python", app.spec.mainApplicationFile ?? "main.py", ...(app.spec.arguments ?? [])],
                env: app.spec.driver?.env ?? [],
              },
            ],
          },
        },
      });
      await this.setState(app, "SUBMITTED");
      return;
    }
    if (state !== "SUBMITTED" && state !== "RUNNING") return;
    const pod = await this.core
      .readNamespacedPod({ name: driver, namespace: this.namespace })
      .catch(() => undefined);
    const phase = pod?.status?.phase;
    if (phase === "Running" && state === "SUBMITTED") await this.setState(app, "RUNNING");
    if (phase === "Succeeded") await this.setState(app, "COMPLETED");
    if (phase === "Failed") {
      const t = pod?.status?.containerStatuses?.[0]?.state?.terminated;
      await this.setState(
        app,
        "FAILED",
        `driver container failed with ExitCode: ${t?.exitCode ?? "?"}, Reason: ${t?.reason ?? "Error"}`,
      );
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const list = (await this.custom.listNamespacedCustomObject({ ...G, namespace: this.namespace })) as {
          items: App[];
        };
        for (const app of list.items) await this.step(app).catch(() => undefined);
      } catch {
        // the simulator may be closing
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
