// Weekly ML training: feature preparation, GPU training and validation each in their own Pod,
// then a notification. Port of the seed's dags/ml_training_pipeline.py (same ids and arguments).
import { dag, KubernetesPodOperator, task } from "updraft";

const notifyCompletion = task("notify_completion", (ctx) => {
  const message = `ML Training Pipeline completed.\nRun: ${ctx.dag_run.run_id}\nDate: ${ctx.ds}\n`;
  console.log(message);
});

export default dag(
  {
    dagId: "ml_training_pipeline",
    description: "Train ML model using Spark for feature prep and custom image for training",
    schedule: "0 2 * * 0", // Weekly on Sunday at 2 AM
    startDate: "2026-01-01",
    catchup: false,
    maxActiveRuns: 1,
    tags: ["ml", "training"],
    defaultArgs: { owner: "ml-engineering", retries: 2, retryDelay: "10m" },
  },
  () => {
    // Task 1: Feature preparation using PySpark
    const prepareFeatures = new KubernetesPodOperator({
      taskId: "prepare_features",
      name: "feature-prep",
      namespace: "airflow",
      image: "my-registry.io/spark-feature-prep:v2.0.0",
      cmds: ["python", "/app/prepare_features.py"],
      arguments: ["--date", "{{ ds }}", "--output", "s3://ml-data/features/"],
      resources: { requests: { cpu: "2", memory: "4Gi" }, limits: { memory: "8Gi" } },
      envVars: { SPARK_MASTER: "k8s://https://kubernetes.default.svc", AWS_REGION: "us-east-1" },
      envFrom: [{ secretRef: { name: "aws-credentials" } }],
      isDeleteOperatorPod: true,
      getLogs: true,
      startupTimeoutSeconds: 300,
    });

    // Task 2: Model training using GPU
    const trainModel = new KubernetesPodOperator({
      taskId: "train_model",
      name: "model-training",
      namespace: "airflow",
      image: "my-registry.io/ml-trainer:v3.1.0",
      cmds: ["python", "/app/train.py"],
      arguments: [
        "--features",
        "s3://ml-data/features/{{ ds }}/",
        "--model-output",
        "s3://ml-models/{{ ds }}/",
        "--epochs",
        "50",
      ],
      resources: {
        requests: { cpu: "4", memory: "16Gi", "nvidia.com/gpu": "1" },
        limits: { memory: "16Gi", "nvidia.com/gpu": "1" },
      },
      nodeSelector: { accelerator: "nvidia-tesla-t4" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      isDeleteOperatorPod: true,
      getLogs: true,
      startupTimeoutSeconds: 600,
    });

    // Task 3: Model validation
    const validateModel = new KubernetesPodOperator({
      taskId: "validate_model",
      name: "model-validation",
      namespace: "airflow",
      image: "my-registry.io/ml-validator:v1.5.0",
      cmds: ["python", "/app/validate.py"],
      arguments: [
        "--model",
        "s3://ml-models/{{ ds }}/",
        "--test-data",
        "s3://ml-data/test/",
        "--threshold",
        "0.85",
      ],
      resources: { requests: { cpu: "2", memory: "4Gi" }, limits: { memory: "4Gi" } },
      isDeleteOperatorPod: true,
      getLogs: true,
    });

    // Task 4: Send Slack notification
    const notify = notifyCompletion();

    prepareFeatures.before(trainModel).before(validateModel).before(notify);
  },
);
